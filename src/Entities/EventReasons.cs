namespace ComfyOperator.Entities;

/// <summary>Reasons of the Kubernetes Events the operator records.</summary>
public static class EventReasons
{
    public const string NodeOffline = "NodeOffline";
    public const string NodeRecovered = "NodeRecovered";
    public const string NodeReady = "NodeReady";
    public const string ModelsSyncFailed = "ModelsSyncFailed";
    public const string PodCreated = "PodCreated";
    public const string PodReplaced = "PodReplaced";
    public const string PodFailed = "PodFailed";
    public const string WorkflowInvalid = "WorkflowInvalid";
    public const string WorkflowValid = "WorkflowValid";
    public const string ScaledUp = "ScaledUp";
    public const string ScaledDown = "ScaledDown";
    public const string ScalingUp = "ScalingUp";
    public const string ScalingDown = "ScalingDown";
    public const string ScaledToZero = "ScaledToZero";
    public const string Draining = "Draining";
    public const string Drained = "Drained";
    public const string DrainTimedOut = "DrainTimedOut";
    public const string RollingUpdate = "RollingUpdate";
    public const string RolledOut = "RolledOut";
}
