using System;
using PrecisionPolicy.Casting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// A call of a Linear module in an <c>[Autocast(Precision.FP8)]</c> region: input and weight
    /// quantized per tensor at their sites (<see cref="Fp8Autocast.Operand"/>), the bias in the compute
    /// dtype, the result rounded to it in <see cref="GemmMode.Fp32Accumulate"/>. Under an
    /// <see cref="AutocastScope"/> of another precision (a reference run of an FP8 model) nothing is
    /// quantized: it is that precision's <see cref="LinearModule"/> call, which in
    /// <see cref="GemmMode.Fp32Accumulate"/> keeps the 16-bit operands, not FP32 copies, for backward.
    /// </summary>
    public static Tensor Fp8LinearModule(nn.Module<Tensor, Tensor> self, Tensor input, string inputSite, string weightSite, ScalarType compute)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (AutocastScope.Effective(Precision.FP8) != Precision.FP8) return LinearModule(self, input, compute);
        var linear = (Linear)self;
        if (Lora.LoraLayer.Of(linear) is { } lora)
            throw new NotSupportedException($"Linear '{lora.Name}' has LoRA adapters, which train in BF16 or FP16, not FP8: fine-tune under AutocastScope.Use(Precision.BF16).");
        var result = nn.functional.linear(
            Fp8Autocast.Operand(input, inputSite),
            Fp8Autocast.Operand(linear.weight!, weightSite),
            Autocast.LowPrecisionOptional(linear.bias, compute));
        return Autocast.LowPrecisionResult(result, compute);
    }
}
