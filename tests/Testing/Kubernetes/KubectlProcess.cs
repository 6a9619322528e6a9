using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>A running kubectl whose stdout is read line by line; disposing kills it.</summary>
public sealed class KubectlProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _all = new();
    private readonly Lock _gate = new();
    private int _closedStreams;

    internal KubectlProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data is null ? null : "stderr: " + e.Data);
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything read so far (stdout and stderr lines).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _all.ToString();
            }
        }
    }

    /// <summary>Waits for a line matching <paramref name="predicate"/>, failing after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(cts.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (predicate(line))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no matching kubectl output within {timeout}; output so far:\n{Output}");
        }

        throw new InvalidOperationException($"kubectl exited without the expected line; output:\n{Output}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            if (Interlocked.Increment(ref _closedStreams) == 2)
            {
                _lines.Writer.TryComplete();
            }

            return;
        }

        lock (_gate)
        {
            _all.AppendLine(line);
        }

        _lines.Writer.TryWrite(line);
    }
}
