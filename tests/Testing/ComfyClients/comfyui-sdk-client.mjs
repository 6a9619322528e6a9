// A ComfyUI client built on @saintno/comfyui-sdk, used the way its README shows, pointed at the
// router: connect with a Bearer token, list the node classes and models (also the model library's
// /experiment/models), queue an API-format graph
// through PromptBuilder + CallWrapper (which follow the prompt over the library's WebSocket), read
// its history and download each image through /view.
// Usage: node comfyui-sdk-client.mjs BASE_URL API_KEY PROMPT.json  (prints a JSON summary)
import { readFileSync } from "node:fs";
import { CallWrapper, ComfyApi, PromptBuilder } from "@saintno/comfyui-sdk";

const [base, token, graphFile] = process.argv.slice(2);
const deadline = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 90_000);

const graph = JSON.parse(readFileSync(graphFile, "utf8"));
const nodeOf = (classType) => Object.keys(graph).find((id) => graph[id].class_type === classType);

const api = new ComfyApi(base, undefined, { credentials: { type: "bearer_token", token } });
const messages = [];
api.on("all", (event) => messages.push(event.detail));
let authFailed = false;
api.on("auth_error", () => (authFailed = true));
await api.init().waitForReady();
await new Promise((resolve) => {
  if (api.socket?.client?.readyState === 1) {
    resolve();
  } else {
    api.on("connected", () => resolve());
  }
});

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
const result = await new CallWrapper(api, workflow)
  .onPending((id) => (promptId = id))
  .onFailed((error) => (failure = `${error.name}: ${error.message} ${JSON.stringify(error.cause ?? null)}`))
  .run();

const images = result ? result.images.images : [];
const pngs = [];
for (const image of images) {
  const bytes = new Uint8Array(await (await api.getImage(image)).arrayBuffer());
  pngs.push(bytes.length > 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b));
}

// CallWrapper finishes on the last `executed`; ComfyUI (and the router) fill the history once the
// prompt ends (`execution_success`), so read it then, as on a ComfyUI server.
await new Promise((resolve) => {
  const ended = (m) => m.type === "execution_success" && m.data?.prompt_id === promptId;
  if (!promptId || messages.some(ended)) {
    resolve();
  } else {
    api.on("all", (event) => ended(event.detail) && resolve());
  }
});
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
