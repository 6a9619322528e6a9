using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// execution.py's validate_prompt / validate_inputs against the simulator's node library. Like the real one it
/// converts literal INT/FLOAT/STRING/BOOLEAN inputs in place (the queued prompt holds the converted values).
/// Throws <see cref="PythonException"/> where the real server raises outside its handlers (HTTP 500).
/// </summary>
internal sealed class PromptValidator(ModelFolders folders, string inputDirectory, Func<string, bool>? installed = null)
{
    private sealed record Verdict(bool Valid, JsonArray Errors);

    public ValidationResult Validate(JsonObject prompt, JsonNode? partialTargets)
    {
        var outputs = new List<string>();
        foreach (var (id, value) in prompt)
        {
            if (!HasClassType(value))
            {
                return Fail(Error("invalid_prompt", "Cannot execute because a node is missing the class_type property.", $"Node ID '#{id}'"));
            }

            var classNode = ((JsonObject)value!)["class_type"];
            if (classNode is JsonArray or JsonObject)
            {
                throw new PythonException("TypeError", "unhashable type: 'list'");
            }

            var classType = PythonText.Str(classNode);
            var definition = classNode is JsonValue v && v.GetValueKind() == JsonValueKind.String && installed?.Invoke(classType) != false ? NodeLibrary.Find(classType) : null;
            if (definition is null)
            {
                return Fail(Error("invalid_prompt", $"Cannot execute because node {classType} does not exist.", $"Node ID '#{id}'"));
            }

            if (definition.OutputNode && (partialTargets is null || Contains(partialTargets, id)))
            {
                outputs.Add(id);
            }
        }

        if (outputs.Count == 0)
        {
            return Fail(Error("prompt_no_outputs", "Prompt has no outputs", ""));
        }

        var good = new List<string>();
        var outputReasons = new List<JsonArray>();
        var nodeErrors = new JsonObject();
        var validated = new OrderedDictionary<string, Verdict>(StringComparer.Ordinal);
        foreach (var output in outputs)
        {
            Verdict verdict;
            try
            {
                verdict = ValidateInputs(prompt, output, validated);
            }
            catch (PythonException ex)
            {
                verdict = new Verdict(false,
                [
                    new JsonObject
                    {
                        ["type"] = "exception_during_validation",
                        ["message"] = "Exception when validating node",
                        ["details"] = ex.Message,
                        ["extra_info"] = new JsonObject
                        {
                            ["exception_type"] = ex.PythonType,
                            ["traceback"] = new JsonArray([.. PythonException.Traceback("validate_inputs").Select(t => (JsonNode)t)]),
                        },
                    },
                ]);
                validated[output] = verdict;
            }

            if (verdict.Valid)
            {
                good.Add(output);
                continue;
            }

            outputReasons.Add(verdict.Errors);
            foreach (var (nodeId, result) in validated)
            {
                // Nodes that are only invalid because of something upstream carry no errors and are not listed.
                if (result.Valid || result.Errors.Count == 0)
                {
                    continue;
                }

                if (nodeErrors[nodeId] is not JsonObject entry)
                {
                    entry = new JsonObject
                    {
                        ["errors"] = result.Errors.DeepClone(),
                        ["dependent_outputs"] = new JsonArray(),
                        ["class_type"] = prompt[nodeId]!["class_type"]!.DeepClone(),
                    };
                    nodeErrors[nodeId] = entry;
                }

                ((JsonArray)entry["dependent_outputs"]!).Add(output);
            }
        }

        if (good.Count == 0)
        {
            // Like execution.py: the summary lists the output nodes' own errors only.
            var lines = outputReasons.SelectMany(r => r).Select(e => $"{e!["message"]}: {e["details"]}");
            return new ValidationResult(false, Error("prompt_outputs_failed_validation", "Prompt outputs failed validation", string.Join("\n", lines)), good, nodeErrors);
        }

        return new ValidationResult(true, null, good, nodeErrors);
    }

    private static bool HasClassType(JsonNode? value) => value switch
    {
        JsonObject o => o.ContainsKey("class_type"),
        JsonArray a => a.Any(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == "class_type"),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Contains("class_type", StringComparison.Ordinal)
            ? throw new PythonException("TypeError", "string indices must be integers, not 'str'")
            : false,
        null => throw new PythonException("TypeError", "argument of type 'NoneType' is not iterable"),
        JsonValue v => throw new PythonException("TypeError", $"argument of type '{(v.GetValueKind() == JsonValueKind.Number ? "int" : "bool")}' is not iterable"),
        _ => false,
    };

