using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class JobStatus
{
    public int? Active { get; set; }

    public int? Succeeded { get; set; }

    public int? Failed { get; set; }

    public int? Ready { get; set; }

    public DateTimeOffset? StartTime { get; set; }

    public DateTimeOffset? CompletionTime { get; set; }

    public IList<JobCondition>? Conditions { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
