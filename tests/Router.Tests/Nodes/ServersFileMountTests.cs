using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Nodes;

/// <summary>Servers files mounted the way Kubernetes and operators really mount them, not edited in place.</summary>
public sealed class ServersFileMountTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly string _directory = Directory.CreateTempSubdirectory("router-mount-").FullName;

    [Fact]
    public async Task ServersFile_ConfigMapDataLinkSwapped_NodesShowTheNewList()
    {
        // The kubelet's layout: dir/..<timestamp>/servers.txt, dir/..data -> ..<timestamp>, dir/servers.txt -> ..data/servers.txt.
        var mount = Path.Combine(_directory, "config");
        Directory.CreateDirectory(mount);
        await WriteVersionAsync(mount, "..2026_11_22_10_00_00.000000001", "http://127.0.0.1:9/\nhttp://127.0.0.1:10/\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_11_22_10_00_00.000000001");
        File.CreateSymbolicLink(Path.Combine(mount, "servers.txt"), Path.Combine("..data", "servers.txt"));
        await using var router = new RouterFactory(new Dictionary<string, string?> { ["Router:ServersFile"] = Path.Combine(mount, "servers.txt") });
        using var client = router.CreateAuthorizedClient();
        await WaitForNodesAsync(client, ["http://127.0.0.1:9/", "http://127.0.0.1:10/"]);

        // An update: a new timestamped directory, a temporary link to it, renamed over ..data (atomic).
        await WriteVersionAsync(mount, "..2026_11_22_10_05_00.000000002", "# resized\nhttp://127.0.0.1:11/\n");
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), "..2026_11_22_10_05_00.000000002");
        await RenameOverAsync(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data"));
        Directory.Delete(Path.Combine(mount, "..2026_11_22_10_00_00.000000001"), recursive: true);

        await WaitForNodesAsync(client, ["http://127.0.0.1:11/"]);
    }

    [Fact]
    public async Task ServersFile_LinkTargetInAnotherDirectoryRewritten_PickedUpByPolling()
    {
        // No event reaches the watched directory when the file behind the link changes elsewhere: only polling sees it.
        var elsewhere = Path.Combine(_directory, "elsewhere");
        var watched = Path.Combine(_directory, "watched");
        Directory.CreateDirectory(elsewhere);
        Directory.CreateDirectory(watched);
        var target = Path.Combine(elsewhere, "real-servers.txt");
        await File.WriteAllTextAsync(target, "http://gpu[1-2]:8188\n");
        var link = Path.Combine(watched, "servers.txt");
        File.CreateSymbolicLink(link, target);
        using var source = new StaticNodeSource(Options.Create(new RouterOptions { ServersFile = link }), NullLogger<StaticNodeSource>.Instance, TimeProvider.System);
        Assert.Equal(2, source.Current.Count);

        await File.WriteAllTextAsync(target, "http://gpu[1-5]:8188\n");

        await Wait.UntilAsync(() => source.Current.Count == 5, Timeout, "polling to pick up the rewritten link target");
    }

    [Fact]
    public async Task Start_BadEntryInServersFile_FailsNamingTheEntry()
    {
        var file = Path.Combine(_directory, "servers.txt");
        await File.WriteAllTextAsync(file, "# workers\nhttp://gpu1:8188\nhttp://gpu[7-x]:8188\n");
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:ServersFile"] = file });

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        var message = ex.ToString();
        Assert.Contains("Router:ServersFile", message, StringComparison.Ordinal);
        Assert.Contains("http://gpu[7-x]:8188", message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>rename(2) of a link over a link, as the kubelet does; .NET's File.Move refuses a link to a directory.</summary>
    private static async Task RenameOverAsync(string from, string to)
    {
        using var mv = Process.Start(new ProcessStartInfo("mv", ["-T", from, to]) { RedirectStandardError = true })!;
        await mv.WaitForExitAsync();
        Assert.True(mv.ExitCode == 0, await mv.StandardError.ReadToEndAsync());
    }

    private static async Task WriteVersionAsync(string mount, string version, string content)
    {
        var directory = Path.Combine(mount, version);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "servers.txt"), content);
    }

    private static async Task WaitForNodesAsync(HttpClient client, string[] addresses) =>
        await Wait.UntilAsync(async () =>
        {
            var nodes = await client.GetFromJsonAsync<JsonElement>("/v1/nodes");
            var listed = nodes.EnumerateArray().Select(n => n.GetProperty("address").GetString()).Order().ToList();
            return listed.SequenceEqual(addresses.Order());
        }, Timeout, $"/v1/nodes to list exactly {string.Join(", ", addresses)}");
}
