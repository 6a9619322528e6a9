using System.Text.RegularExpressions;

namespace ComfyOperator.Install.Tests;

/// <summary>A Dockerfile split into stages of instructions; enough to check what hadolint would not be needed for.</summary>
internal sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    /// <summary>Stages in order, each starting with its FROM.</summary>
    public IReadOnlyList<IReadOnlyList<DockerInstruction>> Stages
    {
        get
        {
            var stages = new List<IReadOnlyList<DockerInstruction>>();
            List<DockerInstruction>? current = null;
            foreach (var i in Instructions)
            {
                if (i.Keyword == "FROM")
                {
                    current = [];
                    stages.Add(current);
                }

                current?.Add(i);
            }

            return stages;
        }
    }

    public static Dockerfile Load(string path)
    {
        var instructions = new List<DockerInstruction>();
        var pending = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var full = (pending + line).Trim();
            pending = "";
            if (full.Length == 0)
            {
                continue;
            }

            var match = InstructionPattern().Match(full);
            instructions.Add(new DockerInstruction(match.Groups[1].Value.ToUpperInvariant(), match.Groups[2].Value.Trim()));
        }

        return new Dockerfile(instructions);
    }

    [GeneratedRegex(@"^(\w+)\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionPattern();
}
