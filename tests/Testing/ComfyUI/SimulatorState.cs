using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>Everything one simulated ComfyUI process holds: folders, queue, history, sockets, executor.</summary>
internal sealed class SimulatorState
{
    private int _interruptRequests;
    private int _cleanedFiles;
    private int _extensionRouteRequests;

    public SimulatorState(ComfyUiSimulatorOptions options, string modelsDirectory, string inputDirectory, string outputDirectory, string tempDirectory)
    {
        Options = options;
        ModelsDirectory = modelsDirectory;
        InputDirectory = inputDirectory;
        OutputDirectory = outputDirectory;
        TempDirectory = tempDirectory;
        Folders = new ModelFolders(modelsDirectory, inputDirectory);
        Validator = new PromptValidator(Folders, inputDirectory, name => !options.MissingNodeClasses.Contains(name));
        Hub = new WebSocketHub();
        Queue = new PromptQueue(remaining => Hub.Send("status", StatusData(remaining), null));
        Executor = new PromptExecutor(this);
    }

    public ComfyUiSimulatorOptions Options { get; }

    /// <summary>While set, <c>GET /view</c> waits for its release (<see cref="ViewHold"/>).</summary>
    public ViewHold? HeldViews { get; set; }

    public string ModelsDirectory { get; }

    public string InputDirectory { get; }

    public string OutputDirectory { get; }

    public string TempDirectory { get; }

    public ModelFolders Folders { get; }

    public PromptValidator Validator { get; }

    public WebSocketHub Hub { get; }

    public PromptQueue Queue { get; }

    public PromptExecutor Executor { get; }

    /// <summary>POST /interrupt requests received, honoured or not.</summary>
    public int InterruptRequests => Volatile.Read(ref _interruptRequests);

    public void CountInterruptRequest() => Interlocked.Increment(ref _interruptRequests);

    /// <summary>The <c>extra_data</c> each accepted prompt was posted with (client_id included), by prompt id.</summary>
    public ConcurrentDictionary<string, JsonObject> ReceivedExtraData { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests the stand-in extension's route answered (any method).</summary>
    public int ExtensionRouteRequests => Volatile.Read(ref _extensionRouteRequests);

    public void CountExtensionRouteRequest() => Interlocked.Increment(ref _extensionRouteRequests);

    /// <summary>Files deleted through the cleanup route.</summary>
    public int CleanedFiles => Volatile.Read(ref _cleanedFiles);

    public void CountCleanedFile() => Interlocked.Increment(ref _cleanedFiles);

    public static JsonObject StatusData(int remaining) => new()
    {
        ["status"] = new JsonObject { ["exec_info"] = new JsonObject { ["queue_remaining"] = remaining } },
    };

    /// <summary>The server's feature flags (/features and the ws reply).</summary>
    public JsonObject Features() => new()
    {
        ["supports_preview_metadata"] = true,
        ["max_upload_size"] = PythonText.FloatNode(Math.Round(Options.MaxUploadSizeMb * 1024 * 1024)),
    };

    public long MaxBodyBytes => (long)Math.Round(Options.MaxUploadSizeMb * 1024 * 1024);
}
