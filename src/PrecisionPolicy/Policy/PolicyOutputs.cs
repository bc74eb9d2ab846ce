using System.Runtime.CompilerServices;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>
/// The output half of a policy: the outermost policy module of a call hands its floating outputs
/// back in the plan's <see cref="AutocastOutput"/> (float32 by default), so the loss the training
/// loop computes outside the model runs in FP32. A policy module applied as a nested child of another
/// passes its compute dtype on instead: the parent's next op takes it as it is, with no round trip
/// through FP32. The hook runs in <c>call(...)</c>, not in <c>forward(...)</c>.
/// </summary>
internal static class PolicyOutputs
{
    private sealed class State
    {
        public bool Nested;
        public AutocastOutput Output;
    }

    private static readonly ConditionalWeakTable<nn.Module, State> States = new();

    /// <summary>Registers (once) the output hook of a module whose policy <paramref name="plan"/> is.</summary>
    public static void Register(nn.Module module, PrecisionPlan plan)
    {
        lock (States)
        {
            if (States.TryGetValue(module, out var existing))
            {
                existing.Output = plan.Output;
                return;
            }
            var state = new State { Output = plan.Output };
            // Outputs that hold no tensor (a module returning a user type): nothing to hand back.
            if (BoundaryHooks.CastOutputs(module, () => state.Nested || state.Output == AutocastOutput.Compute ? null : ScalarType.Float32))
                States.Add(module, state);
        }
    }

    /// <summary>
    /// The result of a policy module's forward called directly from another of its methods (a custom entry point):
    /// cast as the output hook of <c>call(...)</c> would cast it, which forward does not run.
    /// </summary>
    public static Tensor Apply(nn.Module module, Tensor result)
    {
        State? state;
        lock (States)
        {
            if (!States.TryGetValue(module, out state)) return result; // the policy is not applied: nothing to hand back
        }
        if (state.Nested || state.Output == AutocastOutput.Compute) return result;
        return Autocast.Float32(result);
    }

    /// <summary>
    /// Marks a policy module as nested in another: from now on its outputs stay in its compute dtype,
    /// also when it is applied alone again (a module inside a policy tree keeps that role).
    /// </summary>
    public static void MarkNested(nn.Module module)
    {
        lock (States)
        {
            if (States.TryGetValue(module, out var state)) state.Nested = true;
        }
    }
}
