using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workflows;

/// <summary>Refuses bad workflow/scheduling settings at start, naming the setting.</summary>
internal sealed class WorkflowRoutingOptionsValidator : IValidateOptions<WorkflowRoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkflowRoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxPendingPerKey < 0)
        {
            errors.Add($"Router:MaxPendingPerKey must be 0 (no limit) or more, not {options.MaxPendingPerKey}.");
        }

        if (options.AffinityLoadCost is < 0 or > 1000 || double.IsNaN(options.AffinityLoadCost))
        {
            errors.Add($"Router:AffinityLoadCost must be from 0 to 1000 (queued runs a model load is worth), not {options.AffinityLoadCost}.");
        }

        if (options.ModelRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add($"Router:ModelRefreshInterval must be positive, not {options.ModelRefreshInterval}.");
        }

        if (options.Kubernetes.ConfigMapRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add($"Router:Kubernetes:ConfigMapRefreshInterval must be positive, not {options.Kubernetes.ConfigMapRefreshInterval}.");
        }

        foreach (var (key, weight) in options.KeyWeights)
        {
            if (weight is < 1 or > 1000)
            {
                errors.Add($"Router:KeyWeights:{key} must be from 1 to 1000, not {weight}.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.WorkflowsDirectory) && !Directory.Exists(options.WorkflowsDirectory))
        {
            errors.Add($"Router:WorkflowsDirectory '{options.WorkflowsDirectory}' does not exist.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
