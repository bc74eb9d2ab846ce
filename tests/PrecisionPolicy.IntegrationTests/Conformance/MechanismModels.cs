using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Conformance;

// Models written the way the failing ports were written (a LLaMA port's nullable-input layers called with
// forward, SAM's einsum helper, GPT's tied head, TorchSharp's TextClassification entry point, hooks a user registers);
// [Autocast] and partial are the only additions, on the outer class only.

/// <summary>
/// A residual block typed with a nullable input, as a LLaMA port types its layers
/// (<c>Module&lt;Tensor, Tensor?, Tensor&gt;</c>) and calls them with <c>forward(x, null)</c>. No attribute: its
/// calls follow the region of the policy module that runs it.
/// </summary>
public sealed class GatedBlock : Module<Tensor, Tensor?, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear up;
    private readonly Linear down;

    public GatedBlock(long width) : base(nameof(GatedBlock))
    {
        norm = LayerNorm(width);
        up = Linear(width, 2 * width);
        down = Linear(2 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? gate)
    {
        var h = down.call(functional.silu(up.call(norm.call(x))));
        return x + (gate is null ? h : h * gate);
    }
}

/// <summary>Token classifier over two <see cref="GatedBlock"/>s held as <c>Module&lt;Tensor, Tensor?, Tensor&gt;</c> and called with <c>forward</c>.</summary>
[Autocast(Precision.BF16)]
public sealed partial class NullableForwardClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly Module<Tensor, Tensor?, Tensor> first;
    private readonly Module<Tensor, Tensor?, Tensor> second;
    private readonly Linear head;

    public NullableForwardClassifier(long vocabulary, long width, long classes) : base(nameof(NullableForwardClassifier))
    {
        embedding = Embedding(vocabulary, width);
        first = new GatedBlock(width);
        second = new GatedBlock(width);
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var x = second.forward(first.forward(embedding.call(tokens), null), null);
        return head.call(x.mean(new long[] { 1 }));
    }
}

/// <summary>SAM's shape of helper: a static method with no attribute runs einsum over 16-bit activations and an FP32 parameter.</summary>
public static class MixingHelper
{
    public static Tensor Mix(Tensor x, Tensor weights) => torch.einsum("bld,dk->blk", x, weights);
}

/// <summary>A classifier whose middle layer is <see cref="MixingHelper.Mix"/> over its own parameter.</summary>
[Autocast(Precision.BF16)]
public sealed partial class HelperEinsumClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly Linear input;
    private readonly Parameter mixing;
    private readonly Linear head;

    public HelperEinsumClassifier(long vocabulary, long width, long classes) : base(nameof(HelperEinsumClassifier))
    {
        embedding = Embedding(vocabulary, width);
        input = Linear(width, width);
        mixing = Parameter(randn(width, width) / System.Math.Sqrt(width));
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var h = functional.relu(input.call(embedding.call(tokens)));
        return head.call(functional.relu(MixingHelper.Mix(h, mixing)).mean(new long[] { 1 }));
    }
}

/// <summary>A language-model head tied to the token embedding (<c>decoder.weight = embedding.weight</c>, as GPT-2 ports tie them), read by a small classifier.</summary>
[Autocast(Precision.BF16)]
public sealed partial class TiedHeadClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly Linear mix;
    private readonly Linear decoder;
    private readonly Linear head;

    public TiedHeadClassifier(long vocabulary, long width, long classes) : base(nameof(TiedHeadClassifier))
    {
        embedding = Embedding(vocabulary, width);
        mix = Linear(width, width);
        decoder = Linear(width, vocabulary, hasBias: false);
        decoder.weight = embedding.weight!; // the tie
        head = Linear(vocabulary, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var h = functional.gelu(mix.call(embedding.call(tokens))).mean(new long[] { 1 });
        return head.call(decoder.call(h));
    }
}

/// <summary>TorchSharp's TextClassification example's entry point: its own <c>call</c> that calls <c>forward</c> directly (no hooks run).</summary>
[Autocast(Precision.BF16)]
public sealed partial class CustomCallClassifier : Module<Tensor, Tensor>
{
    private readonly EmbeddingBag bag;
    private readonly Linear fc;

    public CustomCallClassifier(long vocabulary, long width, long classes) : base(nameof(CustomCallClassifier))
    {
        bag = EmbeddingBag(vocabulary, width, mode: EmbeddingBagMode.Mean);
        fc = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens) => fc.call(bag.call(tokens));

    /// <summary>The example's entry point: the loop calls this, never <c>Module.call</c>.</summary>
#pragma warning disable IDE1006 // named as the example names it
    public new Tensor call(Tensor tokens) => forward(tokens);
#pragma warning restore IDE1006
}

/// <summary>
/// An MLP whose first Linear carries a forward pre-hook its author registered (a pruning mask over the input
/// features), the hook counting its calls: under the policy it must run on every call in every GEMM mode.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class HookedMlp : Module<Tensor, Tensor>
{
    private readonly long vocabulary;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Tensor mask;

    public HookedMlp(long vocabulary, long length, long classes) : base(nameof(HookedMlp))
    {
        this.vocabulary = vocabulary;
        fc1 = Linear(vocabulary * length, 32);
        fc2 = Linear(32, classes);
        mask = (arange(vocabulary * length) % 4 != 0).to_type(ScalarType.Float32); // prunes one feature in four
        register_buffer("mask", mask);
        RegisterComponents();
        fc1.register_forward_pre_hook((_, x) =>
        {
            HookCalls++;
            return x * mask.to_type(x.dtype);
        });
    }

    /// <summary>Calls of the pre-hook, and of forward.</summary>
    public int HookCalls { get; private set; }

    public int Forwards { get; private set; }

    public override Tensor forward(Tensor tokens)
    {
        Forwards++;
        var x = functional.one_hot(tokens, vocabulary).flatten(1).to_type(ScalarType.Float32);
        return fc2.call(functional.relu(fc1.call(x)));
    }
}
