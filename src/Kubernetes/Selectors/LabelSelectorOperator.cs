namespace ComfyOperator.Kubernetes.Selectors;

public enum LabelSelectorOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}
