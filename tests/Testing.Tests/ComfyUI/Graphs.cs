using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>The reference graphs of docs/comfyui-protocol.md §8, in API format.</summary>
internal static class Graphs
{
    public static JsonObject Sd15(long seed = 42, int steps = 3, string text = "a lighthouse at dusk", string prefix = "ComfyUI",
        string ckpt = "v1-5-pruned-emaonly.safetensors", int size = 64) => JsonNode.Parse($$$"""
        {
          "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{{ckpt}}}"}},
          "5": {"class_type": "EmptyLatentImage", "inputs": {"width": {{{size}}}, "height": {{{size}}}, "batch_size": 1}},
          "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{{text}}}", "clip": ["4", 1]}},
          "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
          "3": {"class_type": "KSampler", "inputs": {"seed": {{{seed}}}, "steps": {{{steps}}}, "cfg": 7.5, "sampler_name": "euler",
                "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0],
                "negative": ["7", 0], "latent_image": ["5", 0]}},
          "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
          "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "{{{prefix}}}", "images": ["8", 0]}}
        }
        """)!.AsObject();

    public static JsonObject Flux(long seed = 7, int steps = 2) => JsonNode.Parse($$$"""
        {
          "10": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
          "11": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "clip_l.safetensors", "clip_name2": "t5xxl_fp16.safetensors", "type": "flux"}},
          "12": {"class_type": "CLIPTextEncodeFlux", "inputs": {"clip": ["11", 0], "clip_l": "a fox", "t5xxl": "a fox in snow", "guidance": 3.5}},
          "13": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["12", 0]}},
          "14": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
          "15": {"class_type": "KSampler", "inputs": {"seed": {{{seed}}}, "steps": {{{steps}}}, "cfg": 1, "sampler_name": "euler", "scheduler": "simple",
                 "denoise": 1, "model": ["10", 0], "positive": ["12", 0], "negative": ["13", 0], "latent_image": ["14", 0]}},
          "16": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
          "17": {"class_type": "VAEDecode", "inputs": {"samples": ["15", 0], "vae": ["16", 0]}},
          "18": {"class_type": "SaveImage", "inputs": {"filename_prefix": "flux", "images": ["17", 0]}}
        }
        """)!.AsObject();
}
