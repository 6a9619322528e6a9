using System.CommandLine;
using ComfyOperator.Entities.Crds;

namespace ComfyOperator.Operator.Cli;

/// <summary>The <c>comfy-operator</c> command line: <c>run</c> (default), <c>generate crds</c>, <c>sync-models</c>.</summary>
internal static class OperatorCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ComfyOperator: runs ComfyUI workers and workflows on Kubernetes.");
        RunCommand.AddTo(root);
        var run = new Command("run", "Run the operator (the default verb).");
        RunCommand.AddTo(run);
        root.Subcommands.Add(run);
        root.Subcommands.Add(BuildGenerate());
        root.Subcommands.Add(BuildSyncModels());
        return root;
    }

    private static Command BuildSyncModels()
    {
        var manifest = new Option<FileInfo>("--manifest")
        {
            Description = "JSON list of {url, folder, filename, sha256?} (the node's spec.models).",
            Required = true,
        };
        var cache = new Option<DirectoryInfo>("--cache")
        {
            Description = "Root of the model cache (files go to <cache>/<folder>/<filename>).",
            Required = true,
        };
        var attempts = new Option<int>("--attempts")
        {
            Description = "Download attempts per file; each resumes where the last stopped.",
            DefaultValueFactory = _ => 5,
        };
        var command = new Command("sync-models", "Download declared model files into the shared cache (resume, sha256 check, lock, atomic rename).");
        command.Options.Add(manifest);
        command.Options.Add(cache);
        command.Options.Add(attempts);
        command.SetAction((parse, cancellationToken) => SyncModelsCommand.RunAsync(
            parse.GetValue(manifest)!,
            parse.GetValue(cache)!,
            parse.GetValue(attempts),
            parse.InvocationConfiguration.Output,
            cancellationToken));
        return command;
    }

    private static Command BuildGenerate()
    {
        var output = new Option<DirectoryInfo>("--out", "-o")
        {
            Description = "Directory the CRD YAML files are written to.",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("config", "crds")),
        };
        var check = new Option<bool>("--check")
        {
            Description = "Write nothing; exit 1 when the files in --out differ from what would be generated.",
        };
        var crds = new Command("crds", "Generate the CustomResourceDefinitions from the C# entity types.");
        crds.Options.Add(output);
        crds.Options.Add(check);
        crds.SetAction(parse =>
        {
            var directory = parse.GetValue(output)!.FullName;
            if (parse.GetValue(check))
            {
                var stale = CrdGenerator.GenerateAll()
                    .Where(file => !File.Exists(Path.Combine(directory, file.Key)) || File.ReadAllText(Path.Combine(directory, file.Key)) != file.Value)
                    .Select(file => file.Key)
                    .ToList();
                foreach (var name in stale)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"out of date: {Path.Combine(directory, name)} (run `make crds`)");
                }

                return stale.Count == 0 ? 0 : 1;
            }

            foreach (var path in CrdGenerator.WriteAll(directory))
            {
                parse.InvocationConfiguration.Output.WriteLine($"wrote {path}");
            }

            return 0;
        });

        var generate = new Command("generate", "Generate deployment files.");
        generate.Subcommands.Add(crds);
        return generate;
    }
}
