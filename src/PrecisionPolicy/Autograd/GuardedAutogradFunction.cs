using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Autograd;

/// <summary>
/// The toolkit's custom autograd nodes (Fp32Accumulate GEMMs, the FP8 cast, the numerics trace's gradient record):
/// a <see cref="autograd.SingleTensorFunction{T}"/> whose C# backward never lets an exception out. One that did
/// would cross libtorch's engine and end the process; here a failed backward returns gradients the engine refuses,
/// so that backward fails with an error in the thread that called it, and the cause goes to
/// <see cref="BackwardFailures"/>. TorchSharp keeps one instance of each function type, so per-node state lives in the context.
/// </summary>
internal abstract class GuardedAutogradFunction<T> : autograd.SingleTensorFunction<T> where T : GuardedAutogradFunction<T>, new()
{
    private const string GuardKey = "backward-guard";

    /// <summary>The node in the words of an error, e.g. "a Linear in Fp32Accumulate mode"; reads only what forward saved.</summary>
    protected abstract string Describe(autograd.AutogradContext ctx);

    /// <summary>The node's forward.</summary>
    protected abstract Tensor Forward(autograd.AutogradContext ctx, object[] vars);

    /// <summary>The node's backward: one gradient per argument of forward, null for those that are not tensors. It may throw.</summary>
    protected abstract List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput);

    /// <summary>
    /// TorchSharp's <c>apply</c>, then the copy it keeps of the output freed (<see cref="CustomNodeOutputCache"/>): for nodes
    /// whose output is an activation the size of a layer's (the Fp32Accumulate GEMMs).
    /// </summary>
    internal static Tensor ApplyReleasingOutputCopy(params object[] vars) => CustomNodeOutputCache.Apply(() => apply(vars));

    public sealed override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data(GuardKey, new Guard(BackwardFailures.OfThisThread, Array.ConvertAll(vars, v => v is Tensor t && !t.IsInvalid)));
        var output = Forward(ctx, vars);
        CustomNodeOutputCache.Remember(ctx);
        return output;
    }

    public sealed override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var guard = (Guard)ctx.get_data(GuardKey);
        // No gradient reached the output of a node whose output copy was freed (TorchSharp would have made zeros
        // from it): none goes on, which autograd reads as zeros.
        if (grad_output.IsInvalid) return guard.TensorArguments.Select(static _ => (Tensor)null!).ToList();
        try
        {
            return Backward(ctx, grad_output);
        }
        catch (Exception e)
        {
            BackwardFailures.Report(guard.ForwardInbox, new BackwardFailures.NodeFailure(DescribeOrName(ctx), e));
            // TorchSharp wants a null where forward took a non-tensor argument.
            return guard.TensorArguments.Select(isTensor => isTensor ? BackwardFailures.RejectedGradient() : null!).ToList();
        }
    }

    // Nothing may throw out of backward, not even the words for the error.
    private string DescribeOrName(autograd.AutogradContext ctx)
    {
        try
        {
            return Describe(ctx);
        }
        catch (Exception)
        {
            return Name;
        }
    }

    private sealed record Guard(BackwardFailures.Inbox ForwardInbox, bool[] TensorArguments);
}
