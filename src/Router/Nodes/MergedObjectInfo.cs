namespace ComfyOperator.Router.Nodes;

/// <summary>The fleet's <c>/object_info</c> as JSON text, whole and per class (serialized once per change).</summary>
internal sealed record MergedObjectInfo(string Json, IReadOnlyDictionary<string, string> Classes);
