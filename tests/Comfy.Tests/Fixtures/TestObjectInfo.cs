using ComfyOperator.Comfy.Nodes;

namespace ComfyOperator.Comfy.Tests.Fixtures;

/// <summary>An /object_info excerpt in the shape of docs/comfyui-protocol.md §4.5, for the classes of the SD1.5 graph.</summary>
internal static class TestObjectInfo
{
    public const string Json = """
        {
          "CheckpointLoaderSimple": {
            "input": {"required": {"ckpt_name": [["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"], {"tooltip": "The name of the checkpoint (model) to load."}]}},
            "input_order": {"required": ["ckpt_name"]},
            "output": ["MODEL", "CLIP", "VAE"], "output_is_list": [false, false, false], "output_name": ["MODEL", "CLIP", "VAE"],
            "name": "CheckpointLoaderSimple", "display_name": "Load Checkpoint", "description": "", "python_module": "nodes",
            "category": "loaders", "output_node": false
          },
          "CLIPTextEncode": {
            "input": {"required": {"text": ["STRING", {"multiline": true, "dynamicPrompts": true}], "clip": ["CLIP"]}},
            "output": ["CONDITIONING"], "name": "CLIPTextEncode", "category": "conditioning", "output_node": false
          },
          "EmptyLatentImage": {
            "input": {"required": {"width": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                                   "height": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                                   "batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}]}},
            "output": ["LATENT"], "name": "EmptyLatentImage", "category": "latent", "output_node": false
          },
          "KSampler": {
            "input": {"required": {"model": ["MODEL"], "seed": ["INT", {"default": 0, "min": 0, "max": 18446744073709551615}],
                                   "steps": ["INT", {"default": 20, "min": 1, "max": 10000}],
                                   "cfg": ["FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1}],
                                   "sampler_name": [["euler", "euler_ancestral", "dpmpp_2m"], {}],
                                   "scheduler": [["simple", "normal", "karras"], {}],
                                   "positive": ["CONDITIONING"], "negative": ["CONDITIONING"], "latent_image": ["LATENT"],
                                   "denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}]}},
            "output": ["LATENT"], "name": "KSampler", "category": "sampling", "output_node": false
          },
          "VAEDecode": {
            "input": {"required": {"samples": ["LATENT"], "vae": ["VAE"]}},
            "output": ["IMAGE"], "name": "VAEDecode", "category": "latent", "output_node": false
          },
          "SaveImage": {
            "input": {"required": {"images": ["IMAGE"], "filename_prefix": ["STRING", {"default": "ComfyUI"}]},
                      "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}},
            "output": [], "name": "SaveImage", "category": "image", "output_node": true
          },
          "LoadImage": {
            "input": {"required": {"image": [["example.png"], {"image_upload": true}]}},
            "output": ["IMAGE", "MASK"], "name": "LoadImage", "category": "image", "output_node": false
          },
          "NewStyleCombo": {
            "input": {"required": {"mode": ["COMBO", {"options": ["a", "b"]}], "flag": ["BOOLEAN", {"default": false}]}},
            "output": ["STRING"], "name": "NewStyleCombo", "category": "test", "output_node": true
          }
        }
        """;

    public static ComfyObjectInfo Load() => ComfyObjectInfo.Parse(Json);
}
