namespace ComfyOperator.Router.Nodes;

/// <summary>A worker added through <c>POST /v1/nodes</c>, as the router database keeps it.</summary>
/// <param name="Url">The worker's base URL (normalised: http(s), trailing slash, no query).</param>
/// <param name="Labels">Labels workflows select on.</param>
/// <param name="MaxQueue">The worker's own queue allowance; null = the router's MaxQueuePerWorker.</param>
/// <param name="Cordoned">Takes no new runs.</param>
/// <param name="Draining">Being removed: cordoned, and deleted once it has no run left.</param>
/// <param name="AddedAt">When it was added.</param>
internal sealed record StoredNode(Uri Url, IReadOnlyDictionary<string, string> Labels, int? MaxQueue, bool Cordoned, bool Draining, DateTimeOffset AddedAt)
{
    /// <summary>Record equality with the labels compared by content (a dictionary compares by reference).</summary>
    public bool Equals(StoredNode? other) =>
        other is not null
        && Url == other.Url
        && MaxQueue == other.MaxQueue
        && Cordoned == other.Cordoned
        && Draining == other.Draining
        && AddedAt == other.AddedAt
        && Labels.Count == other.Labels.Count
        && Labels.All(l => other.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    public override int GetHashCode() => HashCode.Combine(Url, MaxQueue, Cordoned, Draining, AddedAt, Labels.Count);
}
