using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// server.py's <c>sockets</c> dict keyed by client id, with its reconnect quirk kept on purpose: connecting
/// again with a live id replaces the entry without closing the old socket, and the old socket's cleanup
/// later removes the entry by id (so the new socket stops receiving). Clients must reconnect with a fresh id.
/// </summary>
internal sealed class WebSocketHub
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, WebSocketConnection> _sockets = new(StringComparer.Ordinal);
    private readonly List<WebSocketConnection> _all = [];
    private readonly Dictionary<string, int> _opened = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count;
            }
        }
    }

    public void Add(WebSocketConnection connection)
    {
        lock (_lock)
        {
            _sockets[connection.Sid] = connection;
            _all.Add(connection);
            _opened[connection.Sid] = _opened.GetValueOrDefault(connection.Sid) + 1;
        }
    }

    public void Remove(WebSocketConnection connection)
    {
        lock (_lock)
        {
            _sockets.Remove(connection.Sid);
            _all.Remove(connection);
        }
    }

    /// <summary>Sockets ever opened under <paramref name="sid"/> (a diagnostic; the server keeps no such count).</summary>
    public int OpenedFor(string sid)
    {
        lock (_lock)
        {
            return _opened.GetValueOrDefault(sid);
        }
    }

    public bool SupportsPreviewMetadata(string sid)
    {
        lock (_lock)
        {
            return _sockets.TryGetValue(sid, out var c) && c.SupportsPreviewMetadata;
        }
    }

    public static byte[] Frame(string type, JsonNode data) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["data"] = data }.ToJsonString(PythonText.Wire));

    /// <summary>Sends to <paramref name="sid"/>, or to every socket when it is null (server.py send_sync semantics).</summary>
    public void Send(string type, JsonNode data, string? sid)
    {
        var bytes = Frame(type, data);
        lock (_lock)
        {
            if (sid is null)
            {
                foreach (var c in _sockets.Values)
                {
                    c.Enqueue(bytes, text: true);
                }
            }
            else if (_sockets.TryGetValue(sid, out var target))
            {
                target.Enqueue(bytes, text: true);
            }
        }
    }

    /// <summary>Sends a binary frame built per receiver (previews differ for clients announcing preview metadata).</summary>
    public void SendBinary(Func<WebSocketConnection, byte[]> build, string? sid)
    {
        lock (_lock)
        {
            if (sid is null)
            {
                foreach (var c in _sockets.Values)
                {
                    c.Enqueue(build(c), text: false);
                }
            }
            else if (_sockets.TryGetValue(sid, out var target))
            {
                target.Enqueue(build(target), text: false);
            }
        }
    }

    public void AbortAll()
    {
        List<WebSocketConnection> all;
        lock (_lock)
        {
            all = [.. _all];
            _all.Clear();
            _sockets.Clear();
        }

        foreach (var c in all)
        {
            c.Abort();
        }
    }
}
