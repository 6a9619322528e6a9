namespace ComfyOperator.Operator.Controllers;

/// <summary>Probe settings used when a node's <c>spec.probe</c> leaves them out.</summary>
internal sealed record ProbeDefaults(int PeriodSeconds = 10, int TimeoutSeconds = 5, int FailureThreshold = 3);
