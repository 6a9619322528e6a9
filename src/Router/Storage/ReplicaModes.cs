namespace ComfyOperator.Router.Storage;

/// <summary>The values of <c>Router:Store:ReplicaMode</c>.</summary>
internal static class ReplicaModes
{
    /// <summary>One replica is active at a time; the others wait for its lease (<see cref="IActiveReplicaLease"/>).</summary>
    public const string Standby = "standby";

    /// <summary>Every replica serves requests and drives the workers it holds a lease on.</summary>
    public const string Active = "active";

    public static readonly IReadOnlyList<string> All = [Standby, Active];
}
