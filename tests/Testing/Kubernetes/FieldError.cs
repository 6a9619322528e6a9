namespace ComfyOperator.Testing.Kubernetes;

/// <summary>One validation failure: cause type, field path (no leading dot) and message body.</summary>
internal sealed record FieldError(string Reason, string Field, string Body)
{
    public override string ToString() => $"{Field}: {Body}";
}
