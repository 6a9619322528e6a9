// A ComfyUI client built on @saintno/comfyui-sdk, used the way its README shows, pointed at the
// router: connect with a Bearer token, list the node classes and models (also the model library's
// /experiment/models), queue an API-format graph
// through PromptBuilder + CallWrapper (which follow the prompt over the library's WebSocket), read
// its history and download each image through /view.
// Usage: node comfyui-sdk-client.mjs BASE_URL API_KEY PROMPT.json  (prints a JSON summary)
import { readFileSync } from "node:fs";
import { CallWrapper, ComfyApi, PromptBuilder } from "@saintno/comfyui-sdk";

const [base, token, graphFile] = process.argv.slice(2);

// What the program saw, printed if it times out, so a hang says where the library waited: each HTTP
// call the library made (and for the prompt, queue and history its answer), each WebSocket message, the
// library's own events and socket log, and the step this program was at. Times are ms since the start.
const started = performance.now();
const trace = [];
let step = "start";
const note = (what, detail = "") => trace.push(`${(performance.now() - started).toFixed(1).padStart(8)} ${what} ${detail}`);
const answered = (path) => /^\/(api\/)?(prompt|queue|history)/.test(path);
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, options) => {
  const target = new URL(url);
  const call = `${options?.method ?? "GET"} ${target.pathname}${target.search}`;
  note("http>", call);
  try {
    const response = await realFetch(url, options);
    if (answered(target.pathname)) {
      response.clone().text().then((body) => note("http<", `${call} ${response.status} ${body.slice(0, 400)}`), (e) => note("http<", `${call} ${response.status} body unread: ${e}`));
    } else {
      note("http<", `${call} ${response.status}`);
    }
    return response;
  } catch (e) {
    note("http!", `${call} ${e}`);
    throw e;
  }
};
const deadline = setTimeout(() => {
  console.error(`timed out at step "${step}"; what the program saw:\n${trace.join("\n")}`);
  process.exit(2);
}, 90_000);

const graph = JSON.parse(readFileSync(graphFile, "utf8"));
const nodeOf = (classType) => Object.keys(graph).find((id) => graph[id].class_type === classType);

const api = new ComfyApi(base, undefined, { credentials: { type: "bearer_token", token } });
const messages = [];
api.on("all", (event) => messages.push(event.detail));
api.on("all", ({ detail: { type, data } }) =>
  note("ws", `${type} ${type === "status" ? JSON.stringify(data) : `${data.prompt_id ?? ""} ${data.node ?? (type === "executing" ? "null" : "")}`}`));
api.on("b_preview", () => note("ws", "binary preview"));
for (const event of ["connected", "disconnected", "reconnecting", "reconnected", "reconnection_failed", "websocket_unavailable", "connection_error", "auth_error", "queue_error"]) {
  api.on(event, () => note("sdk", event));
}
api.on("log", ({ detail: { fnName, message } }) => fnName === "socket" && note("sdk", `socket: ${message}`));
let authFailed = false;
api.on("auth_error", () => (authFailed = true));
step = "connecting";
await api.init().waitForReady();
await new Promise((resolve) => {
  if (api.socket?.client?.readyState === 1) {
    resolve();
  } else {
    api.on("connected", () => resolve());
  }
});

step = "listing the fleet";
const nodeDefs = await api.getNodeDefs();
const checkpoints = await api.getCheckpoints();
const samplers = await api.getSamplerInfo();
const modelTypes = await api.getModelTypes();
const checkpointFiles = await api.getModels("checkpoints");
const modelFolders = await api.getModelFolders();
const checkpointModels = await api.getModelFiles("checkpoints");

const workflow = new PromptBuilder(graph, ["positive", "seed"], ["images"])
  .setInputNode("positive", `${nodeOf("CLIPTextEncode")}.inputs.text`)
  .setInputNode("seed", `${nodeOf("KSampler")}.inputs.seed`)
  .setOutputNode("images", nodeOf("SaveImage"))
  .input("positive", "from the comfyui-sdk")
  .input("seed", 7);

// CallWrapper follows the prompt on the WebSocket (`executing`, `executed`...) and, when the prompt is
// over by the time it looks, takes the outputs from the history instead: either way it ends with them.
let promptId = null;
let failure = null;
step = "CallWrapper.run";
const result = await new CallWrapper(api, workflow)
  .onPending((id) => {
    promptId = id;
    note("CallWrapper", `pending ${id}`);
  })
  .onStart((id) => note("CallWrapper", `started ${id}`))
  .onOutput((key, _, id) => note("CallWrapper", `output ${key} ${id}`))
  .onFinished((_, id) => note("CallWrapper", `finished ${id}`))
  .onFailed((error) => {
    failure = `${error.name}: ${error.message} ${JSON.stringify(error.cause ?? null)}`;
    note("CallWrapper", `failed ${failure}`);
  })
  .run();
note("CallWrapper", `run returned ${result ? "outputs" : result}`);

const images = result ? result.images.images : [];
const pngs = [];
step = "getImage";
for (const image of images) {
  const bytes = new Uint8Array(await (await api.getImage(image)).arrayBuffer());
  pngs.push(bytes.length > 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b));
}

// CallWrapper finishes on the last `executed`; ComfyUI (and the router) fill the history once the
// prompt ends (`execution_success`), so read it then, as on a ComfyUI server.
step = "waiting for execution_success";
await new Promise((resolve) => {
  const ended = (m) => m.type === "execution_success" && m.data?.prompt_id === promptId;
  if (!promptId || messages.some(ended)) {
    resolve();
  } else {
    api.on("all", (event) => ended(event.detail) && resolve());
  }
});
step = "getHistory";
const history = promptId ? await api.getHistory(promptId) : null;
const ownMessages = messages.filter((m) => m.data?.prompt_id === promptId);
console.log(JSON.stringify({
  authFailed,
  failure,
  promptId,
  nodeClasses: Object.keys(nodeDefs ?? {}).length,
  hasKSampler: Boolean(nodeDefs?.KSampler),
  checkpoints,
  samplers: samplers.sampler?.[0] ?? [],
  modelTypes: modelTypes.map((t) => t.name ?? t),
  checkpointFiles: checkpointFiles.map((f) => f.name ?? f),
  modelFolders: modelFolders.map((f) => f.name),
  checkpointModels: checkpointModels.map((f) => f.name),
  images: images.length,
  pngs,
  historyCompleted: history?.status?.completed ?? false,
  historyImages: Object.values(history?.outputs ?? {}).flatMap((o) => o.images ?? []).length,
  messageTypes: [...new Set(ownMessages.map((m) => m.type))],
}));
api.destroy();
clearTimeout(deadline);
