using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Tests.Casting;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Autograd;

/// <summary>
/// The Fp32Accumulate nodes free the <c>empty_like</c> copy TorchSharp keeps of each C# node's output,
/// so a node's result is held once; a gradient that never reaches the output passes on as none.
/// </summary>
[Collection(GemmModeCollection.Name)]
public sealed class CustomNodeOutputCacheTests : IDisposable
{
    private const ScalarType Bf16 = ScalarType.BFloat16;

    public CustomNodeOutputCacheTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    // Live tensors of the scope with the output's shape and dtype that do not share its memory (TorchSharp's copy
    // unless freed): the output is filled with a sentinel, so handles of the output's own memory read it back.
    private static int OtherBuffersLike(DisposeScope scope, Tensor output)
    {
        using var sentinel = 7.ToScalar();
        using (no_grad()) output.fill_(sentinel);
        var candidates = scope.DisposablesView.OfType<Tensor>()
            .Where(t => !t.IsInvalid && t.dtype == output.dtype && t.shape.SequenceEqual(output.shape)).ToList();
        return candidates.Count(t => !t.eq(sentinel).all().item<bool>());
    }

    public static TheoryData<string> Nodes => ["linear", "matmul", "bmm"];

    private static Tensor Apply(string node, Tensor left, Tensor right, Module<Tensor, Tensor> layer) => node switch
    {
        "linear" => PolicyCasts.LinearModule(layer, left, Bf16),
        "matmul" => PolicyCasts.MatMul(left, right, Bf16),
        _ => PolicyCasts.Bmm(left, right, Bf16),
    };

    [Theory]
    [MemberData(nameof(Nodes))]
    public void A_node_in_a_graph_holds_its_output_once(string node)
    {
        manual_seed(51);
        using var layer = Linear(6, 5);
        layer.to(Bf16);
        using var scope = NewDisposeScope();
        var left = randn(3, 4, 6).to(Bf16).requires_grad_(true);
        var right = randn(3, 6, 5).to(Bf16).requires_grad_(true);
        var output = Apply(node, left, right, layer);
        Assert.True(output.requires_grad);
        Assert.Equal(0, OtherBuffersLike(scope, output));
    }

    [Fact]
    public void Without_the_release_torchsharp_would_hold_a_second_output_sized_tensor()
    {
        // The same count for a C# node that does not release its cache: what the nodes above avoid, and a
        // check that this TorchSharp still keeps the copy (if a new version stops, the release can go).
        using var scope = NewDisposeScope();
        var x = randn(3, 8).requires_grad_(true);
        var output = SumFunction.apply(x);
        Assert.Equal(1, OtherBuffersLike(scope, output));
    }

    [Theory]
    [MemberData(nameof(Nodes))]
    public void A_node_whose_output_gets_no_gradient_passes_none_on_without_a_failure(string node)
    {
        manual_seed(53);
        using var layer = Linear(6, 5);
        layer.to(Bf16);
        var left = randn(3, 4, 6).to(Bf16).requires_grad_(true);
        var right = randn(3, 6, 5).to(Bf16).requires_grad_(true);
        var stopped = NoGradientFunction.apply(Apply(node, left, right, layer));
        stopped.to(ScalarType.Float32).sum().backward(); // a failed node would make this throw
        Assert.Null(left.grad);
        Assert.Null(node == "linear" ? layer.weight!.grad : right.grad);
    }

    /// <summary>A C# node that hands back no gradient for its input.</summary>
    private sealed class NoGradientFunction : autograd.SingleTensorFunction<NoGradientFunction>
    {
        public override string Name => nameof(NoGradientFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [null!];
    }

    /// <summary>A C# node (a sum over the first dimension) that keeps TorchSharp's output cache.</summary>
    private sealed class SumFunction : autograd.SingleTensorFunction<SumFunction>
    {
        public override string Name => nameof(SumFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).sum(0L);

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output.expand(3, 8)];
    }
}
