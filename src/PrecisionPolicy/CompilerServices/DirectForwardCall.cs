using static TorchSharp.torch;

using PrecisionPolicy.Policy;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// The result of a policy module's own forward called from another of its methods (a custom <c>call(input,
    /// offsets)</c>): handed back in the plan's output dtype, as the output hook of <c>call(...)</c> would, so a
    /// custom entry point cannot leak 16-bit outputs to the loss.
    /// </summary>
    public static Tensor DirectForwardOutput(nn.Module self, Tensor result) => PolicyOutputs.Apply(self, result);
}
