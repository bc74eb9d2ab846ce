using System;
using PrecisionPolicy;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>One method per catalogued call form; the tests compare each result's dtype with the catalogue.</summary>
[Autocast(Precision.BF16)]
public sealed partial class OpZoo : Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly LayerNorm norm;
    private readonly BatchNorm1d batchNorm;
    private readonly Softmax softmaxModule;
    private readonly MSELoss mse;
    [HighPrecision] private readonly Linear precise;

    public OpZoo(int d) : base(nameof(OpZoo))
    {
        fc = Linear(d, d);
        norm = LayerNorm(d);
        batchNorm = BatchNorm1d(d);
        softmaxModule = Softmax(-1);
        mse = MSELoss();
        precise = Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.call(x);

    // low precision
    public Tensor TorchMatmul(Tensor a, Tensor b) => torch.matmul(a, b);
    public Tensor TensorMatmul(Tensor a, Tensor b) => a.matmul(b);
    public Tensor TorchMm(Tensor a, Tensor b) => torch.mm(a, b);
    public Tensor TorchBmm(Tensor a, Tensor b) => torch.bmm(a, b);
    public Tensor Einsum(Tensor a, Tensor b) => torch.einsum("ij,jk->ik", a, b);
    public Tensor FunctionalLinear(Tensor x, Tensor w, Tensor bias) => functional.linear(x, w, bias);
    public Tensor Conv1d(Tensor x, Tensor w) => functional.conv1d(x, w);
    public Tensor Attention(Tensor q, Tensor k, Tensor v) => functional.scaled_dot_product_attention(q, k, v);
    public Tensor Addmm(Tensor c, Tensor a, Tensor b) => torch.addmm(c, a, b, 1, 1);
    public Tensor LinearModule(Tensor x) => fc.call(x);
    public Tensor LinearForward(Tensor x) => fc.forward(x);

    // fp32
    public Tensor FunctionalSoftmax(Tensor x) => functional.softmax(x, -1);
    public Tensor TorchSoftmax(Tensor x) => torch.softmax(x, -1);
    public Tensor TensorLogSoftmax(Tensor x) => x.log_softmax(-1);
    public Tensor Exp(Tensor x) => x.exp();
    public Tensor TorchLog(Tensor x) => torch.log(x);
    public Tensor Sum(Tensor x) => x.sum();
    public Tensor Pow(Tensor x) => x.pow(2);
    public Tensor FunctionalLayerNorm(Tensor x) => functional.layer_norm(x, new long[] { x.shape[^1] });
    public Tensor CrossEntropy(Tensor logits, Tensor labels) => functional.cross_entropy(logits, labels);
    public Tensor MseLoss(Tensor a, Tensor b) => functional.mse_loss(a, b);
    public Tensor LayerNormModule(Tensor x) => norm.call(x);
    public Tensor BatchNormModule(Tensor x) => batchNorm.call(x);
    public Tensor SoftmaxModule(Tensor x) => softmaxModule.call(x);
    public Tensor LossModule(Tensor a, Tensor b) => mse.call(a, b);
    public Tensor HighPrecisionMember(Tensor x) => precise.call(x);

    // promote
    public Tensor Cat(Tensor a, Tensor b) => torch.cat(new[] { a, b }, 0);
    public Tensor Stack(Tensor a, Tensor b) => torch.stack(new[] { a, b });
    public Tensor Where(Tensor condition, Tensor a, Tensor b) => torch.where(condition, a, b);
    public Tensor Addcmul(Tensor a, Tensor b, Tensor c) => torch.addcmul(a, b, c, 1);

    // never cast
    public Tensor ExplicitDtype(Tensor x) => x.sum(type: ScalarType.Float64);
    public Tensor InPlace(Tensor x) => x.exp_();
    public Tensor Float64Matmul(Tensor a, Tensor b) => torch.matmul(a, b);

    [HighPrecision]
    public Tensor HighPrecisionRegion(Tensor a, Tensor b) => torch.matmul(a, b);
}

