using System;
using System.Runtime.InteropServices;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Tracing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Autograd;

/// <summary>The trace is process-wide: the test that turns it on runs alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NumericsTraceCollection
{
    public const string Name = "Numerics trace";
}

/// <summary>
/// A failed backward of the FP8 cast's node or of the numerics trace's gradient node fails the backward that ran
/// it, naming the node, instead of ending the process. The failure is a sparse gradient arriving at the node.
/// </summary>
[Collection(NumericsTraceCollection.Name)]
public sealed class CastBackwardFailureTests : IDisposable
{
    public CastBackwardFailureTests() => NumericsTrace.Reset();

    public void Dispose() => NumericsTrace.Reset();

    /// <summary>Backward of <paramref name="node"/>'s loss fails in the optimizer and in a plain backward; a loss without the failure then goes through.</summary>
    private static void AssertFailsTheBackwardNotTheProcess(Func<Tensor, Tensor> node, string expectedNode)
    {
        using var scope = NewDisposeScope();
        manual_seed(61);
        using var layer = Linear(4, 3);
        using var optimizer = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        Tensor Loss(bool sparseGradient)
        {
            var y = node(layer.weight!);
            return (sparseGradient ? SparseGradient.apply(y) : y).sum();
        }

        var error = Assert.Throws<InvalidOperationException>(() => optimizer.Backward(Loss(sparseGradient: true)));

        Assert.StartsWith($"Backward(loss) failed: The backward of {expectedNode} failed: Could not run 'aten::max' with arguments from the 'SparseCPU' backend.", error.Message);
        Assert.Equal(0, optimizer.PendingMicroBatches);
        Assert.Contains("returned an invalid gradient", Assert.Throws<ExternalException>(() => Loss(sparseGradient: true).backward()).Message);
        optimizer.Backward(Loss(sparseGradient: false));
        Assert.Equal(1, optimizer.PendingMicroBatches);
    }

    [Fact]
    public void A_failed_backward_of_the_fp8_cast_fails_the_backward_naming_the_operand()
    {
        var context = new Fp8Context(Fp8Recipe.Default);
        AssertFailsTheBackwardNotTheProcess(w =>
        {
            using (context.Enter()) return Fp8Autocast.Operand(w, "fc1#1");
        }, "the FP8 cast of operand 'fc1#1'");
    }

    [Fact]
    public void A_failed_backward_of_the_numerics_trace_fails_the_backward_naming_the_site()
    {
        var site = new NumericsSite("Block.cs", 12, 17, "torch.nn.functional.linear", "Block", ScalarType.BFloat16);
        NumericsTrace.Enable();
        AssertFailsTheBackwardNotTheProcess(w => TracedCalls.Output(site, w.mul(2)), "the numerics trace of Block.cs(12,17) torch.nn.functional.linear");
    }
}
