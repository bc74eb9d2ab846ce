using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// The C# blocks of the guides (<c>docs/*.md</c>), each turned into a compilable file without changing the
/// text a reader sees. A block takes its context from an HTML comment on the line right above its fence,
/// which a rendered page does not show:
/// <code>
/// &lt;!-- snippet: statements; given: Net model, Tensor loss; usings: PrecisionPolicy.Scaling; models: Net --&gt;
/// &lt;!-- snippet: declarations; usings: ... --&gt;
/// &lt;!-- snippet: skip; reason: why it cannot be compiled --&gt;
/// </code>
/// <list type="bullet">
/// <item><c>statements</c> (also what an unmarked block is): the block is a method body; <c>given</c> lists the
/// variables it uses without declaring (they become the method's parameters).</item>
/// <item><c>declarations</c>: the block declares types; an elided class body <c>{ ... }</c> is filled with a
/// one-layer module body.</item>
/// <item><c>usings</c>: the namespaces the reader imports beyond <see cref="DefaultUsings"/>; a <c>using</c> at the top
/// of the block counts too. <c>models</c>: model classes from <see cref="Models"/> the block uses.</item>
/// <item>A line holding only <c>...</c> is an elision and becomes a comment.</item>
/// </list>
/// Each snippet is its own file in its own namespace, so one compilation holds them all.
/// </summary>
internal static class DocSnippets
{
    /// <summary>What every snippet may assume: the imports of a TorchSharp training file and the package's root namespace.</summary>
    public static readonly string[] DefaultUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq",
        "TorchSharp", "TorchSharp.Modules", "static TorchSharp.torch", "PrecisionPolicy",
    ];

    /// <summary>The body an elided <c>{ ... }</c> module class gets (as ReadmeLoopTests fills the README's).</summary>
    private const string ModuleBody =
        "{ private readonly Linear fc = nn.Linear(8, 4); public {0}() : base(nameof({0})) => RegisterComponents(); " +
        "public override Tensor forward(Tensor x) => fc.call(x); }";

    /// <summary>The model classes a guide's snippet names without declaring (<c>models: Net, Gpt</c>).</summary>
    public static readonly IReadOnlyDictionary<string, string> Models = new Dictionary<string, string>
    {
        ["Net"] = "[Autocast(Precision.BF16)] public sealed partial class Net : nn.Module<Tensor, Tensor> " + ModuleBody.Replace("{0}", "Net"),
        ["Classifier"] = "[Autocast(Precision.BF16)] public sealed partial class Classifier : nn.Module<Tensor, Tensor> " + ModuleBody.Replace("{0}", "Classifier"),
        ["Gpt"] =
            "public sealed record GptConfig(int Width = 8);\n" +
            "[Autocast(Precision.BF16)] public sealed partial class Gpt : nn.Module<Tensor, Tensor> " +
            "{ private readonly Linear fc; public Gpt(GptConfig config) : base(nameof(Gpt)) { fc = nn.Linear(config.Width, 4); RegisterComponents(); } " +
            "public override Tensor forward(Tensor x) => fc.call(x); }",
        ["TinyGpt"] =
            "public sealed record TinyGptConfig(int Width = 8);\n" +
            "[Autocast(Precision.BF16)] public sealed partial class TinyGpt : nn.Module<Tensor, Tensor> " +
            "{ private readonly Linear qkv, proj, expand, contract; " +
            "public TinyGpt(TinyGptConfig config) : base(nameof(TinyGpt)) { qkv = nn.Linear(config.Width, config.Width); proj = nn.Linear(config.Width, config.Width); " +
            "expand = nn.Linear(config.Width, config.Width); contract = nn.Linear(config.Width, config.Width); RegisterComponents(); } " +
            "public override Tensor forward(Tensor x) => contract.call(expand.call(proj.call(qkv.call(x)))); }",
    };

    /// <summary>One C# block of a guide, where it is and the context its comment gives it.</summary>
    public sealed record Snippet(string Page, int Line, string Code, string Kind, IReadOnlyDictionary<string, string> Keys)
    {
        /// <summary>Where a failure points: the page and the line of the fence.</summary>
        public string Where => $"docs/{Page}:{Line}";

        public string Get(string key) => Keys.TryGetValue(key, out var value) ? value : "";

        /// <summary>The block as a file of its own namespace; the block's lines are kept as written.</summary>
        public string Source(int index)
        {
            var lines = Code.Split('\n').Select(l => l.Trim() == "..." ? "// ..." : l).ToList();
            var hoisted = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("using var ", StringComparison.Ordinal) || l.Trim().Length == 0).ToList();
            var body = string.Join('\n', lines.Skip(hoisted.Count));
            var usings = DefaultUsings.Concat(List("usings")).Select(u => $"using {u};")
                .Concat(hoisted.Where(l => l.Trim().Length > 0));
            var models = List("models").Select(m => Models.TryGetValue(m, out var text) ? text : $"#error unknown model '{m}' in {Where}");
            var ns = $"namespace Snippets.S{index:D2};";
            var mapped = $"#line {Line + 1 + hoisted.Count} \"docs/{Page}\"\n{{0}}\n#line default";
            var code = Kind switch
            {
                "declarations" => mapped.Replace("{0}", Regex.Replace(body, @"class (\w+)(?<rest>[^{\n]*)\{ \.\.\. \}", m => $"class {m.Groups[1].Value}{m.Groups["rest"].Value}" + ModuleBody.Replace("{0}", m.Groups[1].Value))),
                "statements" => $"public static class Snippet\n{{\n    public static void Run({Get("given")})\n    {{\n{mapped.Replace("{0}", body)}\n    }}\n}}",
                _ => $"#error unknown snippet kind '{Kind}' in {Where}",
            };
            return $"{string.Join('\n', usings)}\n{ns}\n{string.Join('\n', models)}\n{code}\n";
        }

        private IEnumerable<string> List(string key) =>
            Get(key).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Every <c>```csharp</c> (or <c>cs</c>, <c>c#</c>) block of the pages directly in <paramref name="folder"/>, in page order.</summary>
    public static IReadOnlyList<Snippet> All(string folder) =>
        Directory.GetFiles(Path.Combine(RepoRoot(), folder), "*.md").Order(StringComparer.Ordinal)
            .SelectMany(file => Parse(Path.GetRelativePath(Path.Combine(RepoRoot(), "docs"), file).Replace('\\', '/'), File.ReadAllText(file)))
            .ToList();

    /// <summary>The C# blocks of one page's text, each with the context of the comment right above its fence.</summary>
    public static IEnumerable<Snippet> Parse(string page, string markdown)
    {
        var text = markdown.Replace("\r\n", "\n");
        foreach (Match m in Regex.Matches(text, @"(?:^<!-- snippet: (?<kind>[a-z-]+)(?<keys>[^\n]*?) -->\n)?^```(?:csharp|cs|c#)[ \t]*\n(?<code>.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline))
        {
            var line = text[..m.Groups["code"].Index].Count(c => c == '\n');
            // "; key: value" pairs; a value runs to the next "; key:" so a reason may hold semicolons.
            var keys = Regex.Matches(m.Groups["keys"].Value, @";\s*(?<key>[a-z]+):\s*(?<value>.*?)\s*(?=;\s*[a-z]+:|$)")
                .ToDictionary(k => k.Groups["key"].Value, k => k.Groups["value"].Value, StringComparer.Ordinal);
            var kind = m.Groups["kind"].Success ? m.Groups["kind"].Value : "statements";
            yield return new Snippet(page, line, m.Groups["code"].Value.TrimEnd('\n'), kind, keys);
        }
    }

    private static string RepoRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
