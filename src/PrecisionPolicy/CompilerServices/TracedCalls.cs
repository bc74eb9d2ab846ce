using System.ComponentModel;
using PrecisionPolicy.Tracing;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// What a generated interceptor calls, behind a check of <see cref="NumericsTrace.IsOn"/>, to report one
/// call of its site to the numerics trace: the inputs before their casts, then the output.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TracedCalls
{
    /// <summary>The call's tensor inputs (nulls and non-floating tensors are skipped), before they are cast.</summary>
    public static void Inputs(NumericsSite site, params Tensor?[] tensors)
    {
        if (NumericsTrace.IsOn) NumericsTrace.RecordInputs(site, tensors);
    }

    /// <summary>The call's output; returned as is, or through an identity autograd node that records its gradient.</summary>
    public static Tensor Output(NumericsSite site, Tensor output) =>
        NumericsTrace.IsOn ? NumericsTrace.RecordOutput(site, output) : output;
}
