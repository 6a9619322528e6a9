using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>What a ComfyNode should be. Everything but <see cref="Url"/>, <see cref="MaxQueue"/>, <see cref="Labels"/>, <see cref="Probe"/> and <see cref="Unschedulable"/> applies to managed nodes only.</summary>
[Description("Desired state of a ComfyUI worker.")]
public sealed class ComfyNodeSpec
{
    [Description("External node: base URL of a ComfyUI that already runs (http or https). When set, nothing is created; the node is only probed and scheduled onto.")]
    [RegularExpression("^https?://[^\\s/]+(/.*)?$")]
    [SuppressMessage("Design", "CA1056:URI-like properties should not be strings", Justification = "Wire shape of the resource; users write a string.")]
    public string? Url { get; set; }

    [Description("Container image running ComfyUI (and the comfy-operator binary for sync-models). Defaults to the operator's --default-image.")]
    public string? Image { get; set; }

    [Description("Image pull policy of the ComfyUI container.")]
    [AllowedValues("Always", "IfNotPresent", "Never")]
    public string? ImagePullPolicy { get; set; }

    [Description("CPU, memory and GPU for the ComfyUI container.")]
    public NodeResources? Resources { get; set; }

    [Description("Node labels the pod must be scheduled on.")]
    public IDictionary<string, string>? NodeSelector { get; set; }

    [Description("Tolerations of the pod (GPU nodes are often tainted).")]
    public IList<V1Toleration>? Tolerations { get; set; }

    [Description("Extra environment variables of the ComfyUI container.")]
    public IList<V1EnvVar>? Env { get; set; }

    [Description("Extra ComfyUI command-line flags, appended after the ones the operator sets (e.g. --lowvram, --preview-method auto).")]
    public IList<string>? ExtraArgs { get; set; }

    [Description("Port ComfyUI listens on inside the pod.")]
    [Range(1, 65535)]
    [DefaultValue(8188)]
    public int Port { get; set; } = 8188;

    [Description("The shared model cache volume: a ReadWriteMany PVC mounted in every pod and listed in ComfyUI's extra_model_paths.yaml.")]
    public ModelCacheSpec? ModelCache { get; set; }

    [Description("Model files that must be in the cache before ComfyUI starts; an init container downloads and verifies them.")]
    public IList<ModelFile>? Models { get; set; }

    [Description("Prompts the router may keep queued on this worker at once.")]
    [Range(1, 1000)]
    [DefaultValue(1)]
    public int MaxQueue { get; set; } = 1;

    [Description("Labels the router matches workflows against (in addition to metadata.labels).")]
    public IDictionary<string, string>? Labels { get; set; }

    [Description("How the operator probes the node.")]
    public ProbeSpec? Probe { get; set; }

    [Description("Create a Service in front of the pod.")]
    public NodeServiceSpec? Service { get; set; }

    [Description("Seconds a stopping pod gets to finish the prompt it is running before it is killed.")]
    [Range(0, 86400)]
    [DefaultValue(300)]
    public int TerminationGracePeriodSeconds { get; set; } = 300;

    [Description("Cordon: the router sends the node nothing new and lets it finish what it has (like a Node's spec.unschedulable). Set by hand; a deleted node is cordoned the same way while its finalizer waits for it to drain.")]
    public bool Unschedulable { get; set; }
}
