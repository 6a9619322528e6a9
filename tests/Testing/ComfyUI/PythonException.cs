namespace ComfyOperator.Testing.ComfyUI;

/// <summary>An error the real server would raise as a Python exception (type name as <c>full_type_name</c> prints it).</summary>
internal sealed class PythonException(string pythonType, string message) : Exception(message)
{
    public string PythonType { get; } = pythonType;

    /// <summary>A plausible <c>traceback.format_tb</c> list; the frames are simulated.</summary>
    public static List<string> Traceback(string function) =>
    [
        $"  File \"/ComfyUI/execution.py\", line 1, in {function}\n",
    ];
}
