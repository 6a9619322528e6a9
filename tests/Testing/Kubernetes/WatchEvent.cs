namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// One committed change, kept in the history ring. <see cref="Old"/> is the previous version
/// (null for ADDED), <see cref="New"/> the new one (for DELETED: the last state stamped with the
/// deletion's resourceVersion).
/// </summary>
internal sealed record WatchEvent(long ResourceVersion, string StorageKey, string Type, StoredObject? Old, StoredObject New);
