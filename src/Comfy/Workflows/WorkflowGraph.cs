using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;
using ComfyOperator.Comfy.Nodes;

namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// An API-format ComfyUI prompt (docs/comfyui-protocol.md §6.1): node id → <c>{class_type, inputs, _meta}</c>,
/// inputs being literals or links <c>["node id", output index]</c>. Parsing rejects what users
/// commonly paste instead (UI workflow, whole request body, §6.4) with a message that says what
/// it was and how to export the right thing. The graph is mutable through <see cref="SetInput(string, string, JsonNode?, ComfyObjectInfo?)"/>
/// and <see cref="ApplyFilenamePrefix"/>; <see cref="Clone"/> makes an independent copy per run.
/// </summary>
public sealed class WorkflowGraph
{
    private const string ExportHint = "In ComfyUI, open the workflow and use Workflow → Export (API) (on older versions enable the dev mode options in the settings first), then submit the exported JSON.";

    private static readonly (string ClassType, string Input, string Folder)[] InputFileInputs =
    [
        ("LoadImage", "image", "input"),
        ("LoadImageMask", "image", "input"),
        ("LoadImageOutput", "image", "output"),
        ("LoadVideo", "file", "input"),
        ("LoadAudio", "audio", "input"),
    ];

    private readonly JsonObject _prompt;

    /// <summary>The nodes, each with its class read once (inputs change, nodes and classes never do); made on first use.</summary>
    private WorkflowNode[]? _nodes;

    private WorkflowGraph(JsonObject prompt)
    {
        _prompt = prompt;
    }

    /// <summary>Number of nodes.</summary>
    public int Count => _prompt.Count;

    /// <summary>The nodes in document order.</summary>
    public IReadOnlyList<WorkflowNode> Nodes => _nodes ??= [.. _prompt.Select(p => new WorkflowNode(p.Key, (JsonObject)p.Value!))];

    /// <summary>The node with this id, or null.</summary>
    public WorkflowNode? GetNode(string id) =>
        _prompt.TryGetPropertyValue(id, out var value) && value is JsonObject ? Nodes[_prompt.IndexOf(id)] : null;

    /// <summary>Nodes of a class, in document order.</summary>
    public IEnumerable<WorkflowNode> FindNodes(string classType) => Nodes.Where(n => n.ClassType == classType);

    /// <summary>The first node whose <c>_meta.title</c> is <paramref name="title"/> (how users tell the positive prompt from the negative).</summary>
    public WorkflowNode? FindNodeByTitle(string title) => Nodes.FirstOrDefault(n => n.Title == title);

    // ---------------------------------------------------------------- parse and detect

