using PrecisionPolicy.Policy;
using TorchSharp;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// An input of a <c>forward(...)</c> call, which bypasses the boundary hooks: cast as the module's
    /// hook would cast it (to its storage dtype; tuples of tensors element by element), decided by the
    /// module's run-time state, so it serves receivers typed <c>Module&lt;Tensor, Tensor&gt;</c> or an
    /// interface. Unchanged for modules without a boundary hook.
    /// </summary>
    public static T ForwardInput<T>(torch.nn.Module module, T input) =>
        ModulePolicy.BoundaryDtype(module) is { } dtype ? BoundaryCast<T>.To(input, dtype) : input;
}
