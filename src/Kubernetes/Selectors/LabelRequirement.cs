namespace ComfyOperator.Kubernetes.Selectors;

/// <summary>One term of a label selector: <c>k=v</c>, <c>k!=v</c>, <c>k in (a,b)</c>, <c>k notin (a)</c>, <c>k</c>, <c>!k</c>.</summary>
public sealed record LabelRequirement(string Key, LabelSelectorOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IDictionary<string, string>? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetValue(Key, out value);
        return Operator switch
        {
            LabelSelectorOperator.Equals => has && value == Values[0],
            LabelSelectorOperator.NotEquals => !has || value != Values[0],
            LabelSelectorOperator.In => has && Values.Contains(value!),
            LabelSelectorOperator.NotIn => !has || !Values.Contains(value!),
            LabelSelectorOperator.Exists => has,
            LabelSelectorOperator.DoesNotExist => !has,
            _ => false,
        };
    }

    public override string ToString() => Operator switch
    {
        LabelSelectorOperator.Equals => $"{Key}={Values[0]}",
        LabelSelectorOperator.NotEquals => $"{Key}!={Values[0]}",
        LabelSelectorOperator.In => $"{Key} in ({string.Join(',', Values)})",
        LabelSelectorOperator.NotIn => $"{Key} notin ({string.Join(',', Values)})",
        LabelSelectorOperator.Exists => Key,
        LabelSelectorOperator.DoesNotExist => "!" + Key,
        _ => Key,
    };
}
