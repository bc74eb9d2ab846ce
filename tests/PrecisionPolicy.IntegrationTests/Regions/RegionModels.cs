using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Regions;

/// <summary>
/// SAM's image encoder in small: attention scores get a relative-position term from a static helper that runs
/// einsum over the queries (16-bit under the policy) and a float32 table. Written without any attribute on the
/// helper: the policy in force where it runs decides its casts.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class RelPosAttention : Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Tensor relPos;

    public RelPosAttention(int dim) : base(nameof(RelPosAttention))
    {
        qkv = Linear(dim, 3 * dim);
        relPos = torch.randn(4, 4, dim); // a buffer: float32 statistics-like state the policy leaves as it is
        square = torch.randn(4, 4);
        register_buffer("rel_pos", relPos);
        register_buffer("square", square);
        RegisterComponents();
    }

    private readonly Tensor square;

    /// <summary>Runs the relative-position term through a lambda, a local function and an extension method.</summary>
    public bool Indirect { get; set; }

    /// <summary>The dtype the helper's einsum returned on the last forward.</summary>
    public ScalarType HelperDtype { get; private set; }

    public override Tensor forward(Tensor x)
    {
        var parts = qkv.call(x).chunk(3, -1);
        var q = parts[0];
        var raw = q.matmul(parts[1].transpose(-2, -1));
        var scores = Indirect ? RelPos.AddIndirect(raw, q, relPos, square) : RelPos.Add(raw, q, relPos);
        HelperDtype = RelPos.LastEinsumDtype;
        return scores.softmax(-1).matmul(parts[2]);
    }
}

/// <summary>The helper of <see cref="RelPosAttention"/>, as SAM's <c>add_decomposed_rel_pos</c>: no attribute.</summary>
public static class RelPos
{
    public static ScalarType LastEinsumDtype { get; private set; }

    public static Tensor Add(Tensor scores, Tensor q, Tensor table)
    {
        var rel = torch.einsum("bhc,hkc->bhk", q, table);
        LastEinsumDtype = rel.dtype;
        return scores + rel;
    }

    /// <summary>The same term through a lambda and a local function, and an extension method.</summary>
    public static Tensor AddIndirect(Tensor scores, Tensor q, Tensor table, Tensor square)
    {
        Func<Tensor, Tensor> project = t => torch.einsum("bhc,hkc->bhk", t, table);
        Tensor Normalize(Tensor t)
        {
            LastEinsumDtype = t.dtype;
            return t.softmax(-1);
        }
        return scores + Normalize(project(q)).Mixed(square);
    }

    /// <summary>An extension method the helper calls: its matmul follows the region too.</summary>
    public static Tensor Mixed(this Tensor t, Tensor square) => t.matmul(square);
}

/// <summary>The same model with the helper's body written inside the class: the reference the helper must match bitwise.</summary>
[Autocast(Precision.BF16)]
public sealed partial class InlineRelPosAttention : Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Tensor relPos;

    public InlineRelPosAttention(RelPosAttention source, int dim) : base(nameof(InlineRelPosAttention))
    {
        qkv = Linear(dim, 3 * dim);
        relPos = torch.zeros(4, 4, dim);
        register_buffer("rel_pos", relPos);
        register_buffer("square", torch.zeros(4, 4));
        RegisterComponents();
        load_state_dict(source.state_dict());
    }

    public override Tensor forward(Tensor x)
    {
        var parts = qkv.call(x).chunk(3, -1);
        var q = parts[0];
        var scores = q.matmul(parts[1].transpose(-2, -1)) + torch.einsum("bhc,hkc->bhk", q, relPos);
        return scores.softmax(-1).matmul(parts[2]);
    }
}

/// <summary>TorchSharp's TextClassification example's shape: its own call(input, offsets) that calls forward directly.</summary>
[Autocast(Precision.BF16)]
public sealed partial class OffsetsClassifier : Module<Tensor, Tensor, Tensor>
{
    private readonly EmbeddingBag embedding;
    private readonly Linear fc;

    public OffsetsClassifier() : base(nameof(OffsetsClassifier))
    {
        embedding = EmbeddingBag(20, 8, mode: EmbeddingBagMode.Mean);
        fc = Linear(8, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor offsets) => fc.call(embedding.call(input, offsets, null));

    /// <summary>The example's entry point: the loop calls this, never Module.call.</summary>
#pragma warning disable IDE1006 // named as the example names it
    public new Tensor call(Tensor input, Tensor offsets) => forward(input, offsets);
#pragma warning restore IDE1006
}

/// <summary>A convolution and a Linear under FP16: what a user who forgot ApplyPrecisionPolicy() runs.</summary>
[Autocast(Precision.FP16)]
public sealed partial class SmallConvNet : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly Linear head;

    public SmallConvNet() : base(nameof(SmallConvNet))
    {
        conv = Conv2d(1, 2, 3);
        head = Linear(8, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.call(conv.call(x).flatten(1));
}
