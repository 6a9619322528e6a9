namespace ComfyOperator.Router.Workers;

/// <summary>A file reference as ComfyUI reports it (<c>{filename, subfolder, type}</c>).</summary>
internal sealed record WorkerFile(string NodeId, string FileName, string Subfolder, string Type);
