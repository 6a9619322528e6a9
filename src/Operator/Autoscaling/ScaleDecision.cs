namespace ComfyOperator.Operator.Autoscaling;

/// <summary>
/// The replicas a WorkflowDeployment should have now, the reason (a <c>ConditionReasons</c> value),
/// a message for the condition and events, whether that is a change, and the state to remember.
/// </summary>
internal sealed record ScaleDecision(int Replicas, string Reason, string Message, bool Changed, ScaleState State);
