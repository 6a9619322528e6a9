namespace ComfyOperator.Entities;

/// <summary>Reasons (CamelCase) used on conditions and events.</summary>
public static class ConditionReasons
{
    public const string ProbeSucceeded = "ProbeSucceeded";
    public const string ProbeFailed = "ProbeFailed";
    public const string NotProbed = "NotProbed";
    public const string PodPending = "PodPending";
    public const string PodFailed = "PodFailed";
    public const string NoModelsDeclared = "NoModelsDeclared";
    public const string ModelsSynced = "ModelsSynced";
    public const string ModelsSyncing = "ModelsSyncing";
    public const string ModelsSyncFailed = "ModelsSyncFailed";
    public const string ExternalNode = "ExternalNode";
    public const string NodeReady = "NodeReady";
    public const string NodeNotReady = "NodeNotReady";
    public const string Valid = "Valid";
    public const string Invalid = "Invalid";
    public const string ReplicasReady = "ReplicasReady";
    public const string NoReplicasReady = "NoReplicasReady";
    public const string ScalingUp = "ScalingUp";
    public const string ScalingDown = "ScalingDown";
    public const string ScaledToZero = "ScaledToZero";
    public const string Stable = "Stable";
    public const string RouterUnavailable = "RouterUnavailable";
    public const string NoRouter = "NoRouter";
    public const string PodOutdated = "PodOutdated";
    public const string PodCurrent = "PodCurrent";
    public const string RollingOut = "RollingOut";
    public const string RolledOut = "RolledOut";
}
