using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// The generator's output compiles for every shape of call it meets: nullable type arguments, generic modules,
/// one to six inputs, tuples, optional and <c>params</c> parameters, nested and file-local types, and
/// <c>.call</c>/<c>.forward</c> on every kind of receiver. A call it cannot intercept is a PP01xx diagnostic,
/// never a compiler error in generated code.
/// </summary>
public sealed class SignatureCorpusTests
{
    // Each case: the child declarations (members and types) and the forward body of a BF16 host module.
    public static TheoryData<string, string, string> Cases => new()
    {
        // A LLaMA port's layer: a nullable reference type argument, called with .forward and .call (CS9148 before).
        { "nullable reference argument", "private readonly Module<Tensor, int, Tensor, Tensor?, Tensor> layer = new Layer();",
          "layer.forward(x, 0, x, null) + layer.call(x, 1, x, x)" },
        { "nullable value argument", "private readonly Module<Tensor, long?, Tensor> child = new Sum();",
          "child.forward(x, null) + child.call(x, 2L)" },
        { "generic module", "private readonly Scaled<int> child = new Scaled<int>();",
          "child.forward(x) + child.call(x)" },
        { "one input", "private readonly Linear fc = Linear(4, 4);", "fc.forward(x) + fc.call(x)" },
        { "two inputs", "private readonly Module<Tensor, Tensor, Tensor> two = new Two();", "two.forward(x, x) + two.call(x, x)" },
        { "three inputs", "private readonly Bilinear bi = Bilinear(4, 4, 4);", "bi.forward(x, x) + bi.call(x, x)" },
        { "six inputs", "private readonly Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> six = new Six();",
          "six.forward(x, x, x, x, x, x) + six.call(x, x, x, x, x, x)" },
        { "tuple output", "private readonly Module<Tensor, (Tensor, Tensor)> split = new Split();",
          "split.forward(x).Item1 + split.call(x).Item2" },
        { "tuple input", "private readonly Module<(Tensor, Tensor), Tensor> join = new Join();",
          "join.forward((x, x)) + join.call((x, x))" },
        { "optional parameters", "private readonly GRU gru = GRU(4, 4, batchFirst: true);",
          "gru.forward(x).Item1 + gru.call(x, null).Item1" },
        { "optional tensor parameters", "private readonly TorchSharp.Modules.MultiheadAttention mha = MultiheadAttention(4, 2);",
          "mha.forward(x, x, x, null, false, null).Item1 + mha.call(x, x, x, null, false, null).Item1" },
        { "params array", "private readonly Parameter w = Parameter(torch.ones(4, 4));",
          "torch.einsum(\"ij,jk->ik\", x, w) + torch.einsum(\"ij,jk->ik\", new[] { x, w })" },
        { "interface receiver", "private readonly IModule<Tensor, Tensor> child = Linear(4, 4);", "child.call(x)" },
        { "nested public type", "private readonly Inner inner = new Inner();", "inner.forward(x) + inner.call(x)" },
        { "nested private type", "private readonly Hidden hidden = new Hidden();", "hidden.forward(x) + hidden.call(x)" },
        { "file-local type", "private readonly Module<Tensor, Tensor> local = new Local();", "local.forward(x) + local.call(x)" },
        { "file-local static type", "private readonly Module<Tensor, Tensor> local = new Local();", "((Local)local).forward(x) + ((Local)local).call(x)" },
        { "sequential", "private readonly Sequential seq = Sequential(Linear(4, 4), ReLU());", "seq.forward(x) + seq.call(x)" },
        { "module list element", "private readonly ModuleList<Module<Tensor, Tensor>> list = new ModuleList<Module<Tensor, Tensor>>(Linear(4, 4));",
          "list[0].forward(x) + list[0].call(x)" },
        { "conditional receiver", "private readonly Linear a = Linear(4, 4), b = Linear(4, 4);", "(x.shape[0] > 1 ? a : b).forward(x)" },
    };