    private static bool Contains(JsonNode targets, string id) => targets switch
    {
        JsonArray a => a.Any(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == id),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Contains(id, StringComparison.Ordinal),
        JsonObject o => o.ContainsKey(id),
        _ => throw new PythonException("TypeError", "argument is not iterable"),
    };

    private static ValidationResult Fail(JsonObject error) => new(false, error, [], new JsonObject());

    private static JsonObject Error(string type, string message, string details) => new()
    {
        ["type"] = type,
        ["message"] = message,
        ["details"] = details,
        ["extra_info"] = new JsonObject(),
    };

    private Verdict ValidateInputs(JsonObject prompt, string id, OrderedDictionary<string, Verdict> validated)
    {
        if (validated.TryGetValue(id, out var known))
        {
            return known;
        }

        var node = (JsonObject)prompt[id]!;
        if (node["inputs"] is not JsonObject inputs)
        {
            throw node.ContainsKey("inputs")
                ? new PythonException("TypeError", "'NoneType' object is not subscriptable")
                : new PythonException("KeyError", "'inputs'");
        }

        var definition = NodeLibrary.Find(PythonText.Str(node["class_type"]))!;
        var errors = new JsonArray();
        var valid = true;
        foreach (var spec in definition.Declared)
        {
            if (!inputs.ContainsKey(spec.Name))
            {
                if (spec.Category == "required")
                {
                    errors.Add(new JsonObject
                    {
                        ["type"] = "required_input_missing",
                        ["message"] = "Required input is missing",
                        ["details"] = spec.Name,
                        ["extra_info"] = new JsonObject { ["input_name"] = spec.Name },
                    });
                }

                continue;
            }

            var value = inputs[spec.Name];
            if (value is JsonArray link)
            {
                if (link.Count != 2)
                {
                    errors.Add(InputError("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", spec.Name, spec,
                        ("received_value", link.DeepClone())));
                    continue;
                }

                var (sourceId, receivedType) = ResolveLink(prompt, link);
                if (!TypeMatches(receivedType, spec))
                {
                    var inputType = spec.IsCombo ? PythonText.ListRepr(spec.Choices!(folders)) : spec.Type!;
                    var error = InputError("return_type_mismatch", "Return type mismatch between linked nodes", spec.Name, spec,
                        ("received_type", receivedType), ("linked_node", link.DeepClone()));
                    error["details"] = $"{spec.Name}, received_type({receivedType}) mismatch input_type({inputType})";
                    errors.Add(error);
                    continue;
                }

                try
                {
                    if (!ValidateInputs(prompt, sourceId, validated).Valid)
                    {
                        valid = false;
                    }
                }
                catch (PythonException ex)
                {
                    valid = false;
                    var inner = InputError("exception_during_inner_validation", "Exception when validating inner node", spec.Name, spec,
                        ("exception_message", ex.Message), ("exception_type", ex.PythonType),
                        ("traceback", new JsonArray([.. PythonException.Traceback("validate_inputs").Select(t => (JsonNode)t)])),
                        ("linked_node", link.DeepClone()));
                    inner["details"] = ex.Message;
                    validated[sourceId] = new Verdict(false, [inner]);
                }

                continue;
            }

            if (value is JsonObject wrapped && wrapped.ContainsKey("__value__"))
            {
                value = wrapped["__value__"]?.DeepClone();
                inputs[spec.Name] = value;
            }

            if (!spec.IsCombo)
            {
                JsonNode? converted;
                try
                {
                    converted = Convert(spec.Type!, value);
                }
                catch (PythonException ex)
                {
                    var error = InputError("invalid_input_type", $"Failed to convert an input value to a {spec.Type} value", spec.Name, spec,
                        ("received_value", value?.DeepClone()), ("exception_message", ex.Message));
                    error["details"] = $"{spec.Name}, {PythonText.Str(value)}, {ex.Message}";
                    errors.Add(error);
                    continue;
                }

                if (!ReferenceEquals(converted, value))
                {
                    inputs[spec.Name] = converted;
                    value = converted;
                }
            }

            if (spec.Name == definition.ValidatesInput)
            {
                continue;
            }

            var options = spec.Options();
            if (spec.Type is "INT" or "FLOAT" && value is JsonValue number)
            {
                if (options["min"] is JsonValue min && Less(number, min))
                {
                    errors.Add(RangeError("value_smaller_than_min", $"Value {PythonText.ReprNode(number)} smaller than min of {PythonText.ReprNode(min)}", spec, number));
                    continue;
                }

                if (options["max"] is JsonValue max && Less(max, number))
                {
                    errors.Add(RangeError("value_bigger_than_max", $"Value {PythonText.ReprNode(number)} bigger than max of {PythonText.ReprNode(max)}", spec, number));
                    continue;
                }
            }

            if (spec.IsCombo)
            {
                var choices = spec.Choices!(folders);
                var asString = value is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : null;
                if (asString is null || !choices.Contains(asString, StringComparer.Ordinal))
                {
                    var large = choices.Count > 20;
                    var listInfo = large ? $"(list of length {choices.Count})" : PythonText.ListRepr(choices);
                    errors.Add(new JsonObject
                    {
                        ["type"] = "value_not_in_list",
                        ["message"] = "Value not in list",
                        ["details"] = $"{spec.Name}: '{PythonText.Str(value)}' not in {listInfo}",
                        ["extra_info"] = new JsonObject
                        {
                            ["input_name"] = spec.Name,
                            ["input_config"] = large ? null : spec.Declaration(folders),
                            ["received_value"] = value?.DeepClone(),
                        },
                    });
                }
            }
        }

        if (definition.ValidatesInput is { } checkedInput && inputs.ContainsKey(checkedInput) && inputs[checkedInput] is not JsonArray)
        {
            // LoadImage.VALIDATE_INPUTS: the file must exist (any path under input/, not only the listed ones).
            var name = PythonText.Str(inputs[checkedInput]);
            if (!InputFileExists(name))
            {
                errors.Add(new JsonObject
                {
                    ["type"] = "custom_validation_failed",
                    ["message"] = "Custom validation failed for node",
                    ["details"] = $"{checkedInput} - Invalid image file: {name}",
                    ["extra_info"] = new JsonObject { ["input_name"] = checkedInput },
                });
            }
        }

        var verdict = new Verdict(errors.Count == 0 && valid, errors);
        validated[id] = verdict;
        return verdict;
    }

