using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Policy;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.MultiheadAttention</c> (same constructor parameters, forward
/// signature and state-dict names: <c>in_proj_weight</c>, <c>in_proj_bias</c> — or
/// <c>q/k/v_proj_weight</c> when <c>kdim</c>/<c>vdim</c> differ — and <c>out_proj.*</c>), written
/// in managed ops so the precision policy reaches inside: the projections and both attention GEMMs run
/// in the compute dtype (the weights' storage dtype, with the GEMM mode of generated code), the scaled
/// scores, masks and softmax in FP32. Inputs are sequence-first, (L, N, E), as TorchSharp's.
/// </summary>
public sealed class MultiheadAttention : nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>>, ISelfCastingModule
{
    private readonly long embedDim;
    private readonly long heads;
    private readonly double dropout;
    private readonly Parameter? in_proj_weight;
    private readonly Parameter? q_proj_weight;
    private readonly Parameter? k_proj_weight;
    private readonly Parameter? v_proj_weight;
    private readonly Parameter? in_proj_bias;
    private readonly Linear out_proj;

    /// <summary>Creates the module; parameters and their initialization as TorchSharp's (PyTorch's).</summary>
    /// <param name="embedded_dim">Total dimension of the model.</param>
    /// <param name="num_heads">Parallel attention heads; must divide <paramref name="embedded_dim"/>.</param>
    /// <param name="dropout">Dropout probability on the attention weights.</param>
    /// <param name="bias">Adds bias to the input and output projections.</param>
    /// <param name="add_bias_kv">Not supported here (use TorchSharp's module): false.</param>
    /// <param name="add_zero_attn">Not supported here (use TorchSharp's module): false.</param>
    /// <param name="kdim">Features of the keys (default: <paramref name="embedded_dim"/>).</param>
    /// <param name="vdim">Features of the values (default: <paramref name="embedded_dim"/>).</param>
    public MultiheadAttention(long embedded_dim, long num_heads, double dropout = 0.0, bool bias = true, bool add_bias_kv = false, bool add_zero_attn = false,
        long? kdim = null, long? vdim = null) : base(nameof(MultiheadAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedded_dim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(num_heads);
        if (embedded_dim % num_heads != 0)
            throw new ArgumentException($"embedded_dim ({embedded_dim}) must be divisible by num_heads ({num_heads}).", nameof(num_heads));
        if (dropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "A probability in [0, 1].");
        if (add_bias_kv || add_zero_attn)
            throw new NotSupportedException("add_bias_kv and add_zero_attn are not supported by the policy-aware MultiheadAttention; use TorchSharp's nn.MultiheadAttention.");
        embedDim = embedded_dim;
        heads = num_heads;
        this.dropout = dropout;
        var keys = kdim ?? embedded_dim;
        var values = vdim ?? embedded_dim;
        if (keys == embedded_dim && values == embedded_dim)
        {
            in_proj_weight = new Parameter(empty(3 * embedded_dim, embedded_dim));
        }
        else
        {
            q_proj_weight = new Parameter(empty(embedded_dim, embedded_dim));
            k_proj_weight = new Parameter(empty(embedded_dim, keys));
            v_proj_weight = new Parameter(empty(embedded_dim, values));
        }
        if (bias) in_proj_bias = new Parameter(zeros(3 * embedded_dim));
        out_proj = nn.Linear(embedded_dim, embedded_dim, hasBias: bias);
        using (no_grad())
        {
            foreach (var weight in new[] { in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight })
                if (weight is not null) nn.init.xavier_uniform_(weight);
            if (out_proj.bias is { } outBias) outBias.zero_();
        }
        RegisterComponents(); // fields named as TorchSharp's state dict; unused (null) projections are not registered
    }

    /// <summary>Attention of <paramref name="query"/> (L, N, E) over <paramref name="key"/>/<paramref name="value"/> (S, N, E).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Named as TorchSharp's own call overloads, which it mirrors.")]
    public new Tuple<Tensor, Tensor> call(Tensor query, Tensor key, Tensor value, Tensor? key_padding_mask = null, bool need_weights = true, Tensor? attn_mask = null) =>
        base.call(query, key, value, key_padding_mask, need_weights, attn_mask);

    /// <summary>
    /// The attention output (L, N, E) and, when <paramref name="need_weights"/>, the attention weights
    /// averaged over heads (N, L, S) in FP32 (else null). Boolean masks mark positions to leave out;
    /// floating masks are added to the scores.
    /// </summary>
    public override Tuple<Tensor, Tensor> forward(Tensor query, Tensor key, Tensor value, Tensor? key_padding_mask, bool need_weights, Tensor? attn_mask)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var (targets, batch, sources) = (query.shape[0], query.shape[1], key.shape[0]);
        var headDim = embedDim / heads;
        var compute = PolicyOps.ComputeOf(in_proj_weight ?? q_proj_weight!);
        var biases = in_proj_bias?.chunk(3);
        var weights = in_proj_weight?.chunk(3) ?? new Tensor[] { q_proj_weight!, k_proj_weight!, v_proj_weight! };
        var q = PolicyOps.Linear(query, weights[0], biases?[0], compute);
        var k = PolicyOps.Linear(key, weights[1], biases?[1], compute);
        var v = PolicyOps.Linear(value, weights[2], biases?[2], compute);
        q = q.reshape(targets, batch * heads, headDim).transpose(0, 1);
        k = k.reshape(sources, batch * heads, headDim).transpose(0, 1);
        v = v.reshape(sources, batch * heads, headDim).transpose(0, 1);

        // Scores leave the GEMM in the compute dtype; scaling, masks and softmax run in FP32.
        var scores = Autocast.Float32(PolicyOps.Bmm(q, k.transpose(1, 2), compute)) * (1.0 / Math.Sqrt(headDim));
        if (attn_mask is not null)
            scores = Mask(scores, attn_mask.dim() == 2 ? attn_mask.unsqueeze(0) : attn_mask);
        if (key_padding_mask is not null)
            scores = Mask(scores, key_padding_mask.view(batch, 1, 1, sources).expand(batch, heads, 1, sources).reshape(batch * heads, 1, sources));
        var attention = nn.functional.softmax(scores, -1);
        if (dropout > 0 && training) attention = nn.functional.dropout(attention, dropout, training);

        var mixed = PolicyOps.Bmm(attention, v, compute).transpose(0, 1).reshape(targets, batch, embedDim);
        var output = PolicyOps.LinearModule(out_proj, mixed);
        var averaged = need_weights ? attention.view(batch, heads, targets, sources).mean(new long[] { 1 }) : null;
        return Tuple.Create(output, averaged!);
    }

    private static Tensor Mask(Tensor scores, Tensor mask) =>
        mask.dtype is ScalarType.Bool or ScalarType.Byte
            ? scores.masked_fill(mask.to(ScalarType.Bool), float.NegativeInfinity)
            : scores + Autocast.Float32(mask);
}
