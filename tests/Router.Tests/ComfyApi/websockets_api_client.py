# A ComfyUI API client written the way ComfyUI's script_examples/websockets_api_example.py is,
# pointed at the router: queue a prompt with a client id, wait on the WebSocket for `executing`
# with node None, read /history and fetch each image through /view.
# Usage: websockets_api_client.py HOST:PORT API_KEY PROMPT.json  (prints a JSON summary)
import json
import sys
import urllib.parse
import urllib.request
import uuid

import websocket  # Debian's python3-websocket (websocket-client)

server_address = sys.argv[1]
token = sys.argv[2]
client_id = str(uuid.uuid4())


def queue_prompt(prompt, prompt_id):
    p = {"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id}
    data = json.dumps(p).encode("utf-8")
    req = urllib.request.Request("http://{}/prompt?token={}".format(server_address, token), data=data)
    return json.loads(urllib.request.urlopen(req).read())


def get_image(filename, subfolder, folder_type):
    data = {"filename": filename, "subfolder": subfolder, "type": folder_type, "token": token}
    url_values = urllib.parse.urlencode(data)
    with urllib.request.urlopen("http://{}/view?{}".format(server_address, url_values)) as response:
        return response.read()


def get_history(prompt_id):
    with urllib.request.urlopen("http://{}/history/{}?token={}".format(server_address, prompt_id, token)) as response:
        return json.loads(response.read())


def get_images(ws, prompt):
    prompt_id = str(uuid.uuid4())
    queued = queue_prompt(prompt, prompt_id)
    seen = set()
    output_images = {}
    while True:
        out = ws.recv()
        if isinstance(out, str):
            message = json.loads(out)
            data = message["data"]
            if "prompt_id" in data:
                seen.add(data["prompt_id"])
            if message["type"] == "executing":
                if data["node"] is None and data["prompt_id"] == prompt_id:
                    break  # Execution is done
        else:
            continue  # previews are binary data

    history = get_history(prompt_id)[prompt_id]
    for node_id in history["outputs"]:
        node_output = history["outputs"][node_id]
        images_output = []
        if "images" in node_output:
            for image in node_output["images"]:
                image_data = get_image(image["filename"], image["subfolder"], image["type"])
                images_output.append(image_data)
        output_images[node_id] = images_output

    return queued, prompt_id, seen, output_images


with open(sys.argv[3]) as f:
    prompt = json.load(f)

ws = websocket.WebSocket()
ws.connect("ws://{}/ws?clientId={}&token={}".format(server_address, client_id, token))
queued, prompt_id, seen, images = get_images(ws, prompt)
ws.close()

print(json.dumps({
    "prompt_id": prompt_id,
    "answered_prompt_id": queued["prompt_id"],
    "prompt_ids_seen": sorted(seen),
    "images": sum(len(i) for i in images.values()),
    "png": all(d[:8] == b"\x89PNG\r\n\x1a\n" for i in images.values() for d in i),
}))
