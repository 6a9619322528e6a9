using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.WorkerDisks;

/// <summary>Registers worker disk cleanup (options from <c>Router:DiskCleanup</c>).</summary>
internal static class WorkerDiskServiceCollectionExtensions
{
    public static IServiceCollection AddWorkerDiskCleanup(this IServiceCollection services)
    {
        services.AddOptions<WorkerDiskOptions>().BindConfiguration(WorkerDiskOptions.SectionName)
            .Validate(
                disks => disks.Token is null || disks.Token.Length >= WorkerDiskOptions.MinTokenLength,
                $"Router:DiskCleanup:Token (COMFY_ROUTER__DISK_CLEANUP__TOKEN) must have at least {WorkerDiskOptions.MinTokenLength} characters.")
            .Validate(
                disks => disks.KeepFor >= TimeSpan.Zero,
                "Router:DiskCleanup:KeepFor (COMFY_ROUTER__DISK_CLEANUP__KEEP_FOR) must not be negative.")
            .Validate(
                disks => disks.RequestTimeout > TimeSpan.Zero,
                "Router:DiskCleanup:RequestTimeout (COMFY_ROUTER__DISK_CLEANUP__REQUEST_TIMEOUT) must be a positive duration.")
            .Validate(
                disks => ParsesAsAddresses(disks.Workers),
                "Router:DiskCleanup:Workers (COMFY_ROUTER__DISK_CLEANUP__WORKERS__0) must be worker addresses like Router:Nodes.")
            .ValidateOnStart();
        services.AddSingleton<WorkerDiskCleaner>();
        services.AddSingleton<IRunEventObserver>(sp => sp.GetRequiredService<WorkerDiskCleaner>());
        services.AddHostedService(sp => sp.GetRequiredService<WorkerDiskCleaner>());
        return services;
    }

    private static bool ParsesAsAddresses(IEnumerable<string> entries)
    {
        try
        {
            NodeAddressParser.ParseEntries(entries);
            return true;
        }
        catch (NodeAddressException)
        {
            return false;
        }
    }
}
