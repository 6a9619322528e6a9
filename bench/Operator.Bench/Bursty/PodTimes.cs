namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>One pod's times as the ledger saw them.</summary>
internal sealed class PodTimes(string name, DateTimeOffset created)
{
    public string Name { get; } = name;

    public DateTimeOffset Created { get; } = created;

    public DateTimeOffset? Ready { get; set; }

    public DateTimeOffset? Gone { get; set; }
}
