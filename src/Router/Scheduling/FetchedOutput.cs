using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>One output file's copy (<see cref="RunOutputFetcher"/>): the stored output, or why there is none.</summary>
/// <param name="Output">The stored output, named after the file (the run may give it another name).</param>
/// <param name="FetchError">The worker did not give the file.</param>
/// <param name="StoreError">The worker gave the file and the output store did not take it.</param>
internal sealed record FetchedOutput(RunOutput? Output, Exception? FetchError, Exception? StoreError);
