using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Operator.Models;
using k8s;

namespace ComfyOperator.Operator.Cli;

/// <summary>The <c>sync-models</c> verb: exit 0 when every file is in the cache, 1 with a summary otherwise.</summary>
internal static class SyncModelsCommand
{
    public static async Task<int> RunAsync(FileInfo manifest, DirectoryInfo cache, int attempts, TextWriter output, CancellationToken cancellationToken)
    {
        IReadOnlyList<ModelFile> models;
        try
        {
            await using var stream = manifest.OpenRead();
            models = KubernetesJson.Deserialize<List<ModelFile>>(stream) ?? [];
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"sync-models: cannot read the model list {manifest.FullName}: {e.Message}");
            return 1;
        }

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("comfy-operator-sync-models/1");
        var synchronizer = new ModelSynchronizer(http, new ModelSyncOptions { Attempts = Math.Max(1, attempts) }, TimeProvider.System, output);
        var results = await synchronizer.SyncAsync(models, cache.FullName, cancellationToken);
        var failed = results.Where(r => r.Outcome == ModelSyncOutcome.Failed).ToList();
        await output.WriteLineAsync($"sync-models: {results.Count - failed.Count} of {results.Count} files in the cache at {cache.FullName}");
        foreach (var failure in failed)
        {
            await output.WriteLineAsync($"sync-models: FAILED {failure.RelativePath}: {failure.Error}");
        }

        return failed.Count == 0 ? 0 : 1;
    }
}
