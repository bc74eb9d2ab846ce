using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PrecisionPolicy.Tests.Shared;

/// <summary>
/// The C# blocks of the docs (<c>docs/*.md</c>, <c>docs/rules/*.md</c>), each turned into a compilable file without
/// changing the text a reader sees. A block takes its context from an HTML comment on the line right above its
/// fence, which a rendered page does not show:
/// <code>
/// &lt;!-- snippet: statements; given: Net model, Tensor loss; usings: PrecisionPolicy.Scaling; models: Net --&gt;
/// &lt;!-- snippet: declarations; usings: ...; after: ... --&gt;
/// &lt;!-- snippet: members; in: public sealed partial class Block : nn.Module&lt;Tensor, Tensor&gt;; after: ... --&gt;
/// &lt;!-- snippet: skip; reason: why it cannot be compiled --&gt;
/// </code>
/// <list type="bullet">
/// <item><c>statements</c> (also what an unmarked block is): the block is a method body; <c>given</c> lists the
/// variables it uses without declaring (they become the method's parameters); <c>before</c> holds statements that
/// run before it, for a fact its prose states (a comment saying a tensor is bfloat16).</item>
/// <item><c>declarations</c>: the block declares types; <c>after</c> holds declarations that follow it (the class
/// an attribute-only block applies to, the constructor a partial module class shows no room for).</item>
/// <item><c>members</c>: the block is cut where a C# file would be: type declarations stay types, fields and
/// methods go into the class <c>in</c> declares (a plain partial class by default) after which come the members
/// of <c>after</c>, and the statements become its method <c>Run(given)</c>. The rule pages mix all three in one block.</item>
/// <item><c>usings</c>: the namespaces the reader imports beyond <see cref="DefaultUsings"/>; a <c>using</c> at the top
/// of the block counts too. <c>models</c>: model classes from <see cref="Models"/> the block uses.</item>
/// <item>A line holding only <c>...</c> is an elision and becomes a comment; an elided class body <c>{ ... }</c> is
/// filled with a one-layer module body when the class derives from something (an empty body when not), and an
/// elided expression body <c>=&gt; ...;</c> throws.</item>
/// <item>A rule page's block may show alternatives, each after a <c>// or</c> line: <see cref="Snippet.Alternatives"/>
/// cuts it there.</item>
/// </list>
/// Each snippet is its own file in its own namespace, so one compilation can hold them all. This file is linked
/// into the generator tests (the guides) and the analyzer tests (the rule pages): one parser for both.
/// </summary>
internal static class DocSnippets
{
    /// <summary>The kinds a snippet comment may name.</summary>
    public static readonly string[] Kinds = ["statements", "declarations", "members", "skip"];

    /// <summary>The keys a snippet comment may give (<c>advice</c> is the rule pages': where PP0030's trace found something).</summary>
    public static readonly string[] KeyNames = ["given", "usings", "models", "in", "before", "after", "advice", "reason"];

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

    /// <summary>One C# block of a page, where it is (the page, the line of its fence, the <c>## </c> section it is under) and the context its comment gives it.</summary>
    public sealed record Snippet(string Page, int Line, string Section, string Code, string Kind, IReadOnlyDictionary<string, string> Keys)
    {
        /// <summary>Where a failure points: the page and the line of the fence.</summary>
        public string Where => $"docs/{Page}:{Line}";

        public string Get(string key) => Keys.TryGetValue(key, out var value) ? value : "";

        /// <summary>The block as a file of its own namespace; the block's lines are kept as written.</summary>
        public string Source(int index)
        {
            var lines = Code.Split('\n').Select(l => l.Trim() == "..." ? "// ..." : l).ToList();
            var hoisted = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("using var ", StringComparison.Ordinal) || l.Trim().Length == 0).ToList();
            var body = FillElisions(string.Join('\n', lines.Skip(hoisted.Count)));
            var firstLine = Line + 1 + hoisted.Count;
            var usings = DefaultUsings.Concat(List("usings")).Select(u => $"using {u};")
                .Concat(hoisted.Where(l => l.Trim().Length > 0));
            var models = List("models").Select(m => Models.TryGetValue(m, out var text) ? text : $"#error unknown model '{m}' in {Where}");
            var ns = $"namespace Snippets.S{index:D2};";
            var after = FillElisions(Get("after"));
            var code = Kind switch
            {
                "declarations" => $"{Mapped(body, firstLine)}\n{after}",
                "statements" => $"public static class Snippet\n{{\n    public static void Run({Get("given")})\n    {{\n{Get("before")}\n{Mapped(body, firstLine)}\n    }}\n}}",
                "members" => Members(body, firstLine, after),
                _ => $"#error unknown snippet kind '{Kind}' in {Where}",
            };
            return $"{string.Join('\n', usings)}\n{ns}\n{string.Join('\n', models)}\n{code}\n";
        }

