using PrecisionPolicy.Casting;
using PrecisionPolicy.Policy;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// A call of a Linear module in a low-precision region. With <see cref="GemmMode.Native"/> it is
    /// the module call with the input in the weights' dtype. With <see cref="GemmMode.Fp32Accumulate"/>
    /// (16-bit GEMMs without native kernels, ~120× slower than FP32) it is <see cref="Fp32AccumulateLinear"/>:
    /// the same numerics as a tensor-core GEMM, at FP32 speed. When the user registered hooks on this Linear,
    /// the call goes through <c>call(...)</c> so that they run: the module's GEMM-mode hooks compute that same node
    /// there, unless a forward hook of the user's must see the real input, and the module runs natively
    /// (<see cref="GemmModeHooks"/>).
    /// </summary>
    public static Tensor LinearModule(nn.Module<Tensor, Tensor> self, Tensor input, ScalarType compute)
    {
        // A LoRA/QLoRA layer computes base and adapters itself, in its adapters' dtype, under the GEMM mode.
        if (self is Linear adapted && Lora.LoraLayer.Of(adapted) is { } lora) return lora.Forward(input);
        RequireApplied(self, compute);
        compute = AutocastScope.ComputeDtype(compute);
        if (self is Linear linear && linear.weight is { } weight && weight.dtype == compute && compute != ScalarType.Float32
            && AutocastDtypes.IsCastable(input.dtype) && GemmModes.For(input.device_type, compute) == GemmMode.Fp32Accumulate)
        {
            return GemmModeHooks.HasUserHooks(linear)
                ? GemmModeHooks.Call(linear, ModuleInput(input, compute))
                : Fp32AccumulateLinear(linear, input, compute);
        }
        return self.call(ModuleInput(input, compute));
    }

    /// <summary>
    /// A Linear in <see cref="GemmMode.Fp32Accumulate"/>: <c>functional.linear</c> on operands rounded to
    /// <paramref name="compute"/> and widened to FP32, the result rounded, as one autograd node that keeps the 16-bit
    /// operands for backward (<see cref="Fp32AccumulateLinearFunction"/>). Runs no hook of the module.
    /// </summary>
    internal static Tensor Fp32AccumulateLinear(Linear linear, Tensor input, ScalarType compute) =>
        // One node that saves the 16-bit input and weight for backward, not their FP32 widenings.
        Fp32AccumulateLinearFunction.Apply(
            input.dtype == compute ? input : input.to(compute),
            linear.weight,
            linear.bias is { } bias && bias.dtype != compute ? bias.to(compute) : linear.bias);
}
