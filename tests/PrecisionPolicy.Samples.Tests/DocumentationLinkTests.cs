using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// README.md is the front door and docs/ the guides: every relative link between them resolves (the file
/// exists, and a <c>#anchor</c> names a heading of it, as GitHub makes anchors), README links every guide,
/// and its "What is where" names every top-level folder and only folders that exist.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    private static readonly string Root = DotnetCli.RepositoryRoot();

    /// <summary>README.md, CHANGELOG.md and every page under docs/.</summary>
    private static IEnumerable<string> Pages() =>
        new[] { Path.Combine(Root, "README.md"), Path.Combine(Root, "CHANGELOG.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories))
            .OrderBy(static p => p, StringComparer.Ordinal);

    [Fact]
    public void Every_relative_link_of_readme_and_docs_resolves()
    {
        var dead = new List<string>();
        var checkedLinks = 0;
        foreach (var page in Pages())
        {
            foreach (var target in LinkTargets(File.ReadAllText(page)))
            {
                if (Uri.TryCreate(target, UriKind.Absolute, out _)) continue; // https:, mailto: ...
                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(path)));
                var where = $"{Path.GetRelativePath(Root, page)}: ({target})";
                if (!File.Exists(file) && !Directory.Exists(file))
                    dead.Add(where + " names no file");
                else if (anchor is not null && (!file.EndsWith(".md", StringComparison.Ordinal) || !Anchors(File.ReadAllText(file)).Contains(anchor)))
                    dead.Add(where + " names no heading");
            }
        }

        Assert.True(checkedLinks > 50, $"only {checkedLinks} relative links found: is the link pattern still right?");
        Assert.True(dead.Count == 0, "dead links:\n" + string.Join("\n", dead));
    }

    [Fact]
    public void Readme_links_every_guide()
    {
        var linked = LinkTargets(File.ReadAllText(Path.Combine(Root, "README.md")))
            .Select(static t => t.Split('#')[0])
            .ToHashSet(StringComparer.Ordinal);
        var guides = Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md")
            .Append(Path.Combine(Root, "docs", "rules", "README.md"))
            .Append(Path.Combine(Root, "docs", "rules", "dtype-flow.md"))
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'));

        Assert.All(guides, guide => Assert.Contains(guide, linked));
    }

    [Fact]
    public void What_is_where_names_every_top_level_folder_and_only_real_paths()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var section = Regex.Match(readme, @"^## What is where\n(?<body>.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(section.Success, "README.md has no \"What is where\" section");
        var paths = TableFirstColumnPath().Matches(section.Groups["body"].Value).Select(static m => m.Groups["path"].Value.TrimEnd('/')).ToList();
        Assert.NotEmpty(paths);

        Assert.All(paths, path => Assert.True(Directory.Exists(Path.Combine(Root, path)) || File.Exists(Path.Combine(Root, path)), $"What is where names `{path}`, which does not exist"));
        var topLevel = paths.Select(static p => p.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        var folders = Directory.EnumerateDirectories(Root)
            .Select(static d => Path.GetFileName(d)!)
            .Where(static name => !name.StartsWith('.'))
            .Where(static name => HoldsSourcesOrDocs(Path.Combine(Root, name)));
        Assert.All(folders, folder => Assert.Contains(folder, topLevel));
    }

    /// <summary>A folder the repository keeps (not build output): it holds code, project files or pages.</summary>
    private static bool HoldsSourcesOrDocs(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Any(static f => Path.GetExtension(f) is ".cs" or ".csproj" or ".md" or ".targets" or ".props" or ".projitems");

    /// <summary>The targets of the inline links <c>[text](target)</c> outside code blocks and code spans.</summary>
    private static IEnumerable<string> LinkTargets(string markdown) =>
        InlineLink().Matches(CodeSpan().Replace(FencedBlock().Replace(markdown, ""), "")).Select(static m => m.Groups["target"].Value);

    /// <summary>The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(FencedBlock().Replace(markdown, "")))
        {
            var text = InlineLink().Replace(heading.Groups["text"].Value, static m => m.Groups["label"].Value);
            var slug = new StringBuilder();
            foreach (var c in text.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_') slug.Append(c);
                else if (c == ' ') slug.Append('-');
            }
            var anchor = slug.ToString();
            var count = seen.TryGetValue(anchor, out var n) ? n : 0;
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        return anchors;
    }

    [GeneratedRegex(@"\[(?<label>[^\]]*)\]\((?<target>[^)\s]+)\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^(```|~~~).*?^\1", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^#{1,6} (?<text>.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\| `(?<path>[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableFirstColumnPath();
}