        /// <summary>Lines of the block, mapped back to the page so that a compiler error names the page's line.</summary>
        private string Mapped(string text, int firstLine) => $"#line {firstLine} \"docs/{Page}\"\n{text}\n#line default";

        /// <summary>A <c>members</c> block cut into types, class members and statements, each piece keeping its page line.</summary>
        private string Members(string body, int firstLine, string after)
        {
            var root = CSharpSyntaxTree.ParseText(body, new CSharpParseOptions(LanguageVersion.Latest)).GetCompilationUnitRoot();
            StringBuilder types = new(), members = new(), statements = new();
            foreach (var node in root.Members)
            {
                var piece = node switch
                {
                    BaseTypeDeclarationSyntax or DelegateDeclarationSyntax => types,
                    // At the top of a file a method parses as a local function and a field with an attribute or an
                    // accessibility as a local declaration; in a class body they are a method and a field.
                    GlobalStatementSyntax { Statement: LocalFunctionStatementSyntax } => members,
                    GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax local } when IsField(local) => members,
                    GlobalStatementSyntax => statements,
                    _ => members,
                };
                var start = node.FullSpan.Start;
                piece.Append(Mapped(body.Substring(start, node.FullSpan.Length).TrimEnd('\n'), firstLine + body[..start].Count(c => c == '\n'))).Append('\n');
            }

            var host = Get("in") is { Length: > 0 } declaration ? declaration : "public partial class Host";
            return $"{types}{host}\n{{\n{members}{after}\n    public void Run({Get("given")})\n    {{\n{statements}    }}\n}}";
        }

        /// <summary>
        /// The block cut at its <c>// or</c> lines: the alternatives a page shows in one block, each to be compiled on
        /// its own (they may declare the same names); a part of comments only (<c>// or simply [Fp8Recipe]</c>) is left out.
        /// </summary>
        public IEnumerable<Snippet> Alternatives()
        {
            var lines = Code.Split('\n');
            var start = 0;
            for (var i = 0; i <= lines.Length; i++)
            {
                if (i < lines.Length && !Regex.IsMatch(lines[i], @"^\s*// or\b"))
                {
                    continue;
                }

                var part = lines[start..i];
                if (part.Any(static l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)))
                {
                    yield return this with { Line = Line + start, Code = string.Join('\n', part) };
                }

                start = i + 1;
            }
        }

        private static bool IsField(LocalDeclarationStatementSyntax local) =>
            local.AttributeLists.Count > 0 || local.Modifiers.Any(static m => m.Kind() is
                SyntaxKind.PrivateKeyword or SyntaxKind.PublicKeyword or SyntaxKind.ProtectedKeyword or SyntaxKind.InternalKeyword or
                SyntaxKind.ReadOnlyKeyword or SyntaxKind.StaticKeyword);

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
            var section = Regex.Matches(text[..m.Index], @"^## (?<title>[^\n]*)", RegexOptions.Multiline).LastOrDefault()?.Groups["title"].Value.Trim() ?? "";
            yield return new Snippet(page, line, section, m.Groups["code"].Value.TrimEnd('\n'), kind, keys);
        }
    }

    /// <summary>
    /// Elisions a reader skips and a compiler cannot: <c>class X : Base { ... }</c> gets a one-layer module body (an
    /// empty one without a base), <c>=&gt; ...;</c> a throw. Each stays on its line.
    /// </summary>
    private static string FillElisions(string code)
    {
        code = Regex.Replace(code, @"class (\w+)(?<rest>[^{\n]*)\{ \.\.\. \}", m =>
            $"class {m.Groups[1].Value}{m.Groups["rest"].Value}" + (m.Groups["rest"].Value.Contains(':') ? ModuleBody.Replace("{0}", m.Groups[1].Value) : "{ }"));
        return Regex.Replace(code, @"=> \.\.\.;", "=> throw new NotImplementedException();");
    }

    private static string RepoRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
