namespace ComfyOperator.Testing.Kubernetes;

/// <summary>A frame queued for one watcher: event type plus the object bytes (or a bookmark RV).</summary>
internal sealed record WatchFrame(string Type, StoredObject? Object, long ResourceVersion, bool InitialEventsEnd = false);
