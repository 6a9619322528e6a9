using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace ComfyOperator.Testing.Postgres;

/// <summary>
/// A real PostgreSQL server for tests: Debian's <c>postgresql</c> binaries (<c>initdb</c>, <c>pg_ctl</c>)
/// run on a cluster in a temporary directory, listening on 127.0.0.1 on a free port with trust
/// authentication. PostgreSQL refuses to run as root, so under root the binaries run as the
/// <c>postgres</c> system user (<c>runuser</c>) on a directory that user owns. One server per test
/// process (<see cref="SharedAsync"/>), stopped and its directory removed once the process has exited; each
/// test takes a fresh database from it (<see cref="CreateDatabaseAsync"/>). Missing binaries throw
/// with what to install: tests fail, never skip. Install with <c>scripts/install-test-deps.sh</c>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The cluster's superuser (initdb <c>-U</c>), whoever runs the binaries.</summary>
    public const string Superuser = "postgres";

    private const string RunAsUser = "postgres";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartSharedAsync());

    private readonly string _binDirectory;
    private readonly string _directory;
    private readonly bool _asRoot;
    private int _stopped;

    private PostgresServer(string binDirectory, string directory, bool asRoot)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _asRoot = asRoot;
    }

    public int Port { get; private set; }

    /// <summary>Superuser connection string of the <c>postgres</c> database (for creating and dropping databases).</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>The server shared by every test of this process, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>
    /// Starts a server of its own (stopped on dispose). <paramref name="fsync"/> off (tests) trades
    /// durability across a machine crash for speed; benchmarks keep it on.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool fsync = false, CancellationToken cancellationToken = default)
    {
        var binDirectory = FindBinDirectory();
        var asRoot = Environment.UserName == "root";
        var directory = Directory.CreateTempSubdirectory("postgres-").FullName;
        var server = new PostgresServer(binDirectory, directory, asRoot);
        try
        {
            if (asRoot)
            {
                await RunAsync("chown", [RunAsUser + ":", directory], cancellationToken);
            }

            await server.RunToolAsync("initdb", ["-D", server.DataDirectory, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--no-sync"], cancellationToken);
            await server.StartServerAsync(fsync, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    /// <summary>Creates an empty database with a unique name; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = "test_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionString(name);
    }

    /// <summary>Drops the database of <paramref name="connectionString"/>, closing whatever is still connected to it.</summary>
    public async Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database
            ?? throw new ArgumentException("The connection string names no database.", nameof(connectionString));

        // Pooled connections of the test would keep the database busy.
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            if (Port != 0)
            {
                // Fast, not immediate: the postmaster waits for every backend, so no process still writes into the directory removed next.
                await RunToolAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w"], CancellationToken.None);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"PostgreSQL test directory {_directory} not removed: {ex.Message}");
            }
        }
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = await StartAsync();
        server.StartReaper(Environment.ProcessId);
        return server;
    }

    /// <summary>
    /// xUnit has no per-assembly teardown, and the test host may be killed before exit handlers
    /// finish: a detached shell stops the server and removes its directory once
    /// <paramref name="processId"/> is gone, however it ended.
    /// </summary>
    private void StartReaper(int processId)
    {
        var pgCtl = Path.Combine(_binDirectory, "pg_ctl");
        var stop = $"{(_asRoot ? $"runuser -u {RunAsUser} -- " : "")}{Quote(pgCtl)} stop -D {Quote(DataDirectory)} -m fast -w";
        var script = $"while kill -0 {processId.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {Quote(_directory)}";
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "/bin/sh", "-c", script })
        {
            start.ArgumentList.Add(argument);
        }

        using var reaper = Process.Start(start) ?? throw new InvalidOperationException("setsid did not start the PostgreSQL reaper.");
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(c => File.Exists(Path.Combine(c.Directory, "initdb")) && File.Exists(Path.Combine(c.Directory, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .ToList()
            : [];
        return candidates.Count > 0
            ? candidates[0].Directory
            : throw new InvalidOperationException(
                $"PostgreSQL is not installed: no {Root}/<version>/bin with initdb and pg_ctl. Run scripts/install-test-deps.sh (apt-get install postgresql).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StartServerAsync(bool fsync, CancellationToken cancellationToken)
    {
        // A free port can be taken between our check and the server's bind: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var options = string.Join(
                ' ',
                "-c listen_addresses=127.0.0.1",
                $"-c port={port.ToString(CultureInfo.InvariantCulture)}",
                $"-c unix_socket_directories={_directory}",
                "-c max_connections=400",
                $"-c fsync={(fsync ? "on" : "off")}",
                $"-c synchronous_commit={(fsync ? "on" : "off")}",
                $"-c full_page_writes={(fsync ? "on" : "off")}");
            try
            {
                await RunToolAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_directory, "server.log"), "-o", options], cancellationToken);
                Port = port;
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    private Task RunToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDirectory, tool);
        return _asRoot ? RunAsync("runuser", ["-u", RunAsUser, "--", path, .. arguments], cancellationToken) : RunAsync(path, arguments, cancellationToken);
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish in 120 s.");
        }

        if (process.ExitCode != 0)
        {
            var message = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:")
                .AppendLine()
                .Append(await output)
                .Append(await error);
            throw new InvalidOperationException(message.ToString());
        }
    }
}