    private const string Types = """
        public sealed class Layer : Module<Tensor, int, Tensor, Tensor?, Tensor>
        {
            public Layer() : base("layer") { }
            public override Tensor forward(Tensor x, int start, Tensor freqs, Tensor? mask) => mask is null ? x + freqs : x + freqs + mask;
        }
        public sealed class Sum : Module<Tensor, long?, Tensor>
        {
            public Sum() : base("sum") { }
            public override Tensor forward(Tensor x, long? dim) => dim is null ? x : x.sum(dim.Value, keepdim: true);
        }
        public sealed class Scaled<T> : Module<Tensor, Tensor>
        {
            public Scaled() : base("scaled") { }
            public override Tensor forward(Tensor x) => x * 2;
        }
        public sealed class Two : Module<Tensor, Tensor, Tensor>
        {
            public Two() : base("two") { }
            public override Tensor forward(Tensor x, Tensor y) => x.matmul(y);
        }
        public sealed class Six : Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
        {
            public Six() : base("six") { }
            public override Tensor forward(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e, Tensor f) => a + b + c + d + e + f;
        }
        public sealed class Split : Module<Tensor, (Tensor, Tensor)>
        {
            public Split() : base("split") { }
            public override (Tensor, Tensor) forward(Tensor x) => (x, x);
        }
        public sealed class Join : Module<(Tensor, Tensor), Tensor>
        {
            public Join() : base("join") { }
            public override Tensor forward((Tensor, Tensor) x) => x.Item1 + x.Item2;
        }
        file sealed class Local : Module<Tensor, Tensor>
        {
            public Local() : base("local") { }
            public override Tensor forward(Tensor x) => x.softmax(-1);
        }
        """;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_code_compiles_without_warnings_or_the_call_is_reported(string name, string members, string body)
    {
        var source = Sources.Usings + $$"""
            namespace Corpus;

            [Autocast(Precision.BF16)]
            public sealed partial class Host : Module<Tensor, Tensor>
            {
                {{members}}

                public Host() : base("host") { RegisterComponents(); }

                public override Tensor forward(Tensor x) => {{body}};

                public sealed class Inner : Module<Tensor, Tensor>
                {
                    public Inner() : base("inner") { }
                    public override Tensor forward(Tensor x) => x.exp();
                }

                private sealed class Hidden : Module<Tensor, Tensor>
                {
                    public Hidden() : base("hidden") { }
                    public override Tensor forward(Tensor x) => x.log();
                }
            }

            """ + Types;

        var input = GeneratorHarness.Compilation(("/src/Corpus.cs", source));
        Assert.True(input.GetDiagnostics().All(d => d.Severity < DiagnosticSeverity.Warning),
            name + ": the test source itself does not compile cleanly:\n" + string.Join("\n", input.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)));

        var result = GeneratorHarness.Run(input);
        Assert.All(result.Run.Results, r => Assert.Null(r.Exception));
        Assert.True(result.CompileDiagnostics.IsEmpty, name + ":\n" + string.Join("\n", result.CompileDiagnostics) + "\n" + result.Render());
        Assert.All(result.GeneratorDiagnostics, d => Assert.StartsWith("PP01", d.Id, StringComparison.Ordinal));

        // A .forward call runs no boundary hook: it is intercepted or reported, never left alone silently.
        // (A .call runs the hooks ApplyPrecisionPolicy() registers, whatever the receiver's static type.)
        if (!body.Contains(".forward(", StringComparison.Ordinal)) return;
        var intercepted = result.Run.GeneratedTrees.Sum(t => CountOf(t.ToString(), "[global::System.Runtime.CompilerServices.InterceptsLocation("));
        Assert.True(intercepted + result.GeneratorDiagnostics.Length > 0, name + ": nothing intercepted and nothing reported\n" + result.Render());
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
