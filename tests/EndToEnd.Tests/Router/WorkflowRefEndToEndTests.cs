using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.EndToEnd.Tests.Operator;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>
/// A WorkflowDeployment whose graph lives in a ConfigMap (<c>spec.workflowRef</c>), applied with
/// kubectl to the emulator: the router serves it, follows edits of the ConfigMap alone, and picks
/// up a ConfigMap created after the deployment that names it.
/// </summary>
public sealed class WorkflowRefEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly OperatorEnvironment _env = new();

    public Task InitializeAsync() => _env.InitializeAsync();

    public Task DisposeAsync() => _env.DisposeAsync();

    [Fact]
    public async Task WorkflowRef_ConfigMapEditedOrCreatedLater_RouterServesTheCurrentGraph()
    {
        var ns = await _env.CreateNamespaceAsync("wfref");
        await _env.ApplyAsync(ns, ConfigMap("graphs", Graph(withPromptNode: true)) + "\n---\n" + Deployment("portrait", "graphs") + "\n---\n" + Deployment("late", "made-later"));

        await using var router = KubernetesRouter.Create(_env, ns, new Dictionary<string, string> { ["Router:Kubernetes:ConfigMapRefreshInterval"] = "00:00:00.200" });
        using var client = KubernetesRouter.CreateClient(router);

        // Served from the ConfigMap; the other names a ConfigMap that does not exist yet.
        await ProblemsAsync(client, "portrait", p => p.Count == 0, "portrait valid");
        var late = await ProblemsAsync(client, "late", p => p.Count > 0, "late invalid");
        Assert.Contains(late, p => p.Contains("made-later", StringComparison.Ordinal));

        // Editing only the ConfigMap: the input now points at a node the graph no longer has.
        await _env.ApplyAsync(ns, ConfigMap("graphs", Graph(withPromptNode: false)));
        var edited = await ProblemsAsync(client, "portrait", p => p.Count > 0, "portrait invalid after the edit");
        Assert.Contains(edited, p => p.Contains("no node '6'", StringComparison.Ordinal));

        // And back; and the missing ConfigMap appears.
        await _env.ApplyAsync(ns, ConfigMap("graphs", Graph(withPromptNode: true)) + "\n---\n" + ConfigMap("made-later", Graph(withPromptNode: true)));
        await ProblemsAsync(client, "portrait", p => p.Count == 0, "portrait valid again");
        await ProblemsAsync(client, "late", p => p.Count == 0, "late valid once its ConfigMap exists");

        // A deleted ConfigMap makes the workflow Invalid again instead of serving a stale graph.
        await _env.KubectlOkAsync("delete", "configmap/made-later", "-n", ns);
        await ProblemsAsync(client, "late", p => p.Count > 0, "late invalid after its ConfigMap is deleted");
    }

    private static async Task<IReadOnlyList<string>> ProblemsAsync(HttpClient client, string name, Func<IReadOnlyList<string>, bool> condition, string what) =>
        await OperatorEnvironment.WaitForAsync(
            async () =>
            {
                using var response = await client.GetAsync($"/v1/workflows/{name}");
                if (!response.IsSuccessStatusCode)
                {
                    return (IReadOnlyList<string>?)null;
                }

                var workflow = await response.Content.ReadFromJsonAsync<JsonElement>();
                return [.. workflow.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!)];
            },
            p => p is not null && condition(p),
            Timeout,
            what) ?? [];

    private static string Graph(bool withPromptNode)
    {
        var prompt = withPromptNode ? "\"6\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": {\"text\": \"a portrait\", \"clip\": [\"4\", 1]}}," : "";
        var positive = withPromptNode ? "6" : "7";
        return """
            {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
             "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
             PROMPT_NODE
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
             "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 3, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["POSITIVE", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
             "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
             "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "portrait", "images": ["8", 0]}}}
            """.Replace("PROMPT_NODE", prompt, StringComparison.Ordinal).Replace("POSITIVE", positive, StringComparison.Ordinal);
    }

    private static string ConfigMap(string name, string graph) => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
        data:
          workflow.json: |
        {string.Join('\n', graph.Split('\n').Select(line => "    " + line.Trim()))}
        """;

    private static string Deployment(string name, string configMap) => $"""
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: {name}
        spec:
          workflowRef:
            name: {configMap}
            key: workflow.json
          inputs:
            - name: prompt
              node: "6"
              input: text
              type: string
          outputs:
            - name: image
              node: "9"
        """;
}
