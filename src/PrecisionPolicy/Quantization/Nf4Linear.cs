using System;
using PrecisionPolicy.Casting;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Quantization;

/// <summary>
/// A frozen Linear whose weight is stored in NF4 (<see cref="NormalFloat4"/>): buffers <c>codes</c> and either
/// <c>absmax</c> or, double quantized, <c>absmax_codes</c>, <c>absmax_scales</c> and <c>absmax_offset</c>; an
/// optional frozen <c>bias</c>. Forward dequantizes the weight to the compute dtype for one GEMM and frees it
/// (<see cref="Nf4LinearFunction"/>); backward reaches the input and gives the weight no gradient.
/// The compute dtype is <see cref="ComputeDtype"/> when set, else the <see cref="AutocastScope"/>'s, else the
/// input's when it is BF16/FP16, else FP32.
/// </summary>
public sealed class Nf4Linear : nn.Module<Tensor, Tensor>
{
    private const string Codes = "codes", Absmax = "absmax", AbsmaxCodes = "absmax_codes", AbsmaxScales = "absmax_scales", AbsmaxOffset = "absmax_offset";

    /// <summary>Quantizes <paramref name="weight"/> [out, in] (copied, not kept) and keeps <paramref name="bias"/> frozen.</summary>
    public Nf4Linear(Tensor weight, Tensor? bias = null, bool doubleQuantize = true) : base(nameof(Nf4Linear))
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ArgumentException($"A Linear weight is [out, in]; this one has shape {NormalFloat4.Describe(weight.shape)}.", nameof(weight));
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new ArgumentException($"The bias must be [{weight.shape[0]}]; it has shape {NormalFloat4.Describe(bias.shape)}.", nameof(bias));
        OutFeatures = weight.shape[0];
        InFeatures = weight.shape[1];
        var q = NormalFloat4.Quantize(weight, doubleQuantize);
        register_buffer(Codes, q.Codes);
        if (q.Absmax is { } absmax) register_buffer(Absmax, absmax);
        else
        {
            register_buffer(AbsmaxCodes, q.AbsmaxCodes!);
            register_buffer(AbsmaxScales, q.AbsmaxScales!);
            register_buffer(AbsmaxOffset, q.AbsmaxOffset!);
        }
        if (bias is not null)
        {
            using var noGrad = no_grad();
            register_parameter("bias", new Parameter(bias.detach().clone(), requires_grad: false));
        }
    }

    /// <summary>The NF4 copy of a Linear's weight and bias; the Linear is left as it is.</summary>
    public static Nf4Linear From(Linear linear, bool doubleQuantize = true)
    {
        ArgumentNullException.ThrowIfNull(linear);
        return new Nf4Linear(linear.weight ?? throw new ArgumentException("The Linear has no weight.", nameof(linear)), linear.bias, doubleQuantize);
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }

    /// <summary>Output features.</summary>
    public long OutFeatures { get; }

    /// <summary>The dtype forward computes in; null: the scope's, else the input's 16-bit dtype, else FP32.</summary>
    public ScalarType? ComputeDtype
    {
        get => computeDtype;
        set
        {
            if (value is { } v && !AutocastDtypes.IsCastable(v))
                throw new ArgumentException($"An NF4 Linear computes in float32, bfloat16 or float16, not {v}.", nameof(value));
            computeDtype = value;
        }
    }

    private ScalarType? computeDtype;

    /// <summary>Whether the block constants are double quantized.</summary>
    public bool IsDoubleQuantized => has_buffer(AbsmaxCodes);

    /// <summary>The stored weight, a view of the module's buffers (do not dispose it).</summary>
    public Nf4Tensor Weight => IsDoubleQuantized
        ? Nf4Tensor.DoubleQuantized(get_buffer(Codes)!, get_buffer(AbsmaxCodes)!, get_buffer(AbsmaxScales)!, get_buffer(AbsmaxOffset)!, [OutFeatures, InFeatures])
        : new Nf4Tensor(get_buffer(Codes)!, get_buffer(Absmax)!, [OutFeatures, InFeatures]);

    /// <summary>The frozen bias, or null.</summary>
    public Parameter? Bias => has_parameter("bias") ? get_parameter("bias") : null;

    /// <summary>Whether <paramref name="name"/> (a buffer of this module) holds the 4-bit codes rather than block constants.</summary>
    public static bool IsCodesBuffer(string name) => name == Codes;

    /// <summary>The dtype a call with <paramref name="input"/> computes in.</summary>
    public ScalarType ComputeDtypeFor(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (computeDtype is { } set) return set;
        if (AutocastScope.Current is { } scoped) return AutocastDtypes.ComputeDtype(scoped);
        return input.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? input.dtype : ScalarType.Float32;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.shape.Length == 0 || input.shape[^1] != InFeatures)
            throw new ArgumentException($"An NF4 Linear of {InFeatures} input features got an input of shape {NormalFloat4.Describe(input.shape)}.", nameof(input));
        var compute = ComputeDtypeFor(input);
        var output = Nf4LinearFunction.Apply(input.dtype == compute ? input : input.to(compute), Weight);
        return Bias is { } bias ? output.add(bias.dtype == compute ? bias : bias.to(compute)) : output;
    }
}
