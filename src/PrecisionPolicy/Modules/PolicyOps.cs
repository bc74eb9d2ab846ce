using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// The casts of the policy-aware composites, the same helpers generated interceptors call: GEMM
/// operands in the compute dtype (honouring the GEMM mode), softmax and LayerNorm inputs in FP32. A
/// composite's compute dtype is the storage dtype of its weights, which <c>ApplyPrecisionPolicy()</c>
/// sets from the enclosing policy; without a policy everything stays float32.
/// </summary>
internal static class PolicyOps
{
    /// <summary>The dtype GEMMs against <paramref name="weight"/> compute in: its storage dtype (float64 weights: float32 rules do not apply, no casts).</summary>
    public static ScalarType ComputeOf(Tensor weight) => AutocastDtypes.IsCastable(weight.dtype) ? weight.dtype : ScalarType.Float32;

    /// <summary><c>functional.linear</c> with its operands in <paramref name="compute"/>.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, ScalarType compute) =>
        Autocast.LowPrecisionResult(
            nn.functional.linear(Operand(input, compute), Operand(weight, compute), bias is null ? null : Operand(bias, compute)), compute);

    /// <summary><c>torch.bmm</c> with its operands in <paramref name="compute"/>.</summary>
    public static Tensor Bmm(Tensor a, Tensor b, ScalarType compute) =>
        Autocast.LowPrecisionResult(torch.bmm(Operand(a, compute), Operand(b, compute)), compute);

    /// <summary>A call of a Linear child, as a generated interceptor makes it (fast path in FP32-accumulate mode).</summary>
    public static Tensor LinearModule(TorchSharp.Modules.Linear linear, Tensor input) =>
        PolicyCasts.LinearModule(linear, input, ComputeOf(linear.weight!));

    /// <summary>A LayerNorm child called on an FP32 input (its parameters stay FP32 under every policy).</summary>
    public static Tensor LayerNorm(TorchSharp.Modules.LayerNorm norm, Tensor input) => norm.call(Autocast.Float32(input));

    /// <summary>The feed-forward activation TorchSharp's transformer layers take.</summary>
    public static Tensor Activate(Tensor x, nn.Activations activation) => activation switch
    {
        nn.Activations.ReLU => nn.functional.relu(x),
        nn.Activations.GELU => nn.functional.gelu(x),
        _ => throw new System.ArgumentOutOfRangeException(nameof(activation), activation, "TorchSharp's transformer layers take ReLU or GELU."),
    };

    /// <summary>Checks an activation value when a layer is built, so a bad one fails there, not in the first forward.</summary>
    public static nn.Activations CheckActivation(nn.Activations activation) =>
        activation is nn.Activations.ReLU or nn.Activations.GELU
            ? activation
            : throw new System.ArgumentOutOfRangeException(nameof(activation), activation, "TorchSharp's transformer layers take ReLU or GELU.");

    // FP32 compute: widen (a BF16 activation may meet FP32 weights); otherwise the low-precision operand.
    private static Tensor Operand(Tensor tensor, ScalarType compute) =>
        compute == ScalarType.Float32 ? Autocast.Float32(tensor) : Autocast.LowPrecision(tensor, compute);
}
