using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ComfyOperator.Testing.S3;

/// <summary>
/// A real S3 server for tests: npm <c>s3rver@3.7.1</c> run with node on 127.0.0.1, a bucket
/// created at start, stopped on dispose. Can be stopped and restarted on the same port with its
/// data (to test "S3 down, then back"). Missing node or s3rver throws: tests fail, never skip.
/// Install with <c>scripts/install-test-deps.sh</c> (npm ci in tests/Testing/S3).
/// </summary>
public sealed partial class S3rverFixture : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly string _script;
    private readonly string _dataDirectory;
    private Process? _process;

    private S3rverFixture(string script, string bucket)
    {
        _script = script;
        Bucket = bucket;
        _dataDirectory = Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);
    }

    public string Bucket { get; }

    public int Port { get; private set; }

    public Uri ServiceUrl => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");

    public static async Task<S3rverFixture> StartAsync(string bucket = "outputs", CancellationToken cancellationToken = default)
    {
        var fixture = new S3rverFixture(FindScript(), bucket);
        await fixture.RunAsync(0, cancellationToken);
        return fixture;
    }

    /// <summary>Stops the server (its data stays) so requests fail until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    public Task RestartAsync(CancellationToken cancellationToken = default) => RunAsync(Port, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Temp data; leaving it behind is harmless.
        }
    }

    private static string FindScript()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"ComfyOperator.sln not found above {AppContext.BaseDirectory}; cannot locate tests/Testing/S3/node_modules.");
        }

        var script = Path.Combine(directory.FullName, "tests", "Testing", "S3", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"s3rver is not installed ({script} missing): run scripts/install-test-deps.sh.");
        }

        return script;
    }

    private async Task RunAsync(int port, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     _script, "-d", _dataDirectory, "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
                     "--no-vhost-buckets", "--configure-bucket", Bucket,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException("node is not installed or not on PATH; it is needed to run s3rver.", exception);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text && Listening().Match(text) is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                lock (errors)
                {
                    errors.AppendLine(text);
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"s3rver exited before listening: {errors}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
    }

    [GeneratedRegex(@"listening on [^:\s]+:(\d+)")]
    private static partial Regex Listening();
}
