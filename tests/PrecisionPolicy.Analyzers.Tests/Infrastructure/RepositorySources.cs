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

    // A sample spliced from the file's own constants (Usings + """...""" + Models) is read whole, as the test compiles it.
    private static readonly Regex Constant = new("const string (?<name>\\w+) = \"\"\"\\r?\\n(?<code>.*?)\\r?\\n\\s*\"\"\";", RegexOptions.Singleline);
    private static readonly Regex ConstantBefore = new(@"(?<name>\w+) \+ \z");
    private static readonly Regex ConstantAfter = new(@"\G \+ (?<name>\w+)");

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
            .SelectMany(static f => CodeSamples(f.Text).Select((code, i) => (Path: $"{f.Path}#{i}", Text: StripMarkup(code))))
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
            .SelectMany(path => CodeSamples(File.ReadAllText(path))
                .Select((code, i) => (Path: $"{Path.GetRelativePath(root, path)}#{i}", Code: code))
                .Where(static s => MarkupStart.IsMatch(s.Code))
                .Select(static s => (s.Path, Text: StripMarkup(s.Code))));
        var corpus = new[] { Path.Combine(tests, "Corpus", "Mistakes"), Path.Combine(tests, "Corpus", "Mechanisms", "Mistakes") }
            .Where(Directory.Exists)
            .SelectMany(static mistakes => Directory.EnumerateFiles(mistakes, "*.cs").OrderBy(static p => p, StringComparer.Ordinal))
            .Select(path => (Path: Path.GetRelativePath(root, path), Text: File.ReadAllText(path)));
        return [.. samples, .. corpus];
    }

    /// <summary>The raw string literals of a test file, each with the file's constants it is concatenated with.</summary>
    private static IEnumerable<string> CodeSamples(string text)
    {
        var constants = Constant.Matches(text).ToDictionary(static m => m.Groups["name"].Value, static m => m.Groups["code"].Value);
        foreach (Match literal in RawString.Matches(text))
        {
            var start = Math.Max(0, literal.Index - 80);
            var before = ConstantBefore.Match(text.Substring(start, literal.Index - start));
            var after = ConstantAfter.Match(text, literal.Index + literal.Length);
            var code = literal.Groups["code"].Value;
            if (before.Success && constants.TryGetValue(before.Groups["name"].Value, out var prefix)) code = prefix + "\n" + code;
            if (after.Success && constants.TryGetValue(after.Groups["name"].Value, out var suffix)) code = code + "\n" + suffix;
            yield return code;
        }
    }

    private static string StripMarkup(string code) => MarkupStart.Replace(code, string.Empty).Replace("|}", string.Empty);
}
