using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// The prompt worker of main.py + execution.py's PromptExecutor: one prompt at a time from the queue, the
/// classic output cache (last prompt's node outputs, keyed by input signature), ws messages in the order of
/// docs/comfyui-protocol.md §5.6, history written before the final <c>executing</c> null.
/// </summary>
internal sealed class PromptExecutor(SimulatorState state) : IDisposable
{
    private sealed record CacheEntry(object?[] Outputs, JsonObject? Ui);

    private sealed record ProgressEntry(double Value, double Max, string State);

    private readonly Dictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private CancellationTokenSource? _interruptSource;
    private volatile bool _interrupted;
    private TaskCompletionSource? _hang;
    private CancellationTokenSource _process = new();
    private string? _loadedModel;
    private bool _pendingUnload;
    private bool _pendingFree;
    private int _checkpointLoads;
    private int _promptsExecuted;

    public int CheckpointLoads => Volatile.Read(ref _checkpointLoads);

    public int PromptsExecuted => Volatile.Read(ref _promptsExecuted);

    public string? LoadedModel => _loadedModel;

    /// <summary>The client id of the running prompt and the node it is executing (for the ws reconnect frame).</summary>
    public (string? ClientId, string? LastNodeId) Current { get; private set; }

    public void Hang()
    {
        lock (_lock)
        {
            _hang ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Unhang()
    {
        TaskCompletionSource? hang;
        lock (_lock)
        {
            hang = _hang;
            _hang = null;
        }

        hang?.TrySetResult();
    }

    /// <summary>nodes.interrupt_processing(): sets the flag; the running node sees it at its next check.</summary>
    public void Interrupt()
    {
        _interrupted = true;
        lock (_lock)
        {
            _interruptSource?.Cancel();
        }
    }

    /// <summary>POST /free flags: applied after the running prompt, or now when idle.</summary>
    public void Free(bool unloadModels, bool freeMemory)
    {
        lock (_lock)
        {
            _pendingUnload |= unloadModels || freeMemory;
            _pendingFree |= freeMemory;
            if (state.Queue.Running is null)
            {
                ApplyFreeLocked();
            }
        }
    }

    /// <summary>
    /// The process dies: the running prompt stops where it is and is never finished (no history entry,
    /// no more events or files), and the prompt being dequeued, if any, is dropped with the queue.
    /// </summary>
    public void Kill()
    {
        CancellationTokenSource killed;
        lock (_lock)
        {
            killed = _process;
            _process = new CancellationTokenSource();
            Current = (null, null);
        }

        // Not disposed: the executor loop may still be linking to its token; it holds no timer.
        killed.Cancel();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _process.Dispose();
        }
    }

    /// <summary>Forgets caches and loaded models (a process restart).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _cache.Clear();
            _loadedModel = null;
        }
    }

    private void ApplyFreeLocked()
    {
        if (_pendingUnload)
        {
            _loadedModel = null;
        }

        if (_pendingFree)
        {
            _cache.Clear();
        }

        _pendingUnload = false;
        _pendingFree = false;
    }

    private Task WaitIfHungAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource? hang;
        lock (_lock)
        {
            hang = _hang;
        }

        return hang is null ? Task.CompletedTask : hang.Task.WaitAsync(cancellationToken);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            CancellationToken process;
            lock (_lock)
            {
                process = _process.Token;
            }

            using var life = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, process);
            QueueItem item;
            JsonObject entry;
            try
            {
                item = await state.Queue.DequeueAsync(WaitIfHungAsync, life.Token).ConfigureAwait(false);
                entry = await ExecuteAsync(item, life.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (process.IsCancellationRequested)
            {
                // Killed: what was running is lost with the process; the queue is reset on revive.
                continue;
            }

            // Counted before the history entry and the final event make the prompt visibly done, so a
            // test that has seen either reads a count that includes it.
            Interlocked.Increment(ref _promptsExecuted);
            state.Queue.TaskDone(item, entry);
            if (item.ClientId is { } clientId)
            {
                state.Hub.Send("executing", new JsonObject { ["node"] = null, ["prompt_id"] = item.PromptId }, clientId);
            }

            lock (_lock)
            {
                Current = (null, null);
                ApplyFreeLocked();
            }
        }
    }

    private long Now() => state.Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<JsonObject> ExecuteAsync(QueueItem item, CancellationToken cancellationToken)
    {
        using var interruptSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (_lock)
        {
            _interrupted = false;
            _interruptSource = interruptSource;
        }

        try
        {
            return await ExecuteCoreAsync(item, interruptSource.Token, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _interruptSource = null;
            }
        }
    }

    private async Task<JsonObject> ExecuteCoreAsync(QueueItem item, CancellationToken stepToken, CancellationToken cancellationToken)
    {
        var prompt = item.Prompt;
        var promptId = item.PromptId;
        var clientId = item.ClientId;
        Current = (clientId, null);
        var messages = new JsonArray();

        void AddMessage(string type, JsonObject data, bool broadcast)
        {
            data["timestamp"] = Now();
            messages.Add(new JsonArray(type, data.DeepClone()));
            if (clientId is not null || broadcast)
            {
                state.Hub.Send(type, data, clientId);
            }
        }

        AddMessage("execution_start", new JsonObject { ["prompt_id"] = promptId }, false);

        var signatures = Signatures(prompt);
        List<string> cachedNodes;
        lock (_lock)
        {
            // cache.clean_unused(): only this prompt's signatures survive.
            var live = signatures.Values.ToHashSet(StringComparer.Ordinal);
            foreach (var key in _cache.Keys.Where(k => !live.Contains(k)).ToList())
            {
                _cache.Remove(key);
            }

            cachedNodes = [.. prompt.Select(p => p.Key).Where(id => _cache.ContainsKey(signatures[id]))];
        }

        AddMessage("execution_cached", new JsonObject { ["nodes"] = new JsonArray([.. cachedNodes.Select(n => (JsonNode)n)]), ["prompt_id"] = promptId }, false);

        var progress = new OrderedDictionary<string, ProgressEntry>(StringComparer.Ordinal);
        void SendProgressState()
        {
            var nodes = new JsonObject();
            foreach (var (id, p) in progress)
            {
                nodes[id] = new JsonObject
                {
                    ["value"] = PythonText.FloatNode(p.Value),
                    ["max"] = PythonText.FloatNode(p.Max),
                    ["state"] = p.State,
                    ["node_id"] = id,
                    ["prompt_id"] = promptId,
                    ["display_node_id"] = id,
                    ["parent_node_id"] = null,
                    ["real_node_id"] = id,
                };
            }

            state.Hub.Send("progress_state", new JsonObject { ["prompt_id"] = promptId, ["nodes"] = nodes }, clientId);
        }

        var previewMethod = item.ExtraData["preview_method"] is JsonValue pm && pm.GetValueKind() == JsonValueKind.String
            ? pm.GetValue<string>()
            : state.Options.PreviewMethod;
        var currentOutputs = cachedNodes.ToList();
        var executed = new List<string>();
        var uiOutputs = new OrderedDictionary<string, JsonObject>(StringComparer.Ordinal);
        var values = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        var order = new ExecutionOrder(prompt, id => IsCached(signatures[id]));
        foreach (var output in item.Outputs)
        {
            order.Add(output);
        }

        var success = true;
        while (order.Next() is { } nodeId)
        {
            var node = (JsonObject)prompt[nodeId]!;
            var classType = PythonText.Str(node["class_type"]);
            var definition = NodeLibrary.Find(classType)!;
            var signature = signatures[nodeId];
            CacheEntry? cached;
            lock (_lock)
            {
                cached = _cache.GetValueOrDefault(signature);
            }

            if (cached is not null)
            {
                // A cached output node: executed with the old UI output, no executing.
                if (clientId is not null)
                {
                    state.Hub.Send("executed", new JsonObject
                    {
                        ["node"] = nodeId,
                        ["display_node"] = nodeId,
                        ["output"] = cached.Ui?.DeepClone(),
                        ["prompt_id"] = promptId,
                    }, clientId);
                }

                if (cached.Ui is not null)
                {
                    uiOutputs[nodeId] = cached.Ui;
                }

                values[nodeId] = cached.Outputs;
                progress[nodeId] = new ProgressEntry(1, 1, "finished");
                SendProgressState();
                order.Complete(nodeId);
                continue;
            }

            progress[nodeId] = new ProgressEntry(0, 1, "running");
            SendProgressState();
            if (clientId is not null)
            {
                Current = (clientId, nodeId);
                state.Hub.Send("executing", new JsonObject { ["node"] = nodeId, ["display_node"] = nodeId, ["prompt_id"] = promptId }, clientId);
            }

            var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
            var inputsJson = node["inputs"] as JsonObject ?? [];
            try
            {
                await WaitIfHungAsync(cancellationToken).ConfigureAwait(false);
                ThrowIfInterrupted();
                foreach (var spec in definition.Declared)
                {
                    if (!inputsJson.TryGetPropertyValue(spec.Name, out var raw))
                    {
                        continue;
                    }

                    inputs[spec.Name] = raw is JsonArray link
                        ? Upstream(values, signatures, link)
                        : NodeKernels.Literal(spec, raw);
                }

                var fail = state.Options.FailAtNode;
                if (fail is not null && (fail == nodeId || fail == classType))
                {
                    throw new PythonException("RuntimeError", $"Simulated failure in node {nodeId} ({classType})");
                }

                var context = new NodeRunContext
                {
                    PromptId = promptId,
                    NodeId = nodeId,
                    Prompt = prompt,
                    ExtraData = item.ExtraData,
                    Options = state.Options,
                    InputDirectory = state.InputDirectory,
                    OutputDirectory = state.OutputDirectory,
                    TempDirectory = state.TempDirectory,
                    PreviewsEnabled = previewMethod != "none",
                    StepDelayAsync = ct => StepDelayAsync(stepToken, ct),
                    LoadModelAsync = LoadModelAsync,
                    ProgressAsync = async (value, max, preview, ct) =>
                    {
                        await WaitIfHungAsync(ct).ConfigureAwait(false);
                        ThrowIfInterrupted();
                        progress[nodeId] = new ProgressEntry(value, max, "running");
                        SendProgressState();
                        state.Hub.Send("progress", new JsonObject { ["value"] = value, ["max"] = max, ["prompt_id"] = promptId, ["node"] = nodeId }, clientId);
                        if (preview is not null)
                        {
                            SendPreview(preview, promptId, nodeId, clientId);
                        }
                    },
                };
                var result = await NodeKernels.RunAsync(classType, inputs, context, cancellationToken).ConfigureAwait(false);
                lock (_lock)
                {
                    if (!definition.NotIdempotent)
                    {
                        _cache[signature] = new CacheEntry(result.Outputs, result.Ui);
                    }
                }

                values[nodeId] = result.Outputs;
                if (result.Ui is not null)
                {
                    uiOutputs[nodeId] = result.Ui;
                    if (clientId is not null)
                    {
                        state.Hub.Send("executed", new JsonObject
                        {
                            ["node"] = nodeId,
                            ["display_node"] = nodeId,
                            ["output"] = result.Ui.DeepClone(),
                            ["prompt_id"] = promptId,
                        }, clientId);
                    }
                }

                progress[nodeId] = new ProgressEntry(progress[nodeId].Max, progress[nodeId].Max, "finished");
                SendProgressState();
                executed.Add(nodeId);
                order.Complete(nodeId);
            }
            catch (NodeInterruptedException)
            {
                success = false;
                AddMessage("execution_interrupted", new JsonObject
                {
                    ["prompt_id"] = promptId,
                    ["node_id"] = nodeId,
                    ["node_type"] = classType,
                    ["executed"] = new JsonArray([.. executed.Select(e => (JsonNode)e)]),
                }, true);
                break;
            }
            catch (Exception ex) when (ex is PythonException or IOException or UnauthorizedAccessException)
            {
                success = false;
                var pythonType = ex is PythonException pe ? pe.PythonType : ex is IOException ? "OSError" : "PermissionError";
                var currentInputs = new JsonObject();
                foreach (var (name, value) in inputs)
                {
                    currentInputs[name] = new JsonArray(value switch
                    {
                        null => null,
                        string s => s,
                        decimal d => JsonValue.Create(d),
                        double d => PythonText.FloatNode(d),
                        bool b => b,
                        IReadOnlyList<SimImage> images => $"<simulated IMAGE batch of {images.Count}>",
                        _ => value.ToString(),
                    });
                }

                AddMessage("execution_error", new JsonObject
                {
                    ["prompt_id"] = promptId,
                    ["node_id"] = nodeId,
                    ["node_type"] = classType,
                    ["executed"] = new JsonArray([.. executed.Select(e => (JsonNode)e)]),
                    ["exception_message"] = ex.Message,
                    ["exception_type"] = pythonType,
                    ["traceback"] = new JsonArray(
                        "  File \"/ComfyUI/execution.py\", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(...)\n",
                        $"  File \"/ComfyUI/nodes.py\", line 1, in {classType}\n    raise {pythonType}({PythonText.Repr(ex.Message)})\n"),
                    ["current_inputs"] = currentInputs,
                    ["current_outputs"] = new JsonArray([.. currentOutputs.Select(e => (JsonNode)e)]),
                }, false);
                break;
            }
        }

        if (success)
        {
            AddMessage("execution_success", new JsonObject { ["prompt_id"] = promptId }, false);
        }

        var outputs = new JsonObject();
        var meta = new JsonObject();
        foreach (var (id, ui) in uiOutputs)
        {
            outputs[id] = ui.DeepClone();
            meta[id] = new JsonObject { ["node_id"] = id, ["display_node"] = id, ["parent_node"] = null, ["real_node_id"] = id };
        }

        return new JsonObject
        {
            ["prompt"] = item.ToJson(withoutSecrets: true),
            ["outputs"] = outputs,
            ["status"] = new JsonObject
            {
                ["status_str"] = success ? "success" : "error",
                ["completed"] = success,
                ["messages"] = messages,
            },
            ["meta"] = meta,
        };
    }

    private bool IsCached(string signature)
    {
        lock (_lock)
        {
            return _cache.ContainsKey(signature);
        }
    }

    private object? Upstream(Dictionary<string, object?[]> values, Dictionary<string, string> signatures, JsonArray link)
    {
        var sourceId = PythonText.Str(link[0]);
        var index = link[1]!.GetValue<int>();
        if (!values.TryGetValue(sourceId, out var outputs))
        {
            lock (_lock)
            {
                outputs = _cache[signatures[sourceId]].Outputs;
            }

            values[sourceId] = outputs;
        }

        return outputs[index < 0 ? outputs.Length + index : index];
    }

    private void ThrowIfInterrupted()
    {
        if (_interrupted)
        {
            throw new NodeInterruptedException();
        }
    }

    private async Task StepDelayAsync(CancellationToken stepToken, CancellationToken cancellationToken)
    {
        var delay = state.Options.StepDelay;
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, state.Options.TimeProvider, stepToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // An interrupt cut the step short; the progress hook raises it.
            }
        }
    }

    private async Task LoadModelAsync(string name, CancellationToken cancellationToken)
    {
        if (_loadedModel == name)
        {
            return;
        }

        var delay = state.Options.ModelLoadDelay;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, state.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        _loadedModel = name;
        Interlocked.Increment(ref _checkpointLoads);
    }

    private void SendPreview(byte[] png, string promptId, string nodeId, string? clientId)
    {
        byte[]? plain = null;
        byte[]? withMetadata = null;
        state.Hub.SendBinary(connection =>
        {
            if (connection.SupportsPreviewMetadata)
            {
                return withMetadata ??= PreviewWithMetadata(png, promptId, nodeId);
            }

            if (plain is null)
            {
                plain = new byte[8 + png.Length];
                BinaryPrimitives.WriteUInt32BigEndian(plain, 1);
                BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(4), 2);
                png.CopyTo(plain, 8);
            }

            return plain;
        }, clientId);
    }

    private static byte[] PreviewWithMetadata(byte[] png, string promptId, string nodeId)
    {
        var metadata = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["node_id"] = nodeId,
            ["prompt_id"] = promptId,
            ["display_node_id"] = nodeId,
            ["parent_node_id"] = null,
            ["real_node_id"] = nodeId,
            ["image_type"] = "image/png",
        }.ToJsonString());
        var frame = new byte[8 + metadata.Length + png.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 4);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)metadata.Length);
        metadata.CopyTo(frame, 8);
        png.CopyTo(frame, 8 + metadata.Length);
        return frame;
    }

    /// <summary>
    /// Input signatures (IS_CHANGED included) for every node of the prompt: identical signature = cache hit.
    /// Links contribute the upstream node's signature and output index, never the upstream id.
    /// </summary>
    private Dictionary<string, string> Signatures(JsonObject prompt)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var visiting = new HashSet<string>(StringComparer.Ordinal);

        string Of(string id)
        {
            if (result.TryGetValue(id, out var known))
            {
                return known;
            }

            if (!visiting.Add(id) || prompt[id] is not JsonObject node)
            {
                return "unresolved:" + Guid.NewGuid().ToString("N");
            }

            var classType = PythonText.Str(node["class_type"]);
            var definition = NodeLibrary.Find(classType);
            var sb = new StringBuilder(classType).Append('\u0001');
            if (definition is { NotIdempotent: true })
            {
                sb.Append(Guid.NewGuid().ToString("N"));
            }

            if (definition?.ValidatesInput is { } fileInput && node["inputs"]?[fileInput] is JsonValue fileValue)
            {
                var name = PythonText.Str(fileValue);
                var path = Path.Combine(state.InputDirectory, name.EndsWith(" [input]", StringComparison.Ordinal) ? name[..^8] : name);
                sb.Append(File.Exists(path) ? StableHash.FileHex(path) : "missing");
            }

            if (node["inputs"] is JsonObject inputs)
            {
                foreach (var (name, value) in inputs.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    sb.Append('\u0002').Append(name).Append('=');
                    if (value is JsonArray link && link.Count == 2 && link[0] is JsonValue)
                    {
                        sb.Append("link(").Append(Of(PythonText.Str(link[0]))).Append(',').Append(link[1]?.ToJsonString()).Append(')');
                    }
                    else
                    {
                        sb.Append(value?.ToJsonString() ?? "null");
                    }
                }
            }

            var signature = StableHash.Hex(sb.ToString());
            result[id] = signature;
            return signature;
        }

        foreach (var (id, _) in prompt)
        {
            Of(id);
        }

        return result;
    }
}
