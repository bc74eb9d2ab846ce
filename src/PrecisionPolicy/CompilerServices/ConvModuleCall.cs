using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Policy;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// A call of a Conv1d/Conv2d/Conv3d module in a low-precision region, as
    /// <see cref="LinearModule"/> is for Linear: with <see cref="GemmMode.Native"/> the module call
    /// with the input in the weights' dtype; with <see cref="GemmMode.Fp32Accumulate"/>
    /// <see cref="Fp32AccumulateConv"/>, through <c>call(...)</c> when the user registered hooks on the
    /// convolution (<see cref="GemmModeHooks"/> computes the same there, or runs natively under a forward hook of the
    /// user's). Transposed convolutions keep the module call.
    /// </summary>
    public static Tensor ConvModule(nn.Module<Tensor, Tensor> self, Tensor input, ScalarType compute)
    {
        RequireApplied(self, compute);
        compute = AutocastScope.ComputeDtype(compute);
        if (self is Convolution conv && !conv.transposed && conv.weight is { } weight && weight.dtype == compute && compute != ScalarType.Float32
            && AutocastDtypes.IsCastable(input.dtype) && GemmModes.For(input.device_type, compute) == GemmMode.Fp32Accumulate)
        {
            return GemmModeHooks.HasUserHooks(conv)
                ? GemmModeHooks.Call(conv, ModuleInput(input, compute))
                : Fp32AccumulateConv(conv, input, compute);
        }
        return self.call(ModuleInput(input, compute));
    }

    /// <summary>
    /// A convolution in <see cref="GemmMode.Fp32Accumulate"/>: the module's convolution (same stride, padding,
    /// padding mode, dilation, groups) run functionally on operands rounded to <paramref name="compute"/> and
    /// widened to FP32, the result rounded to <paramref name="compute"/>. Runs no hook of the module.
    /// </summary>
    internal static Tensor Fp32AccumulateConv(Convolution conv, Tensor input, ScalarType compute)
    {
        var result = Convolve(conv,
            Autocast.LowPrecision(input, compute),
            Autocast.LowPrecision(conv.weight, compute),
            Autocast.LowPrecisionOptional(conv.bias, compute));
        return Autocast.LowPrecisionResult(result, compute);
    }

    // The forward of TorchSharp 0.107's Conv1d/2d/3d with the module's weights replaced by the widened ones.
    private static Tensor Convolve(Convolution conv, Tensor input, Tensor weight, Tensor? bias)
    {
        var dims = conv.kernel_size.Length;
        if (conv.padding_mode != PaddingModes.Zeros)
        {
            var padded = nn.functional.pad(input, ReversedPaddingRepeatedTwice(conv), conv.padding_mode);
            return Convolve(dims, padded, weight, bias, conv.stride, new long[dims], conv.dilation, conv.groups);
        }
        if (conv.padding_type is { } type)
        {
            return dims switch
            {
                1 => nn.functional.conv1d_padding(input, weight, bias, conv.stride[0], type, conv.dilation[0], conv.groups),
                2 => nn.functional.conv2d_padding(input, weight, bias, conv.stride, type, conv.dilation, conv.groups),
                3 => nn.functional.conv3d_padding(input, weight, bias, conv.stride, type, conv.dilation, conv.groups),
                _ => throw UnknownRank(dims),
            };
        }
        return Convolve(dims, input, weight, bias, conv.stride, conv.padding ?? new long[dims], conv.dilation, conv.groups);
    }

    private static Tensor Convolve(int dims, Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups) => dims switch
    {
        1 => nn.functional.conv1d(input, weight, bias, stride[0], padding[0], dilation[0], groups),
        2 => nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups),
        3 => nn.functional.conv3d(input, weight, bias, stride, padding, dilation, groups),
        _ => throw UnknownRank(dims),
    };

    // What TorchSharp's Convolution keeps in its protected _reversed_padding_repeated_twice (same rules).
    private static long[] ReversedPaddingRepeatedTwice(Convolution conv)
    {
        // Enumerable.Reverse by name: on net8.0 C# 14's span conversions bind padding.Reverse() to the in-place MemoryExtensions.Reverse.
        if (conv.padding is { } padding) return Enumerable.Reverse(padding).SelectMany(p => new[] { p, p }).ToArray();
        var pads = new long[conv.kernel_size.Length * 2];
        if (conv.padding_type == Padding.Same)
        {
            for (var i = conv.kernel_size.Length - 1; i >= 0; i--)
            {
                var total = conv.dilation[i] * (conv.kernel_size[i] - 1);
                pads[2 * i] = total / 2;
                pads[2 * i + 1] = total - total / 2;
            }
        }
        return pads;
    }

    private static NotSupportedException UnknownRank(int dims) =>
        new($"A convolution over {dims} spatial dimensions has no functional form in TorchSharp (1, 2 or 3).");
}
