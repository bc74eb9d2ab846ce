using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>The repository's own C# sources, the seed material of the robustness test.</summary>
internal static class RepositorySources
{
    private static readonly string[] Folders = ["samples", "src", "tests"];

    // The code samples inside this project's tests (raw string literals), without diagnostic markup:
    // they are the densest TorchSharp training code in the repository.
    private static readonly Regex RawString = new("\"\"\"\\r?\\n(?<code>.*?)\\r?\\n\\s*\"\"\"", RegexOptions.Singleline);
    private static readonly Regex MarkupStart = new(@"\{\|PP\d{4}:");

    public static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PrecisionPolicy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("PrecisionPolicy.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every .cs file under samples/, src/ and tests/ (build output excluded), plus the test code samples, in a fixed order.</summary>
    public static IReadOnlyList<(string Path, string Text)> Load()
    {
        var root = FindRoot();
        var files = Folders
            .Select(folder => Path.Combine(root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
            .Where(static path => !path.Split(Path.DirectorySeparatorChar).Any(static part => part is "bin" or "obj"))
            .OrderBy(static path => path, StringComparer.Ordinal)
            .Select(path => (Path: Path.GetRelativePath(root, path), Text: File.ReadAllText(path)))
            .ToList();

        var samples = files
            .Where(static f => f.Path.StartsWith(Path.Combine("tests", "PrecisionPolicy.Analyzers.Tests"), StringComparison.Ordinal))
            .SelectMany(static f => RawString.Matches(f.Text).Select((m, i) => (Path: $"{f.Path}#{i}", Text: StripMarkup(m.Groups["code"].Value))))
            .ToList();
        return [.. files, .. samples];
    }

    /// <summary>
    /// The positive test cases: every code sample in this project's tests that marks a diagnostic
    /// (<c>{|PP0001:...|}</c>), without its markup, and every mistake of the corpus.
    /// </summary>
    public static IReadOnlyList<(string Path, string Text)> PositiveCases()
    {
        var root = FindRoot();
        var tests = Path.Combine(root, "tests", "PrecisionPolicy.Analyzers.Tests");
        var samples = Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories)
            .Where(static path => !path.Split(Path.DirectorySeparatorChar).Any(static part => part is "bin" or "obj" or "Corpus"))
            .OrderBy(static path => path, StringComparer.Ordinal)
            .SelectMany(path => RawString.Matches(File.ReadAllText(path))
                .Select((m, i) => (Path: $"{Path.GetRelativePath(root, path)}#{i}", Code: m.Groups["code"].Value))
                .Where(static s => MarkupStart.IsMatch(s.Code))
                .Select(static s => (s.Path, Text: StripMarkup(s.Code))));
        var corpus = new[] { Path.Combine(tests, "Corpus", "Mistakes"), Path.Combine(tests, "Corpus", "Mechanisms", "Mistakes") }
            .Where(Directory.Exists)
            .SelectMany(static mistakes => Directory.EnumerateFiles(mistakes, "*.cs").OrderBy(static p => p, StringComparer.Ordinal))
            .Select(path => (Path: Path.GetRelativePath(root, path), Text: File.ReadAllText(path)));
        return [.. samples, .. corpus];
    }

    private static string StripMarkup(string code) => MarkupStart.Replace(code, string.Empty).Replace("|}", string.Empty);
}