    /// <summary>Parses JSON text. Throws <see cref="WorkflowFormatException"/> with a user-facing message.</summary>
    /// <param name="json">The document.</param>
    /// <param name="unwrapRequestBody">Accept a whole POST /prompt body and take its <c>prompt</c>.</param>
    public static WorkflowGraph Parse(string json, bool unwrapRequestBody = false)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new WorkflowFormatException(WorkflowFormat.Unknown, $"The workflow is not valid JSON ({ex.Message}). {ExportHint}");
        }

        return FromDocument(document, unwrapRequestBody, copy: false);
    }

    /// <summary>Parses a JSON document; the document is copied, the caller's stays untouched.</summary>
    public static WorkflowGraph Parse(JsonNode? document, bool unwrapRequestBody = false) =>
        FromDocument(document, unwrapRequestBody, copy: true);

    /// <summary>Parses a document the caller hands over: no copy is made, so the caller must not change it afterwards.</summary>
    public static WorkflowGraph ParseOwned(JsonNode? document) =>
        FromDocument(document, unwrapRequestBody: false, copy: false);

    /// <summary>Like <see cref="Parse(string, bool)"/> but returns the error instead of throwing.</summary>
    public static bool TryParse(string json, out WorkflowGraph? graph, out WorkflowFormatException? error)
    {
        try
        {
            graph = Parse(json);
            error = null;
            return true;
        }
        catch (WorkflowFormatException ex)
        {
            graph = null;
            error = ex;
            return false;
        }
    }

    /// <summary>Says what a document is (docs/comfyui-protocol.md §6.4) without validating it.</summary>
    public static WorkflowFormat DetectFormat(JsonNode? document)
    {
        if (document is not JsonObject obj || obj.Count == 0)
        {
            return WorkflowFormat.Unknown;
        }

        if (obj["nodes"] is JsonArray
            || (obj["links"] is JsonArray && (obj.ContainsKey("version") || obj.ContainsKey("last_node_id") || obj.ContainsKey("state"))))
        {
            return WorkflowFormat.UiWorkflow;
        }

        if (obj["prompt"] is JsonObject inner && !(inner["class_type"] is JsonValue && inner["inputs"] is JsonObject))
        {
            return WorkflowFormat.RequestBody;
        }

        foreach (var (_, value) in obj)
        {
            if (value is not JsonObject node || !JsonRead.IsString(node["class_type"]))
            {
                return WorkflowFormat.Unknown;
            }
        }

        return WorkflowFormat.ApiPrompt;
    }

    private static WorkflowGraph FromDocument(JsonNode? document, bool unwrapRequestBody, bool copy)
    {
        var format = DetectFormat(document);
        switch (format)
        {
            case WorkflowFormat.UiWorkflow:
                {
                    var obj = (JsonObject)document!;
                    var nodes = (obj["nodes"] as JsonArray)?.Count;
                    var what = nodes is { } n ? $"it has a 'nodes' array with {n} node(s) and a 'links' array" : "it has a 'links' array and UI version fields";
                    throw new WorkflowFormatException(format,
                        $"This is a ComfyUI UI workflow (the editor's save format: {what}), not an API-format prompt, and ComfyUI's /prompt cannot run it. {ExportHint}");
                }

            case WorkflowFormat.RequestBody:
                {
                    var obj = (JsonObject)document!;
                    if (unwrapRequestBody)
                    {
                        var inner = (JsonObject)obj["prompt"]!;
                        return FromDocument(inner, unwrapRequestBody: false, copy: true);
                    }

                    var keys = string.Join(", ", obj.Select(p => $"'{p.Key}'"));
                    throw new WorkflowFormatException(format,
                        $"This is a whole POST /prompt request body (top-level keys {keys}), not a workflow. Submit only the value of its 'prompt' key, which is the API-format graph, or export the workflow again with Workflow → Export (API).");
                }

            case WorkflowFormat.ApiPrompt:
                {
                    var prompt = copy ? (JsonObject)document!.DeepClone() : (JsonObject)document!;
                    foreach (var (id, value) in prompt)
                    {
                        var node = (JsonObject)value!;
                        if (node["inputs"] is null)
                        {
                            node["inputs"] = new JsonObject();
                        }
                        else if (node["inputs"] is not JsonObject)
                        {
                            throw new WorkflowFormatException(WorkflowFormat.ApiPrompt,
                                $"Node '{id}' ({JsonRead.String(node, "class_type")}) has 'inputs' that is not a JSON object. {ExportHint}", id, "inputs");
                        }
                    }

                    return new WorkflowGraph(prompt);
                }

            default:
                var (message, nodeId, member) = DescribeUnknown(document);
                throw new WorkflowFormatException(WorkflowFormat.Unknown, message, nodeId, member);
        }
    }

    private static (string Message, string? NodeId, string? Member) DescribeUnknown(JsonNode? document)
    {
        if (document is not JsonObject obj)
        {
            var kind = document switch
            {
                null => "null",
                JsonArray => "array",
                JsonValue v => v.GetValueKind().ToString().ToLowerInvariant(),
                _ => "value",
            };
            return ($"A workflow must be a JSON object of nodes keyed by node id (ComfyUI's API format); this is a JSON {kind}. {ExportHint}", null, null);
        }

        if (obj.Count == 0)
        {
            return ("The workflow has no nodes.", null, null);
        }

        foreach (var (id, value) in obj)
        {
            if (value is not JsonObject node)
            {
                return ($"Entry '{id}' is not a node object: in the API format every top-level value is {{\"class_type\": ..., \"inputs\": {{...}}}}. {ExportHint}", id, null);
            }

            if (!JsonRead.IsString(node["class_type"]))
            {
                return ($"Node '{id}' has no class_type (it needs a string 'class_type' and an 'inputs' object). {ExportHint}", id, "class_type");
            }
        }

        return ($"The document is not an API-format workflow. {ExportHint}", null, null);
    }

    // ---------------------------------------------------------------- copy and serialise

    /// <summary>An independent deep copy (one per run, so runs never share state).</summary>
    public WorkflowGraph Clone() => new((JsonObject)_prompt.DeepClone());

    /// <summary>A deep copy of the prompt, ready to be the <c>prompt</c> of POST /prompt.</summary>
    public JsonObject ToJsonObject() => (JsonObject)_prompt.DeepClone();

    /// <summary>The prompt as JSON text.</summary>
    public string ToJson(bool indented = false) =>
        _prompt.ToJsonString(indented ? new JsonSerializerOptions { WriteIndented = true } : null);

    public override string ToString() => ToJson();

    // ---------------------------------------------------------------- outputs

    /// <summary>
    /// Output nodes: with an object_info, nodes whose class has <c>output_node</c>; for classes it
    /// does not know (or without one), the known core output classes (<see cref="OutputNodeClasses"/>).
    /// </summary>
    public IReadOnlyList<WorkflowNode> FindOutputNodes(ComfyObjectInfo? objectInfo = null) =>
        [.. Nodes.Where(n => IsOutput(n.ClassType, objectInfo))];

    private static bool IsOutput(string classType, ComfyObjectInfo? objectInfo) =>
        objectInfo?.Find(classType) is { } info ? info.IsOutputNode : OutputNodeClasses.Known.Contains(classType);

    // ---------------------------------------------------------------- validation

    /// <summary>
    /// Finds what ComfyUI would reject, before sending it: links to missing nodes, numeric link ids,
    /// malformed links, no output node; with an object_info also unknown classes, bad output
    /// indices, missing required inputs, wrong literal types, combo values (model files) the
    /// worker does not offer. Like ComfyUI, input checks cover only nodes the outputs depend on.
    /// </summary>
    public IReadOnlyList<WorkflowIssue> Validate(ComfyObjectInfo? objectInfo = null)
    {
        var issues = new List<WorkflowIssue>();
        var outputs = FindOutputNodes(objectInfo);
        if (outputs.Count == 0)
        {
            issues.Add(new WorkflowIssue(WorkflowIssueCodes.NoOutputs, null, null,
                "The workflow has no output node (SaveImage, PreviewImage, SaveImageWebsocket...); ComfyUI rejects it with prompt_no_outputs. Add a SaveImage node."));
        }

        var checkedNodes = outputs.Count == 0 ? null : Reachable(outputs);

        foreach (var workflowNode in Nodes)
        {
            var id = workflowNode.Id;
            var classType = workflowNode.ClassType;
            ComfyNodeInfo? info = null;
            if (objectInfo is not null)
            {
                info = objectInfo.Find(classType);
                if (info is null)
                {
                    issues.Add(new WorkflowIssue(WorkflowIssueCodes.UnknownClassType, id, null,
                        $"Node #{id} has class_type '{classType}', which this worker does not have (a custom node that is not installed?)."));
                }
            }

            if (checkedNodes is not null && !checkedNodes.Contains(id))
            {
                continue;
            }

            var inputs = workflowNode.Inputs!;
            foreach (var (name, input) in inputs)
            {
                var spec = info?.Inputs.GetValueOrDefault(name);
                if (input is JsonArray array)
                {
                    if (CheckLink(id, classType, name, array, spec, objectInfo) is { } issue)
                    {
                        issues.Add(issue);
                    }
                }
                else if (spec is not null && spec.IsWidget && CheckLiteral(id, classType, spec, input) is { } literalIssue)
                {
                    issues.Add(literalIssue);
                }
            }

            if (info is not null)
            {
                foreach (var required in info.RequiredInputs)
                {
                    if (!inputs.ContainsKey(required.Name))
                    {
                        issues.Add(new WorkflowIssue(WorkflowIssueCodes.MissingRequiredInput, id, required.Name,
                            $"Node #{id} ({classType}) lacks the required input '{required.Name}' ({required.Type})."));
                    }
                }
            }
        }

        return issues;
    }

    private HashSet<string> Reachable(IReadOnlyList<WorkflowNode> roots)
    {
        var seen = new HashSet<string>(_prompt.Count, StringComparer.Ordinal);
        var stack = new Stack<string>(_prompt.Count);
        foreach (var root in roots)
        {
            stack.Push(root.Id);
        }

        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!seen.Add(id) || _prompt[id] is not JsonObject node || node["inputs"] is not JsonObject inputs)
            {
                continue;
            }

            foreach (var (_, input) in inputs)
            {
                if (AsLink(input) is { } link)
                {
                    stack.Push(link.NodeId);
                }
            }
        }

        return seen;
    }

    private WorkflowIssue? CheckLink(string id, string classType, string name, JsonArray array, ComfyInputSpec? spec, ComfyObjectInfo? objectInfo)
    {
        if (array.Count == 2 && JsonRead.IsInteger(array[1]))
        {
            var index = JsonRead.Long(array[1]) ?? -1;
            if (JsonRead.IsNumber(array[0]))
            {
                var source = JsonRead.String(array[0]);
                return new WorkflowIssue(WorkflowIssueCodes.NumericLinkId, id, name,
                    $"Node #{id} ({classType}) input '{name}' links with a numeric node id [{source}, {index}]; ComfyUI only resolves string ids, write [\"{source}\", {index}].");
            }

            if (JsonRead.IsString(array[0]))
            {
                var target = JsonRead.String(array[0])!;
                if (GetNode(target) is not { } targetNode)
                {
                    return new WorkflowIssue(WorkflowIssueCodes.MissingLinkTarget, id, name,
                        $"Node #{id} ({classType}) input '{name}' links to node #{target}, which is not in the workflow.");
                }

                var targetClass = targetNode.ClassType;
                if (index < 0)
                {
                    return new WorkflowIssue(WorkflowIssueCodes.BadOutputIndex, id, name,
                        $"Node #{id} ({classType}) input '{name}' links to output {index} of node #{target}; output indices start at 0.");
                }

                if (objectInfo?.Find(targetClass) is { } targetInfo)
                {
                    if (index >= targetInfo.Outputs.Count)
                    {
                        var outs = targetInfo.Outputs.Count == 0 ? "no outputs" : $"{targetInfo.Outputs.Count} output(s): " + string.Join(", ", targetInfo.Outputs.Select((t, i) => $"{i} {t}"));
                        return new WorkflowIssue(WorkflowIssueCodes.BadOutputIndex, id, name,
                            $"Node #{id} ({classType}) input '{name}' links to output {index} of node #{target} ({targetClass}), which has {outs}.");
                    }

                    var outputType = targetInfo.Outputs[(int)index];
                    if (spec is not null && !spec.IsWidget && !TypesMatch(spec.Type, outputType))
                    {
                        return new WorkflowIssue(WorkflowIssueCodes.ReturnTypeMismatch, id, name,
                            $"Node #{id} ({classType}) input '{name}' expects {spec.Type} but is linked to output {index} of node #{target} ({targetClass}), which gives {outputType}.");
                    }
                }

                return null;
            }
        }

        return new WorkflowIssue(WorkflowIssueCodes.BadLink, id, name,
            $"Node #{id} ({classType}) input '{name}' is a list of {array.Count} item(s) but not a link: a link is [\"node id\", output index], and a literal list must be wrapped as {{\"__value__\": [...]}}.");
    }

    private static bool TypesMatch(string inputType, string outputType)
    {
        if (inputType == "*" || outputType == "*" || inputType == outputType)
        {
            return true;
        }

        var inputs = inputType.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var outputs = outputType.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return inputs.Intersect(outputs, StringComparer.Ordinal).Any();
    }

    private static WorkflowIssue? CheckLiteral(string id, string classType, ComfyInputSpec spec, JsonNode? value)
    {
        if (value is JsonObject wrapped && wrapped.ContainsKey("__value__"))
        {
            return null;
        }

        var where = $"Node #{id} ({classType}) input '{spec.Name}'";
        switch (spec.Type)
        {
            case ComfyInputSpec.IntType:
                if (!JsonRead.IsInteger(value))
                {
                    return new WorkflowIssue(WorkflowIssueCodes.InvalidInputType, id, spec.Name, $"{where} expects an integer (INT); got {Show(value)}.");
                }

                return CheckRange(id, where, spec, JsonRead.Double(value)!.Value);
            case ComfyInputSpec.FloatType:
                if (!JsonRead.IsNumber(value))
                {
                    return new WorkflowIssue(WorkflowIssueCodes.InvalidInputType, id, spec.Name, $"{where} expects a number (FLOAT); got {Show(value)}.");
                }

                return CheckRange(id, where, spec, JsonRead.Double(value)!.Value);
            case ComfyInputSpec.StringType:
                return JsonRead.IsString(value)
                    ? null
                    : new WorkflowIssue(WorkflowIssueCodes.InvalidInputType, id, spec.Name, $"{where} expects a string (STRING); got {Show(value)}.");
            case ComfyInputSpec.BooleanType:
                return JsonRead.IsBool(value)
                    ? null
                    : new WorkflowIssue(WorkflowIssueCodes.InvalidInputType, id, spec.Name, $"{where} expects true or false (BOOLEAN); got {Show(value)}.");
            case ComfyInputSpec.ComboType:
                {
                    if (spec.Choices is null)
                    {
                        return null;
                    }

                    var text = JsonRead.String(value);
                    if (text is not null && spec.Choices.Contains(text, StringComparer.Ordinal))
                    {
                        return null;
                    }

                    var sample = string.Join(", ", spec.Choices.Take(8).Select(c => $"'{c}'"));
                    var offered = spec.Choices.Count == 0 ? "no values" : $"{spec.Choices.Count} value(s): {sample}{(spec.Choices.Count > 8 ? ", ..." : "")}";
                    return new WorkflowIssue(WorkflowIssueCodes.ValueNotInList, id, spec.Name, $"{where}: {Show(value)} is not in the list this worker offers ({offered}).");
                }

            default:
                return null;
        }
    }

    private static WorkflowIssue? CheckRange(string id, string where, ComfyInputSpec spec, double number)
    {
        if (spec.Min is { } min && number < min)
        {
            return new WorkflowIssue(WorkflowIssueCodes.ValueOutOfRange, id, spec.Name, $"{where}: {Num(number)} is smaller than the minimum {Num(min)}.");
        }

        if (spec.Max is { } max && number > max)
        {
            return new WorkflowIssue(WorkflowIssueCodes.ValueOutOfRange, id, spec.Name, $"{where}: {Num(number)} is bigger than the maximum {Num(max)}.");
        }

        return null;
    }

    private static string Num(double d) => d.ToString(CultureInfo.InvariantCulture);

    private static string Show(JsonNode? value) => value is null ? "null" : value.ToJsonString();

    internal static WorkflowLink? AsLink(JsonNode? value)
    {
        if (value is JsonArray { Count: 2 } array && JsonRead.IsString(array[0]) && JsonRead.IsInteger(array[1]))
        {
            var index = JsonRead.Long(array[1])!.Value;
            if (index is >= int.MinValue and <= int.MaxValue)
            {
                return new WorkflowLink(JsonRead.String(array[0])!, (int)index);
            }
        }

        return null;
    }

    // ---------------------------------------------------------------- editing

    /// <summary>
    /// Sets an input. With an object_info the value is checked against the input's declaration
    /// (INT/FLOAT with min/max, STRING, BOOLEAN, combo choices; link-typed inputs take only links).
    /// Without one, only inputs the node already has can be set, with a value of the same JSON
    /// kind, and a linked input cannot be overwritten by a literal. Throws <see cref="WorkflowInputException"/>.
    /// </summary>
    public void SetInput(string nodeId, string inputName, JsonNode? value, ComfyObjectInfo? objectInfo = null)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        ArgumentNullException.ThrowIfNull(inputName);
        if (_prompt[nodeId] is not JsonObject node)
        {
            throw new WorkflowInputException(nodeId, inputName, $"The workflow has no node #{nodeId}.");
        }

        var classType = JsonRead.String(node, "class_type") ?? "";
        var inputs = (JsonObject)node["inputs"]!;
        var where = $"Node #{nodeId} ({classType}) input '{inputName}'";
        var link = value is JsonArray ? AsLink(value) : null;
        if (value is JsonArray && link is null)
        {
            throw new WorkflowInputException(nodeId, inputName, $"{where}: a list value must be a link [\"node id\", output index] (wrap literal lists as {{\"__value__\": [...]}}).");
        }

        if (link is not null && !_prompt.ContainsKey(link.NodeId))
        {
            throw new WorkflowInputException(nodeId, inputName, $"{where}: the link points to node #{link.NodeId}, which is not in the workflow.");
        }

        if (objectInfo?.Find(classType) is { } info)
        {
            if (!info.Inputs.TryGetValue(inputName, out var spec) || spec.Category == ComfyInputCategory.Hidden)
            {
                var names = string.Join(", ", info.Inputs.Values.Where(i => i.Category != ComfyInputCategory.Hidden).Select(i => i.Name));
                throw new WorkflowInputException(nodeId, inputName, $"{where} does not exist; {classType} has: {names}.");
            }

            if (link is null)
            {
                if (!spec.IsWidget)
                {
                    throw new WorkflowInputException(nodeId, inputName, $"{where} takes a link to a {spec.Type} output, not a literal value.");
                }

                if (CheckLiteral(nodeId, classType, spec, value) is { } issue)
                {
                    throw new WorkflowInputException(nodeId, inputName, issue.Message);
                }
            }
        }
        else
        {
            if (!inputs.TryGetPropertyValue(inputName, out var existing))
            {
                throw new WorkflowInputException(nodeId, inputName,
                    $"{where} does not exist in the workflow; without the worker's object_info only inputs the node already has can be set (it has: {string.Join(", ", inputs.Select(p => p.Key))}).");
            }

            if (link is null)
            {
                if (AsLink(existing) is not null)
                {
                    throw new WorkflowInputException(nodeId, inputName, $"{where} is linked to another node; setting a literal would cut that link.");
                }

                if (!SameKind(existing, value))
                {
                    throw new WorkflowInputException(nodeId, inputName, $"{where} holds {Kind(existing)} ({Show(existing)}); refusing to set {Kind(value)} ({Show(value)}).");
                }
            }
        }

        inputs[inputName] = value is null ? null : value.Parent is null ? value : value.DeepClone();
    }

    public void SetInput(string nodeId, string inputName, string value, ComfyObjectInfo? objectInfo = null) =>
        SetInput(nodeId, inputName, JsonValue.Create(value), objectInfo);

    public void SetInput(string nodeId, string inputName, long value, ComfyObjectInfo? objectInfo = null) =>
        SetInput(nodeId, inputName, JsonValue.Create(value), objectInfo);

    public void SetInput(string nodeId, string inputName, double value, ComfyObjectInfo? objectInfo = null) =>
        SetInput(nodeId, inputName, JsonValue.Create(value), objectInfo);

    public void SetInput(string nodeId, string inputName, bool value, ComfyObjectInfo? objectInfo = null) =>
        SetInput(nodeId, inputName, JsonValue.Create(value), objectInfo);

    // Without object_info the JSON kind is all we know: numbers stay numbers (an exported "cfg": 8
    // is a FLOAT input written without a fraction, so integer-ness cannot be enforced), strings
    // stay strings, booleans stay booleans.
    private static bool SameKind(JsonNode? existing, JsonNode? value) => Kind(existing) == Kind(value);

    private static string Kind(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ when JsonRead.IsString(value) => "a string",
        _ when JsonRead.IsNumber(value) => "a number",
        _ when JsonRead.IsBool(value) => "a boolean",
        _ => "a value",
    };

    /// <summary>
    /// Gives every node with a literal <c>filename_prefix</c> (SaveImage and friends) the prefix
    /// <c>&lt;runId&gt;/&lt;original&gt;</c>, so runs never collide on a shared output volume (docs/comfyui-protocol.md §9.4).
    /// Returns the ids of the changed nodes.
    /// </summary>
    public IReadOnlyList<string> ApplyFilenamePrefix(string runId) =>
        ApplyFilenamePrefix(runId, original => original.TrimStart('/') is { Length: > 0 } trimmed ? trimmed : "ComfyUI");

    /// <summary>
    /// Gives every node with a literal <c>filename_prefix</c> the prefix <c>&lt;folder&gt;/&lt;name(original)&gt;</c>.
    /// Returns the ids of the changed nodes.
    /// </summary>
    public IReadOnlyList<string> ApplyFilenamePrefix(string folder, Func<string, string> name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(name);
        if (folder.Contains("..", StringComparison.Ordinal) || folder.Contains('\\', StringComparison.Ordinal) || folder.StartsWith('/'))
        {
            throw new ArgumentException($"A run id used as a folder must not start with '/' nor contain '..' or '\\': '{folder}'.", nameof(folder));
        }

        var changed = new List<string>();
        foreach (var (id, value) in _prompt)
        {
            var inputs = (JsonObject)((JsonObject)value!)["inputs"]!;
            if (inputs["filename_prefix"] is { } prefix && JsonRead.IsString(prefix))
            {
                inputs["filename_prefix"] = $"{folder.TrimEnd('/')}/{name(JsonRead.String(prefix)!)}";
                changed.Add(id);
            }
        }

        return changed;
    }

    /// <summary>
    /// The prompt to post for one attempt: a copy of the graph (this one is left as it is, so one
    /// parsed graph serves every attempt) whose save nodes write under <paramref name="folder"/>.
    /// </summary>
    public JsonObject ToPrompt(string folder, Func<string, string> name)
    {
        var copy = Clone();
        copy.ApplyFilenamePrefix(folder, name);
        return copy._prompt;
    }

    // ---------------------------------------------------------------- what a graph needs

    /// <summary>Model files the graph loads, by loader input name (ckpt_name → checkpoints, unet_name → diffusion_models...).</summary>
    public IReadOnlyList<WorkflowModelReference> GetModelReferences()
    {
        var list = new List<WorkflowModelReference>();
        foreach (var node in Nodes)
        {
            var inputs = node.Inputs!;
            foreach (var (name, value) in inputs)
            {
                if (JsonRead.IsString(value) && ModelFolders.For(node.ClassType, name) is { } folder)
                {
                    list.Add(new WorkflowModelReference(node.Id, node.ClassType, name, folder, JsonRead.String(value)!));
                }
            }
        }

        return list;
    }

    /// <summary>Files the graph reads from the worker's input folder (LoadImage image, LoadImageMask image, ...).</summary>
    public IReadOnlyList<WorkflowInputFile> GetInputFiles()
    {
        var list = new List<WorkflowInputFile>();
        foreach (var node in Nodes)
        {
            foreach (var (classType, input, folder) in InputFileInputs)
            {
                if (node.ClassType == classType && node.GetString(input) is { } value)
                {
                    var (name, type) = SplitAnnotation(value, folder);
                    list.Add(new WorkflowInputFile(node.Id, classType, input, name, type));
                }
            }
        }

        return list;
    }

    private static (string Name, string Type) SplitAnnotation(string value, string defaultType)
    {
        foreach (var type in (string[])["output", "input", "temp"])
        {
            var suffix = $" [{type}]";
            if (value.EndsWith(suffix, StringComparison.Ordinal))
            {
                return (value[..^suffix.Length], type);
            }
        }

        return (value, defaultType);
    }
}
