using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Workflows;

namespace ComfyOperator.Router.Inputs;

/// <summary>
/// The seam between the run lifecycle and the input cache. A graph input on a loader (LoadImage
/// <c>image</c>, LoadImageMask, LoadVideo, LoadAudio, model names such as <c>ckpt_name</c> or
/// <c>lora_name</c>) may be an http(s) URL, a <c>data:</c> URI or <c>cache:&lt;file&gt;</c> (a file
/// already in the cache, e.g. a multipart upload). Such inputs are checked at submit, resolved into
/// the cache and pinned before a worker is reserved, made visible on the chosen worker, and unpinned
/// when the run finishes. Refusals are <see cref="InputRefusedException"/>s naming
/// <c>workflow.&lt;node&gt;.inputs.&lt;input&gt;</c> and the reason.
/// </summary>
internal interface IRunInputResolver
{
    /// <summary>
    /// At submit: finds the inputs, refuses what can never work (scheme, private address, a model
    /// URL without shared volumes, an unknown cache file), stores data URIs and rewrites them in
    /// <paramref name="graph"/> to <c>cache:</c> references. Cache files are pinned (FileName set);
    /// URLs are left for <see cref="ResolveAsync"/>.
    /// </summary>
    Task<IReadOnlyList<RunInput>> PrepareAsync(WorkflowGraph graph, CancellationToken cancellationToken);

    /// <summary>Downloads (single-flight, cached) and pins every unresolved input. On a refusal the pins taken here are released.</summary>
    Task<IReadOnlyList<RunInput>> ResolveAsync(IReadOnlyList<RunInput> inputs, CancellationToken cancellationToken);

    /// <summary>Makes each resolved file visible on <paramref name="worker"/> and rewrites its value in <paramref name="graph"/>.</summary>
    Task ApplyAsync(JsonObject graph, IReadOnlyList<RunInput> inputs, ComfyClient worker, CancellationToken cancellationToken);

    /// <summary>Unpins the resolved inputs (the run finished, or its submission was not stored).</summary>
    void Release(IEnumerable<RunInput> inputs);

    /// <summary>After a restart: the pins become exactly the resolved inputs of the unfinished runs.</summary>
    void RestorePins(IEnumerable<RunInput> inputs);
}
