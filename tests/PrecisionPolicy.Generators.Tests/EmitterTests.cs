using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>The emitter alone, from hand-built specs: pure text, no compilation.</summary>
public sealed class EmitterTests
{
    [Fact]
    public void Method_region_spec_emits_only_interceptors()
    {
        var spec = new PolicySpec
        {
            HintName = "Ns.Helpers.Scores.Precision.g.cs",
            Namespace = "Ns",
            TypeName = "Helpers",
            FullTypeName = "global::Ns.Helpers",
            Precision = Catalog.Precision.FP16,
            Interceptors = new[]
            {
                new InterceptorSpec
                {
                    Row = "torch.bmm",
                    Category = CastCategory.LowPrecision,
                    ComputeDtype = "Float16",
                    Reason = "[Autocast(Precision.FP16)] method 'Scores'",
                    MethodName = "bmm",
                    StaticContainingType = "global::TorchSharp.torch",
                    ReturnType = "global::TorchSharp.torch.Tensor",
                    ResultCast = ResultCast.LowPrecisionResult,
                    Parameters = new[]
                    {
                        new ParameterSpec("input", "global::TorchSharp.torch.Tensor", false, ArgumentCast.LowPrecision),
                        new ParameterSpec("batch2", "global::TorchSharp.torch.Tensor", false, ArgumentCast.LowPrecision),
                    }.ToEquatableArray(),
                    Locations = new[] { new InterceptLocationSpec(1, "AAAA", "Helpers.cs(3,9)", "Helpers.cs", 3, 9), new InterceptLocationSpec(1, "BBBB", "Helpers.cs(4,9)", "Helpers.cs", 4, 9) }.ToEquatableArray(),
                },
                new InterceptorSpec
                {
                    Row = "torch.stack",
                    Category = CastCategory.Promote,
                    ComputeDtype = "Float16",
                    Reason = "[Autocast(Precision.FP16)] method 'Scores'",
                    MethodName = "stack",
                    StaticContainingType = "global::TorchSharp.torch",
                    ReturnType = "global::TorchSharp.torch.Tensor",
                    Parameters = new[]
                    {
                        new ParameterSpec("tensors", "global::System.Collections.Generic.IEnumerable<global::TorchSharp.torch.Tensor>", false, ArgumentCast.PromoteAll),
                        new ParameterSpec("dim", "long", false, ArgumentCast.None),
                    }.ToEquatableArray(),
                    Locations = new[] { new InterceptLocationSpec(1, "CCCC", "Helpers.cs(5,9)", "Helpers.cs", 5, 9) }.ToEquatableArray(),
                },
            }.ToEquatableArray(),
        };
        Snapshot.Match(AutocastGenerator.Emitter.Emit(spec), "Emitter.MethodRegion");
    }

    [Fact]
    public void Loss_scaling_carries_min_and_max_scale_only_when_named_and_spells_an_infinite_ceiling()
    {
        static string Emitted(LossScalingSpec scaling) => AutocastGenerator.Emitter.Emit(new PolicySpec
        {
            HintName = "Ns.M.Precision.g.cs", Namespace = "Ns", TypeName = "M", FullTypeName = "global::Ns.M",
            EmitPlumbing = true, Precision = Catalog.Precision.FP16, Scaling = scaling,
        });

        var unnamed = Emitted(new LossScalingSpec { InitialScale = 1024 });
        Assert.Contains("InitialScale = 1024d }", unnamed); // the runtime's defaults apply: no floor, no ceiling
        Assert.DoesNotContain("MinScale", unnamed);
        Assert.DoesNotContain("MaxScale", unnamed);

        var named = Emitted(new LossScalingSpec { MinScale = 1, MaxScale = double.PositiveInfinity });
        Assert.Contains("MinScale = 1d, MaxScale = global::System.Double.PositiveInfinity }", named);
    }

    [Fact]
    public void Specs_are_equal_by_value()
    {
        static PolicySpec Make() => new() { TypeName = "A", HighPrecisionMembers = new[] { "x", "y" }.ToEquatableArray(), Scaling = new LossScalingSpec { Mode = Catalog.LossScalingMode.Static, StaticScale = 8 } };
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), Make() with { HighPrecisionMembers = new[] { "x" }.ToEquatableArray() });
    }
}
