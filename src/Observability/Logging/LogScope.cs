using System.Collections;

namespace ComfyOperator.Observability.Logging;

/// <summary>Scope state the JSON formatter writes as named properties and the text formatter as <c>k:v</c>.</summary>
internal sealed class LogScope(KeyValuePair<string, object?>[] pairs) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => pairs.Length;

    public KeyValuePair<string, object?> this[int index] => pairs[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)pairs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', pairs.Select(static p => $"{p.Key}:{p.Value}"));
}
