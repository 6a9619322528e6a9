namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Settings of a <see cref="KubeApiEmulator"/>.</summary>
public sealed class KubeApiEmulatorOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Number of change events kept for watch resume. A watch from an older resourceVersion gets a
    /// 410 Expired ERROR frame, so tests force that path with a small value.
    /// </summary>
    public int WatchHistoryCapacity { get; set; } = 1000;

    /// <summary>Clock for timestamps, ages and watch timeouts.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>When set, requests without <c>Authorization: Bearer</c> this token get 401.</summary>
    public string? RequiredBearerToken { get; set; }

    /// <summary>How often an open watch with <c>allowWatchBookmarks=true</c> gets a BOOKMARK.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Events buffered per open watch before the emulator gives up on a slow reader and closes its
    /// stream (the client resumes from its last resourceVersion). Keeps memory bounded.
    /// </summary>
    public int WatchBufferCapacity { get; set; } = 100_000;

    /// <summary>
    /// When set, receives one line per request as its response starts: method, path and query,
    /// status. Shows what a client asks the server for (<c>kube-api --log-requests</c>).
    /// </summary>
    public Action<string>? RequestLog { get; set; }
}
