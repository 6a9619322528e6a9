using ComfyOperator.Comfy.Client;

namespace ComfyOperator.Router.WorkerDisks;

/// <summary>A file in one of a worker's ComfyUI folders: <paramref name="Type"/> is <c>input</c>, <c>output</c> or <c>temp</c>.</summary>
internal sealed record WorkerFile(string Type, string Subfolder, string Filename)
{
    public static WorkerFile Of(ComfyFileRef file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new WorkerFile(string.IsNullOrEmpty(file.Type) ? "output" : file.Type, file.Subfolder ?? "", file.Filename);
    }
}
