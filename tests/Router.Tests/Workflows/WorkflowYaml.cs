namespace ComfyOperator.Router.Tests.Workflows;

/// <summary>WorkflowDeployment documents as a user would kubectl apply them.</summary>
internal static class WorkflowYaml
{
    public const string Portrait = """
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata:
          name: portrait
          annotations:
            comfyoperator.io/placement-policy: LeastQueued
            comfyoperator.io/queue-when-unavailable: "true"
        spec:
          workflow:
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}}
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a portrait", "clip": ["4", 1]}}
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}}
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 3, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}}
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}}
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "portrait", "images": ["8", 0]}}
            "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
          inputs:
            - name: prompt
              node: "6"
              input: text
              type: string
              required: true
              description: What to draw.
            - name: steps
              node: "3"
              input: steps
              type: integer
              min: 1
              max: 30
              default: 3
            - name: seed
              node: "3"
              input: seed
              type: integer
              min: 0
          outputs:
            - name: image
              node: "9"
          limits:
            maxPending: 3
        """;
}
