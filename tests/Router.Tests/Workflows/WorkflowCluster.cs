using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.Workflows;

/// <summary>A simulated cluster whose router also reads WorkflowDeployment files from a directory.</summary>
internal static class WorkflowCluster
{
    public const string Ghost = """
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: ghost
        spec:
          workflow:
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ghost.safetensors"}}
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "boo", "clip": ["4", 1]}}
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 2, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0], "latent_image": ["5", 0]}}
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}}
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ghost", "images": ["8", 0]}}
          inputs:
            - {name: prompt, node: "6", input: text, type: string}
        ---
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: ghost-wait
          annotations:
            comfyoperator.io/queue-when-unavailable: "true"
        spec:
          workflow:
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ghost.safetensors"}}
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "boo", "clip": ["4", 1]}}
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 2, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0], "latent_image": ["5", 0]}}
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}}
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ghost", "images": ["8", 0]}}
          inputs:
            - {name: prompt, node: "6", input: text, type: string}
          limits:
            maxPending: 4
        ---
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: broken
        spec:
          preset: sd15
          outputs:
            - {name: image, node: "77"}
        ---
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: gpu-a100
        spec:
          preset: sd15
          nodeSelector:
            gpu: a100
        """;

    public static async Task<SimulatedCluster> StartAsync(int workers = 1, Action<ComfyUiSimulatorOptions>? configure = null, IDictionary<string, string?>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("router-workflows-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "portrait.yaml"), WorkflowYaml.Portrait);
        await File.WriteAllTextAsync(Path.Combine(directory, "more.yaml"), Ghost);
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Router:WorkflowsDirectory"] = directory };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var cluster = await SimulatedCluster.StartAsync(workers, configure, all);
        await WaitReadyAsync(cluster.Client, "sd15");
        return cluster;
    }

    /// <summary>Waits until the workflow has a ready worker (health probed and model lists read).</summary>
    public static Task WaitReadyAsync(HttpClient client, string workflow) =>
        Wait.UntilAsync(async () =>
        {
            var body = await client.GetFromJsonAsync<JsonElement>($"/v1/workflows/{workflow}");
            return body.GetProperty("readiness").GetProperty("ready").GetInt32() > 0;
        }, TimeSpan.FromSeconds(30), $"workflow {workflow} to have a ready worker");
}
