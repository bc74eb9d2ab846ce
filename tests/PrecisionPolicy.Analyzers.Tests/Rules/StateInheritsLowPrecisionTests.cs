using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class StateInheritsLowPrecisionTests
{
    [Fact]
    public Task State_copied_from_sixteen_bit_parameters_is_reported() =>
        Verify<StateInheritsLowPrecisionAnalyzer>.Analyzer("""
            using System.Collections.Generic;
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Momentum
            {
                private readonly List<Tensor> buffers = new();

                void Init(Linear model)
                {
                    model.half();
                    foreach (var p in model.parameters())
                    {
                        buffers.Add({|PP0017:torch.zeros_like(p)|});
                    }
                }

                void Update(Linear model)
                {
                    var ps = model.parameters().ToList();
                    for (var i = 0; i < ps.Count; i++)
                    {
                        buffers[i].mul_(0.9).add_(ps[i].grad!);
                    }
                }

                void Accumulate(Linear model)
                {
                    var half = model.half();
                    var sums = half.parameters().Select(p => {|PP0017:torch.empty_like(p)|}).ToArray();
                    var ps = half.parameters().ToArray();
                    for (var i = 0; i < ps.Length; i++) sums[i].add_(ps[i].grad!);
                }
            }
            """);

    [Fact]
    public Task Float32_state_and_explicit_dtypes_are_not_reported() =>
        Verify<StateInheritsLowPrecisionAnalyzer>.Analyzer("""
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Momentum
            {
                void Run(Linear model, Linear master)
                {
                    var half = model.half();
                    var ps = half.parameters().ToArray();
                    var fixedDtype = ps.Select(p => torch.zeros_like(p, dtype: ScalarType.Float32)).ToArray();
                    var fromMaster = master.parameters().Select(p => torch.zeros_like(p)).ToArray();
                    for (var i = 0; i < ps.Length; i++)
                    {
                        fixedDtype[i].mul_(0.9).add_(ps[i].grad!);
                        fromMaster[i].mul_(0.9).add_(ps[i].grad!);
                    }
                }
            }
            """);

    [Fact]
    public Task Fix_passes_a_float32_dtype() =>
        Verify<StateInheritsLowPrecisionAnalyzer>.CodeFix<AddFloat32DtypeCodeFix>("""
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Momentum
            {
                void Run(Linear model)
                {
                    var half = model.half();
                    var ps = half.parameters().ToArray();
                    var m = ps.Select(p => {|PP0017:torch.zeros_like(p)|}).ToArray();
                    for (var i = 0; i < ps.Length; i++) m[i].lerp_(ps[i].grad!, 0.1);
                }
            }
            """, """
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Momentum
            {
                void Run(Linear model)
                {
                    var half = model.half();
                    var ps = half.parameters().ToArray();
                    var m = ps.Select(p => torch.zeros_like(p, dtype: ScalarType.Float32)).ToArray();
                    for (var i = 0; i < ps.Length; i++) m[i].lerp_(ps[i].grad!, 0.1);
                }
            }
            """);
}
