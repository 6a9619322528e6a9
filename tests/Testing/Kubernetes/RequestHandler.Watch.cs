using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>The watch stream of docs/kubernetes-api.md §4: one JSON event per line, flushed per event.</summary>
internal sealed partial class RequestHandler
{
    private static readonly byte[] s_frameEnd = "}\n"u8.ToArray();

    private async Task WatchAsync(HttpContext context, ResourceRoute route, CancellationToken ct)
    {
        var q = context.Request.Query;
        var type = route.Type;
        long? fromRv = null;
        if (q["resourceVersion"].ToString() is { Length: > 0 } rvText)
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                throw StatusErrors.BadRequest($"resourceVersion: Invalid value: \"{rvText}\": must be a non-negative integer");
            }

            fromRv = parsed;
        }

        bool? sendInitialEvents = q["sendInitialEvents"].ToString() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => null,
        };
        if (sendInitialEvents is not null && q["resourceVersionMatch"] != "NotOlderThan")
        {
            throw new ApiException(422, StatusErrors.Status(422, "Invalid",
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
        }

        var bookmarks = q["allowWatchBookmarks"] == "true" || q["allowWatchBookmarks"] == "1";
        var table = TableRenderer.WantsTable(context.Request.Headers.Accept);
        var labels = LabelSelector.Parse(q["labelSelector"]);
        var fields = FieldSelector.Parse(q["fieldSelector"], type);
        TimeSpan? timeout = null;
        if (q["timeoutSeconds"].ToString() is { Length: > 0 } timeoutText && long.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            timeout = TimeSpan.FromSeconds(seconds);
        }

        var (watcher, error) = state.OpenWatch(type, route.Namespace, labels, fields, fromRv, sendInitialEvents);
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(ct);
            var body = context.Response.Body;
            if (error is not null)
            {
                await WriteFrameAsync(body, "ERROR", JsonSerializer.SerializeToUtf8Bytes(error), ct);
                return;
            }

            await context.Response.Body.FlushAsync(ct);
            using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t, options.TimeProvider) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
            var token = linked.Token;
            Task<bool>? waiting = null;
            try
            {
                while (true)
                {
                    while (watcher.Reader.TryRead(out var frame))
                    {
                        await WriteFrameAsync(body, type, frame, table, ct);
                    }

                    waiting ??= watcher.Reader.WaitToReadAsync(token).AsTask();
                    if (bookmarks)
                    {
                        var tick = Task.Delay(options.BookmarkInterval, options.TimeProvider, token);
                        var done = await Task.WhenAny(waiting, tick);
                        if (done == tick)
                        {
                            await tick;
                            if (state.BookmarkResourceVersion(watcher) is { } bookmarkRv)
                            {
                                await WriteFrameAsync(body, type, new WatchFrame("BOOKMARK", null, bookmarkRv), table, ct);
                            }

                            continue;
                        }
                    }

                    var more = await waiting;
                    waiting = null;
                    if (!more)
                    {
                        if (watcher.Dropped)
                        {
                            context.Abort();
                        }

                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // timeoutSeconds elapsed: end the stream cleanly, as the real server does.
            }
        }
        finally
        {
            state.CloseWatch(watcher);
        }
    }

    private async Task WriteFrameAsync(Stream body, ResourceType type, WatchFrame frame, bool table, CancellationToken ct)
    {
        byte[] objectBytes;
        if (frame.Object is null)
        {
            var meta = new JsonObject { ["resourceVersion"] = frame.ResourceVersion.ToString(CultureInfo.InvariantCulture) };
            if (frame.InitialEventsEnd)
            {
                meta["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
            }

            objectBytes = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion, ["metadata"] = meta });
        }
        else if (table)
        {
            var obj = ClusterState.Render(frame.Object, type);
            objectBytes = JsonSerializer.SerializeToUtf8Bytes(TableRenderer.Table(type, [obj], "Metadata", options.TimeProvider.GetUtcNow(), null, null));
        }
        else
        {
            objectBytes = ClusterState.RenderBytes(frame.Object, type);
        }

        await WriteFrameAsync(body, frame.Type, objectBytes, ct);
    }

    private static async Task WriteFrameAsync(Stream body, string eventType, byte[] objectBytes, CancellationToken ct)
    {
        await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"{eventType}\",\"object\":"), ct);
        await body.WriteAsync(objectBytes, ct);
        await body.WriteAsync(s_frameEnd, ct);
        await body.FlushAsync(ct);
    }
}