    /// <summary>Resolves <c>[source id, output index]</c> to the source's id and output type, raising like Python would.</summary>
    private static (string SourceId, string Type) ResolveLink(JsonObject prompt, JsonArray link)
    {
        var source = link[0];
        var sourceId = source is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : null;
        if (sourceId is null || !prompt.ContainsKey(sourceId) || prompt[sourceId] is not JsonObject sourceNode)
        {
            throw new PythonException("KeyError", PythonText.ReprNode(source));
        }

        var definition = NodeLibrary.Find(PythonText.Str(sourceNode["class_type"]))
            ?? throw new PythonException("KeyError", PythonText.ReprNode(sourceNode["class_type"]));
        if (link[1] is not JsonValue iv || !PythonText.IsIntLiteral(iv))
        {
            throw new PythonException("TypeError", "tuple indices must be integers or slices, not " + (link[1] is JsonValue { } x && x.GetValueKind() == JsonValueKind.String ? "str" : "float"));
        }

        var index = iv.GetValue<long>();
        if (index < 0)
        {
            index += definition.Outputs.Count;
        }

        if (index < 0 || index >= definition.Outputs.Count)
        {
            throw new PythonException("IndexError", "tuple index out of range");
        }

        return (sourceId, definition.Outputs[(int)index]);
    }

    private static bool TypeMatches(string received, InputSpec spec)
    {
        if (received == "*" || spec.Type == "*")
        {
            return true;
        }

        if (spec.IsCombo)
        {
            return received == "COMBO";
        }

        if (received == spec.Type)
        {
            return true;
        }

        var want = spec.Type!.Split(',', StringSplitOptions.TrimEntries);
        return received.Split(',', StringSplitOptions.TrimEntries).All(r => want.Contains(r, StringComparer.Ordinal));
    }

