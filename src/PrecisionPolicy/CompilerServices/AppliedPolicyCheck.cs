using System.Linq;
using System;
using PrecisionPolicy.Casting;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// Refuses a low-precision module call on a module whose policy was never applied: its weights are still
    /// float32, and the 16-bit input the region gives it would end in libtorch's "expected scalar type" error.
    /// One lookup when the policy was applied (the module's boundary hook is registered).
    /// </summary>
    /// <exception cref="InvalidOperationException">The module is a float32 leaf under a 16-bit compute dtype.</exception>
    public static void RequireApplied(nn.Module self, ScalarType compute)
    {
        if (ModulePolicy.BoundaryDtype(self) is not null) return;
        if (AutocastScope.ComputeDtype(compute) == ScalarType.Float32) return;
        if (self.children().Any()) return; // a container: its leaves are checked where they are called
        var weight = self.named_parameters(recurse: false).FirstOrDefault(p => p.parameter.dtype == ScalarType.Float32);
        if (weight.parameter is null) return;
        throw new InvalidOperationException(
            $"'{self.GetType().Name}' is called in a {AutocastScope.ComputeDtype(compute)} region but its '{weight.name}' is still float32: " +
            "the model's precision policy was not applied. Call ApplyPrecisionPolicy() before the first forward, e.g. var model = new MyModel(...).ApplyPrecisionPolicy();");
    }
}
