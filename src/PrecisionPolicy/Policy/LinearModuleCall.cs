using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// A call of a Linear module in a low-precision region. With <see cref="GemmMode.Native"/> it is
    /// the module call with the input in the weights' dtype. With <see cref="GemmMode.Fp32Accumulate"/>
    /// (16-bit GEMMs without native kernels, ~120× slower than FP32) it runs <c>functional.linear</c>
    /// on operands rounded to the compute dtype and widened to FP32, then rounds the result: the same
    /// numerics as a tensor-core GEMM, at FP32 speed, and for backward it keeps the 16-bit operands. That path calls no hooks registered on this
    /// Linear itself (the enclosing module's hooks, where policies and FP8 contexts live, still run).
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
            // One node that saves the 16-bit input and weight for backward, not their FP32 widenings.
            return Fp32AccumulateLinearFunction.Apply(
                input.dtype == compute ? input : input.to(compute),
                weight,
                linear.bias is { } bias && bias.dtype != compute ? bias.to(compute) : linear.bias);
        }
        return self.call(ModuleInput(input, compute));
    }
}
