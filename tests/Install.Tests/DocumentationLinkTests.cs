using System.Text.RegularExpressions;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// Someone who clones the repository can follow every reference: each relative link in every
/// Markdown page, and each <c>*.md</c> path named in code, tests, benchmarks, the chart and scripts,
/// resolves to a file in the repository; an <c>#anchor</c> to a heading there; a cited
/// <c>docs/x.md §5.1</c> to a section that exists. Nothing points outside the repository.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    private static readonly string[] SkippedDirectories = ["bin", "obj", "node_modules", ".git", "TestResults"];

    private static readonly string[] CodeExtensions =
        [".cs", ".csproj", ".props", ".targets", ".yaml", ".yml", ".tpl", ".txt", ".json", ".sh", ".go", ".cpu", ".toml"];

    // Built from parts so this file does not name it itself.
    private static readonly string[] Outside = ["../" + "shared", "/work/" + "shared"];

    [Fact]
    public void MarkdownLinks_EachResolvesInTheRepository()
    {
        var pages = MarkdownPages();
        Assert.Contains(pages, p => p.EndsWith("README.md", StringComparison.Ordinal));
        Assert.True(pages.Count >= 10, "pages: " + string.Join(", ", pages));

        var problems = pages.SelectMany(p => LinkProblems(MarkdownFile.Read(p))).ToList();

        Assert.True(problems.Count == 0, "broken links:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void CodeReferences_EachNamedDocumentAndSectionExists()
    {
        var problems = new List<string>();
        var cited = 0;
        foreach (var file in CodeFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (var problem in ReferenceProblems(lines[i]))
                {
                    problems.Add($"{Relative(file)}:{i + 1}: {problem}");
                }

                cited += DocumentReference().Count(lines[i]);
            }
        }

        Assert.True(problems.Count == 0, "references to documents that are not in the repository:\n" + string.Join('\n', problems));
        Assert.True(cited >= 30, $"only {cited} document references found in code; is the scan looking in the right places?");
    }

    [Fact]
    public void NothingPointsOutsideTheRepository()
    {
        var offenders = MarkdownPages().Concat(CodeFiles())
            .Where(f => Outside.Any(o => File.ReadAllText(f).Contains(o, StringComparison.Ordinal)))
            .Select(Relative)
            .ToList();

        Assert.True(offenders.Count == 0, "files pointing outside the repository:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void LinkProblems_BrokenFileAnchorAndOutsideLinks_Reported()
    {
        var page = MarkdownFile.Parse(RepoPaths.Combine("docs", "example.md"), """
            # Example
            ## 5.1 Connection
            [ok](configuration.md#server-and-credentials), [ok](#51-connection), [ok](../README.md), [web](https://example.com)
            [gone](missing.md), [bad anchor](api.md#no-such-heading), [here](#nowhere), [out](../../elsewhere.md)
            `[not a link](missing-too.md)`
            """);

        var problems = LinkProblems(page);

        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("missing.md", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("no-such-heading", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("#nowhere", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("elsewhere.md", StringComparison.Ordinal));
    }

    [Fact]
    public void ReferenceProblems_MissingDocumentOrSection_Reported()
    {
        Assert.Empty(ReferenceProblems("/// (docs/comfyui-protocol.md §5.1, §9.4) and docs/kubernetes-api.md §3.7"));
        Assert.Single(ReferenceProblems("/// see docs/nonexistent.md"));
        Assert.Single(ReferenceProblems("/// (docs/comfyui-protocol.md §5.1, §42.7)"));
        Assert.Single(ReferenceProblems("/// per kubernetes-api.md §4"));
        Assert.Single(ReferenceProblems("/// as the protocol doc §6 says"));
    }

    private static List<string> LinkProblems(MarkdownFile page)
    {
        var problems = new List<string>();
        var directory = Path.GetDirectoryName(page.Path)!;
        foreach (var (line, target) in page.Links)
        {
            if (UriScheme().IsMatch(target))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var where = $"{Relative(page.Path)}:{line}: {target}";
            if (file.Length == 0)
            {
                if (!page.Anchors.Contains(anchor!))
                {
                    problems.Add($"{where}: no heading with that anchor");
                }

                continue;
            }

            var resolved = Path.GetFullPath(Path.Combine(directory, Uri.UnescapeDataString(file)));
            if (!resolved.StartsWith(RepoPaths.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                problems.Add($"{where}: outside the repository");
            }
            else if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                problems.Add($"{where}: no such file");
            }
            else if (anchor is not null && !MarkdownFile.Read(resolved).Anchors.Contains(anchor))
            {
                problems.Add($"{where}: no heading with that anchor");
            }
        }

        return problems;
    }

    /// <summary>Problems with the document references on one line of code: each must be a repository path, and each § after it a section of that document.</summary>
    private static List<string> ReferenceProblems(string line)
    {
        var problems = new List<string>();
        if (DocumentInWords().IsMatch(line))
        {
            problems.Add("a document named in words (\"the protocol doc\"): cite it by its path, docs/comfyui-protocol.md");
        }

        var references = DocumentReference().Matches(line);
        for (var i = 0; i < references.Count; i++)
        {
            var path = references[i].Groups[1].Value;
            var file = RepoPaths.Combine(path.Split('/'));
            if (!File.Exists(file))
            {
                problems.Add($"{path}: not a file in the repository (name documents by their path from the repository root)");
                continue;
            }

            var end = i + 1 < references.Count ? references[i + 1].Index : line.Length;
            var sections = MarkdownFile.Read(file).Sections;
            foreach (Match citation in Citation().Matches(line[references[i].Index..end]))
            {
                if (!sections.Contains(citation.Groups[1].Value))
                {
                    problems.Add($"{path} §{citation.Groups[1].Value}: no such section");
                }
            }
        }

        return problems;
    }

    private static List<string> MarkdownPages() => Walk(RepoPaths.Root).Where(f => f.EndsWith(".md", StringComparison.Ordinal)).ToList();

    private static IEnumerable<string> CodeFiles() =>
        new[] { "src", "tests", "bench", "tools", "charts", "hack", "deploy", "config", "scripts", ".github" }
            .Select(d => RepoPaths.Combine(d))
            .Where(Directory.Exists)
            .SelectMany(Walk)
            .Where(f => CodeExtensions.Contains(Path.GetExtension(f), StringComparer.Ordinal) || Path.GetFileName(f).StartsWith("Dockerfile", StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f) != nameof(DocumentationLinkTests) + ".cs") // its examples are broken on purpose
            .Append(RepoPaths.Combine("Makefile"));

    private static IEnumerable<string> Walk(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            yield return file;
        }

        foreach (var sub in Directory.EnumerateDirectories(directory).Where(d => !SkippedDirectories.Contains(Path.GetFileName(d), StringComparer.Ordinal)))
        {
            foreach (var file in Walk(sub))
            {
                yield return file;
            }
        }
    }

    private static string Relative(string path) => Path.GetRelativePath(RepoPaths.Root, path);

    /// <summary>The way code cited the protocol document before it was in the repository.</summary>
    [GeneratedRegex(@"\bprotocol doc\b", RegexOptions.IgnoreCase)]
    private static partial Regex DocumentInWords();

    /// <summary>A path ending in <c>.md</c>: <c>docs/api.md</c>, <c>README.md</c>, or a bare name that is not at the root.</summary>
    [GeneratedRegex(@"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.md)\b")]
    private static partial Regex DocumentReference();

    [GeneratedRegex(@"§\s?(\d+(?:\.\d+)*)")]
    private static partial Regex Citation();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex UriScheme();
}