    private JsonObject InputError(string type, string message, string inputName, InputSpec spec, params (string Key, JsonNode? Value)[] extra)
    {
        var info = new JsonObject { ["input_name"] = inputName, ["input_config"] = spec.Declaration(folders) };
        foreach (var (key, value) in extra)
        {
            info[key] = value;
        }

        return new JsonObject { ["type"] = type, ["message"] = message, ["details"] = inputName, ["extra_info"] = info };
    }

    private JsonObject RangeError(string type, string message, InputSpec spec, JsonNode value) => new()
    {
        ["type"] = type,
        ["message"] = message,
        ["details"] = spec.Name,
        ["extra_info"] = new JsonObject
        {
            ["input_name"] = spec.Name,
            ["input_config"] = spec.Declaration(folders),
            ["received_value"] = value.DeepClone(),
        },
    };

    private static bool Less(JsonValue a, JsonValue b)
    {
        if (PythonText.IsIntLiteral(a) && PythonText.IsIntLiteral(b))
        {
            return BigInteger.Parse(a.ToJsonString(), CultureInfo.InvariantCulture) < BigInteger.Parse(b.ToJsonString(), CultureInfo.InvariantCulture);
        }

        return a.GetValue<double>() < b.GetValue<double>();
    }

    private bool InputFileExists(string name)
    {
        var annotated = name.EndsWith(" [input]", StringComparison.Ordinal) ? name[..^8] : name;
        if (annotated.Length == 0)
        {
            return false;
        }

        var full = Path.GetFullPath(Path.Combine(inputDirectory, annotated));
        return full.StartsWith(Path.GetFullPath(inputDirectory), StringComparison.Ordinal) && File.Exists(full);
    }

    /// <summary>Python's int()/float()/str()/bool() on a JSON literal; returns the same node when nothing changes.</summary>
    internal static JsonNode? Convert(string type, JsonNode? value)
    {
        switch (type)
        {
            case "INT":
                return value switch
                {
                    JsonValue v when PythonText.IsIntLiteral(v) => v,
                    JsonValue v when v.GetValueKind() == JsonValueKind.Number => JsonValue.Create(Math.Truncate((decimal)v.GetValue<double>())),
                    JsonValue v when v.GetValueKind() == JsonValueKind.True => JsonValue.Create(1),
                    JsonValue v when v.GetValueKind() == JsonValueKind.False => JsonValue.Create(0),
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => ParseInt(v.GetValue<string>()),
                    null => throw new PythonException("TypeError", "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"),
                    _ => throw new PythonException("TypeError", "int() argument must be a string, a bytes-like object or a real number, not 'dict'"),
                };
            case "FLOAT":
                return value switch
                {
                    JsonValue v when v.GetValueKind() == JsonValueKind.Number => PythonText.IsIntLiteral(v) ? PythonText.FloatNode(v.GetValue<double>()) : v,
                    JsonValue v when v.GetValueKind() == JsonValueKind.True => PythonText.FloatNode(1),
                    JsonValue v when v.GetValueKind() == JsonValueKind.False => PythonText.FloatNode(0),
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => ParseFloat(v.GetValue<string>()),
                    null => throw new PythonException("TypeError", "float() argument must be a string or a real number, not 'NoneType'"),
                    _ => throw new PythonException("TypeError", "float() argument must be a string or a real number, not 'dict'"),
                };
            case "STRING":
                return value is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s : JsonValue.Create(PythonText.Str(value));
            case "BOOLEAN":
                return value is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? b : JsonValue.Create(PythonText.Truthy(value));
            default:
                return value;
        }
    }

    private static JsonValue ParseInt(string text)
    {
        var t = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (t.Length > 0 && t.All(c => char.IsAsciiDigit(c) || c is '+' or '-') && BigInteger.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            return (JsonValue)JsonNode.Parse(big.ToString(CultureInfo.InvariantCulture))!;
        }

        throw new PythonException("ValueError", $"invalid literal for int() with base 10: {PythonText.Repr(text)}");
    }

    private static JsonNode ParseFloat(string text)
    {
        var t = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return PythonText.FloatNode(d);
        }

        throw new PythonException("ValueError", $"could not convert string to float: {PythonText.Repr(text)}");
    }
}