/// <summary>A block with a [HighPrecision] member, a Sequential and a nested FP16 policy.</summary>
[Autocast(Precision.BF16)]
public sealed partial class Mixed : Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear fc;
    [HighPrecision] private readonly Linear router;
    private readonly Sequential body;
    private readonly HalfInner inner;

    public Mixed(int d) : base(nameof(Mixed))
    {
        norm = LayerNorm(d);
        fc = Linear(d, d);
        router = Linear(d, d);
        body = Sequential(Linear(d, d), ReLU(), LayerNorm(d), Linear(d, d));
        inner = new HalfInner(d);
        RegisterComponents();
    }

    public Sequential Body => body;

    public override Tensor forward(Tensor x)
    {
        var h = fc.call(norm.call(x));
        var gate = functional.softmax(router.call(x), -1);
        var y = body.call(h);
        var z = inner.call(y);
        return Autocast.Float32(z) * gate;
    }
}

/// <summary>A nested module with its own (FP16) policy.</summary>
[Autocast(Precision.FP16)]
public sealed partial class HalfInner : Module<Tensor, Tensor>
{
    private readonly Linear fc;

    public HalfInner(int d) : base(nameof(HalfInner))
    {
        fc = Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.call(x);
}

/// <summary>A one-block causal transformer language model for the convergence test.</summary>
[Autocast(Precision.BF16)]
public sealed partial class TinyTransformer : Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly LayerNorm ln1;
    private readonly LayerNorm ln2;
    private readonly LayerNorm lnf;
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear head;
    private readonly long heads;
    private readonly long width;

    public TinyTransformer(long vocabulary, long context, long width, long heads) : base(nameof(TinyTransformer))
    {
        this.heads = heads;
        this.width = width;
        tokens = Embedding(vocabulary, width);
        positions = Embedding(context, width);
        ln1 = LayerNorm(width);
        ln2 = LayerNorm(width);
        lnf = LayerNorm(width);
        qkv = Linear(width, 3 * width);
        proj = Linear(width, width);
        fc1 = Linear(width, 4 * width);
        fc2 = Linear(4 * width, width);
        head = Linear(width, vocabulary);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        var h = tokens.call(x) + positions.call(torch.arange(t, dtype: ScalarType.Int64));
        var parts = qkv.call(ln1.call(h)).view(b, t, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(width / heads);
        var mask = torch.ones(t, t, dtype: ScalarType.Bool).triu(1);
        var attention = functional.softmax(scores.masked_fill(mask, float.NegativeInfinity), -1);
        var mixed = torch.matmul(attention, v).transpose(1, 2).reshape(b, t, width);
        h = h + proj.call(mixed);
        h = h + fc2.call(functional.gelu(fc1.call(ln2.call(h))));
        return head.call(lnf.call(h));
    }
}

/// <summary>An FP8 MLP: Linear calls become functional.linear over FP8-quantized operands.</summary>
[Autocast(Precision.FP8)]
[Fp8Recipe(AmaxHistoryLength = 16)]
public sealed partial class Fp8Mlp : Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear fc1;
    private readonly Linear fc2;

    public Fp8Mlp(int d) : base(nameof(Fp8Mlp))
    {
        norm = LayerNorm(d);
        fc1 = Linear(d, 4 * d);
        fc2 = Linear(4 * d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(functional.gelu(fc1.call(norm.call(x))));
}

/// <summary>A helper class under its own policy (the analyzers' PP0011 notes it gets casts, no plumbing).</summary>
[Autocast(Precision.BF16)]
public static class PolicyHelpers
{
    public static Tensor Mm(Tensor a, Tensor b) => torch.mm(a, b);

    public static Tensor Softmax(Tensor x) => functional.softmax(x, -1);
}

/// <summary>A module class kept FP32 wherever it is used.</summary>
[HighPrecision]
public sealed class PreciseHead : Module<Tensor, Tensor>
{
    private readonly Linear fc;

    public PreciseHead(int d) : base(nameof(PreciseHead))
    {
        fc = Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.call(x);
}

/// <summary>Uses the helper class and the [HighPrecision] module class.</summary>
[Autocast(Precision.BF16)]
public sealed partial class WithHelpers : Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly PreciseHead head;

    public WithHelpers(int d) : base(nameof(WithHelpers))
    {
        fc = Linear(d, d);
        head = new PreciseHead(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.call(fc.call(x));

    public Tensor HelperMm(Tensor a, Tensor b) => PolicyHelpers.Mm(a, b);
}
