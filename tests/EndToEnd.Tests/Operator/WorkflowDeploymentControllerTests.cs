using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Events;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Controllers;
using ComfyOperator.Operator.Reconciliation;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.EndToEnd.Tests.Operator;

/// <summary>
/// The WorkflowDeployment controller against the API emulator, driven one reconcile at a time so
/// the node cache can be held stale on purpose (as it is between a create and its watch event).
/// </summary>
public sealed class WorkflowDeploymentControllerTests : IAsyncLifetime
{
    private readonly OperatorEnvironment _env = new();

    private CustomResourceClient<ComfyNode> Nodes => new(_env.Client);

    private CustomResourceClient<WorkflowDeployment> Deployments => new(_env.Client);

    public Task InitializeAsync() => _env.InitializeAsync();

    public Task DisposeAsync() => _env.DisposeAsync();

    [Fact]
    public async Task StaleNodeCache_NodesAlreadyMade_AreCounted_NoExtraOrdinals()
    {
        var ns = await _env.CreateNamespaceAsync("stale");
        var deployment = await Deployments.CreateAsync(Deployment("w", replicas: 3), ns);
        foreach (var ordinal in new[] { 0, 1, 2 })
        {
            var node = new ComfyNode
            {
                Metadata = new V1ObjectMeta { Name = $"w-{ordinal}", NamespaceProperty = ns },
                Spec = new ComfyNodeSpec { Image = "comfyui:test" },
            };
            node.Metadata.SetControllerReference(deployment);
            await Nodes.CreateAsync(node, ns, cancellationToken: CancellationToken.None);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var result = await ReconcileWithStaleNodeCacheAsync(ns, cts.Token);

        Assert.True(result.Succeeded, result.Error);
        var names = (await Nodes.ListAsync(ns, cancellationToken: cts.Token)).Items.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["w-0", "w-1", "w-2"], names);
        var written = await Deployments.ReadAsync("w", ns, cts.Token);
        Assert.Equal(3, written.Status.Replicas);
        Assert.Equal("0/3", written.Status.ReadyText);
    }

    [Fact]
    public async Task StaleNodeCache_NameTakenBySomeoneElse_IsSkipped_NextOrdinalMade()
    {
        var ns = await _env.CreateNamespaceAsync("taken");
        await Deployments.CreateAsync(Deployment("w", replicas: 1), ns);
        await Nodes.CreateAsync(new ComfyNode
        {
            Metadata = new V1ObjectMeta { Name = "w-0", NamespaceProperty = ns },
            Spec = new ComfyNodeSpec { Image = "comfyui:hand-made" },
        }, ns);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True((await ReconcileWithStaleNodeCacheAsync(ns, cts.Token)).Succeeded);

        var nodes = (await Nodes.ListAsync(ns, cancellationToken: cts.Token)).Items;
        Assert.Equal(["w-0", "w-1"], nodes.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Null(nodes.Single(n => n.Metadata.Name == "w-0").Metadata.OwnerReferences);
        Assert.Equal("comfyui:hand-made", nodes.Single(n => n.Metadata.Name == "w-0").Spec.Image);
    }

    /// <summary>One reconcile of deployment <c>w</c> with a synced workflow cache and a node cache that has seen nothing yet.</summary>
    private async Task<ReconcileResult> ReconcileWithStaleNodeCacheAsync(string ns, CancellationToken cancellationToken)
    {
        await using var workflows = new ResourceCache<WorkflowDeployment>(_env.Client, [ns], null, TimeProvider.System);
        workflows.Start(cancellationToken);
        await workflows.WaitForSyncAsync(cancellationToken);

        // Never started: the cache has not seen any node yet, as right after an earlier pass made them.
        await using var staleNodes = new ResourceCache<ComfyNode>(_env.Client, [ns], null, TimeProvider.System);
        using var events = new EventRecorder(_env.Client, new EventRecorderOptions { Component = EntityApi.OperatorName });
        var controller = new WorkflowDeploymentController(_env.Client, workflows, staleNodes, events, null, TimeSpan.FromSeconds(5), TimeProvider.System, NullLogger<WorkflowDeploymentController>.Instance);
        return await controller.ReconcileAsync($"{ns}/w", cancellationToken);
    }

    private static WorkflowDeployment Deployment(string name, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new WorkflowDeploymentSpec
        {
            Replicas = replicas,
            Template = new ComfyNodeSpec { Image = "comfyui:test" },
            Workflow = JsonDocument.Parse("""
                {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
                 "2": {"class_type": "SaveImage", "inputs": {"filename_prefix": "w", "images": ["1", 0]}}}
                """).RootElement.Clone(),
        },
    };
}
