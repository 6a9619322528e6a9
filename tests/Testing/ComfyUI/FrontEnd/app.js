// The simulator's stand-in for ComfyUI's front end. Like the real one it speaks to the server through
// relative "api/..." URLs and a WebSocket on /ws?clientId=, so it works the same behind a proxy.
const clientId = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
const $ = (id) => document.getElementById(id);

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function graph(checkpoint, text) {
  const link = (node, slot) => [node, slot];
  return {
    "4": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: checkpoint } },
    "5": { class_type: "EmptyLatentImage", inputs: { width: 64, height: 64, batch_size: 1 } },
    "6": { class_type: "CLIPTextEncode", inputs: { text, clip: link("4", 1) } },
    "7": { class_type: "CLIPTextEncode", inputs: { text: "blurry", clip: link("4", 1) } },
    "3": { class_type: "KSampler", inputs: { seed: Math.floor(Math.random() * 1e9), steps: 3, cfg: 7.5, sampler_name: "euler",
      scheduler: "normal", denoise: 1, model: link("4", 0), positive: link("6", 0), negative: link("7", 0), latent_image: link("5", 0) } },
    "8": { class_type: "VAEDecode", inputs: { samples: link("3", 0), vae: link("4", 2) } },
    "9": { class_type: "SaveImage", inputs: { filename_prefix: "ComfyUI", images: link("8", 0) } },
  };
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws?clientId=${encodeURIComponent(clientId)}`);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "feature_flags", data: { supports_preview_metadata: true } })));
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const message = JSON.parse(event.data);
    if (message.type === "status") {
      $("status").textContent = `Connected; ${message.data.status.exec_info.queue_remaining} queued`;
    } else if (message.type === "executed" && message.data.output?.images) {
      for (const image of message.data.output.images) {
        const img = document.createElement("img");
        img.alt = `Output of prompt ${message.data.prompt_id}`;
        img.src = "api/view?" + new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
        $("output").replaceChildren(img);
      }
    } else if (message.type === "executing" && message.data.node === null) {
      $("status").textContent = `Prompt ${message.data.prompt_id} finished`;
    } else if (message.type === "execution_error") {
      $("status").textContent = `Prompt failed: ${message.data.exception_message}`;
    }
  });
  socket.addEventListener("close", () => { $("status").textContent = "Disconnected"; setTimeout(connect, 1000); });
}

async function queue() {
  const settings = await getJson("api/settings");
  const count = (settings["StandIn.QueueCount"] ?? 0) + 1;
  await fetch("api/settings/StandIn.QueueCount", { method: "POST", body: JSON.stringify(count) });
  const response = await fetch("api/prompt", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: graph($("checkpoint").value, $("text").value), client_id: clientId }),
  });
  const answer = await response.json();
  $("status").textContent = response.ok ? `Queued prompt ${answer.prompt_id} (${count} queued from this browser)` : `Refused: ${answer.error.message}`;
}

async function main() {
  const info = await getJson("api/object_info");
  $("classes").textContent = `${Object.keys(info).length} node classes`;
  for (const name of info.CheckpointLoaderSimple.input.required.ckpt_name[0]) {
    $("checkpoint").append(new Option(name, name));
  }
  for (const url of await getJson("api/extensions")) {
    await import(url);
  }
  $("queue").addEventListener("click", () => queue().catch((error) => { $("status").textContent = String(error); }));
  $("queue").disabled = false;
  connect();
}

main().catch((error) => { $("classes").textContent = `Start-up failed: ${error}`; });
