using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// README's before/after training loop (blocks marked <c>&lt;!-- loop:before --&gt;</c> and
/// <c>&lt;!-- loop:after --&gt;</c>) compiles as written, with the generator, once the elided class body
/// is filled in: the members the "after" loop calls are the ones the generator emits. (The quick start,
/// which also runs, is QuickStartTests'.)
/// </summary>
public sealed class ReadmeLoopTests
{
    /// <summary>What stands in for the README's <c>{ /* ... */ }</c> class bodies.</summary>
    private const string Body =
        "{ private readonly Linear fc = nn.Linear(8, 4); public Net() : base(nameof(Net)) => RegisterComponents(); " +
        "public override Tensor forward(Tensor x) => fc.call(x); }";

    [Theory]
    [InlineData("before", false)]
    [InlineData("after", true)]
    public void Readme_loop_compiles(string block, bool generated)
    {
        var code = Block(block);
        var body = Regex.Match(code, @"\{ /\* [^*]+ \*/ \}");
        Assert.True(body.Success, $"the {block} block has no elided class body to fill in");
        var classDeclaration = code[..code.IndexOf('\n', body.Index)].Split('\n')[^1].Replace(body.Value, Body, StringComparison.Ordinal);
        var statements = code[(code.IndexOf('\n', body.Index) + 1)..];
        var source = $$"""
            using System.Collections.Generic;
            using PrecisionPolicy;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            {{string.Join('\n', code[..body.Index].Split('\n')[..^1])}}
            {{classDeclaration}}

            public static class Loop
            {
                public static void Train(IEnumerable<(Tensor, Tensor)> batches)
                {
            {{statements}}
                }
            }
            """;

        var result = GeneratorHarness.Run(("/src/ReadmeLoop.cs", source));

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.True(result.CompileDiagnostics.All(d => d.Severity != DiagnosticSeverity.Error), source + "\n" + string.Join("\n", result.CompileDiagnostics));
        Assert.Equal(generated, result.Run.GeneratedTrees.Any(t => t.ToString().Contains("ApplyPrecisionPolicy()", StringComparison.Ordinal)));
    }

    private static string Block(string name)
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md")).Replace("\r\n", "\n");
        var match = Regex.Match(readme, $"<!-- loop:{name} -->\n```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);
        Assert.True(match.Success, $"README.md has no loop:{name} block");
        return match.Groups["code"].Value;
    }

    private static string RepoRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
