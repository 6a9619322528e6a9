using System.Text;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>Builds <c>?a=1&amp;b=2</c>, skipping null values and escaping the rest.</summary>
internal sealed class QueryBuilder
{
    private readonly StringBuilder _builder = new();

    public QueryBuilder Add(string name, string? value)
    {
        if (value is null)
        {
            return this;
        }

        _builder.Append(_builder.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        return this;
    }

    public override string ToString() => _builder.ToString();
}
