namespace ComfyOperator.Kubernetes.Resources;

/// <summary>The three values a condition's status takes.</summary>
public static class ConditionStatus
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";
}
