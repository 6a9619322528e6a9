namespace ComfyOperator.Router.Scheduling;

/// <summary>Higher priority first, then older (lower sequence) first.</summary>
internal sealed class QueuedRunComparer : IComparer<QueuedRun>
{
    public static QueuedRunComparer Instance { get; } = new();

    public int Compare(QueuedRun? x, QueuedRun? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var byPriority = y.Priority.CompareTo(x.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        var bySequence = x.Sequence.CompareTo(y.Sequence);
        return bySequence != 0 ? bySequence : string.CompareOrdinal(x.RunId, y.RunId);
    }
}
