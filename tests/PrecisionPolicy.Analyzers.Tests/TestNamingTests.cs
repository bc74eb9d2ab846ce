using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// One naming convention for every test project: a sentence with underscores, first word
/// capitalized, the rest lower case (<c>Fp16_policy_gets_dynamic_loss_scaling_by_default</c>).
/// Checked on the sources so it covers test projects this one does not reference.
/// </summary>
public sealed class TestNamingTests
{
    private static readonly Regex TestMethod = new(
        @"\[(?:Fact|Theory)\b[^\]]*\](?:\s*\[[^\]]*\])*\s*public\s+(?:async\s+)?[\w<>]+\s+(?<name>\w+)\s*\(",
        RegexOptions.Compiled);

    private static readonly Regex Sentence = new("^[A-Z][A-Za-z0-9]*(?:_[a-z0-9][a-z0-9]*)+$", RegexOptions.Compiled);

    [Fact]
    public void Every_test_is_named_as_a_sentence_with_underscores()
    {
        var tests = Path.Combine(RepositorySources.FindRoot(), "tests");
        var names = Directory.EnumerateFiles(tests, "*.cs", SearchOption.AllDirectories)
            .Where(static path => !path.Split(Path.DirectorySeparatorChar).Any(static part => part is "bin" or "obj"))
            .SelectMany(static path => TestMethod.Matches(File.ReadAllText(path)).Select(m => (File: Path.GetFileName(path), Name: m.Groups["name"].Value)))
            .ToList();

        Assert.True(names.Count > 100, $"only {names.Count} tests found: the pattern no longer matches the test declarations");
        Assert.Empty(names.Where(static t => !Sentence.IsMatch(t.Name)).Select(static t => t.File + ": " + t.Name));
    }
}
