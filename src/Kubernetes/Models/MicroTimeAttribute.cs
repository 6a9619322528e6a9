namespace ComfyOperator.Kubernetes.Models;

/// <summary>
/// Marks a timestamp as a <c>metav1.MicroTime</c> (6 fractional digits on the wire, as Lease
/// renewTime and Event eventTime are); unmarked timestamps are <c>metav1.Time</c>, whole seconds.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MicroTimeAttribute : System.Text.Json.Serialization.JsonConverterAttribute
{
    public MicroTimeAttribute()
        : base(typeof(Serialization.MicroTimeJsonConverter))
    {
    }
}
