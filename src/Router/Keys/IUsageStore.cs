namespace ComfyOperator.Router.Keys;

/// <summary>Usage read from the run store's runs (so it is as old as the run history the router keeps).</summary>
internal interface IUsageStore
{
    /// <summary>Runs submitted at or after <paramref name="since"/>, per owner and workflow.</summary>
    Task<IReadOnlyList<UsageRow>> UsageAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
