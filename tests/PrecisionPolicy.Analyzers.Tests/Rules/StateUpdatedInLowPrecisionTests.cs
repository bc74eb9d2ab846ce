using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class StateUpdatedInLowPrecisionTests
{
    [Fact]
    public Task Sixteen_bit_state_updated_across_steps_is_reported() =>
        Verify<StateUpdatedInLowPrecisionAnalyzer>.Analyzer("""
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Ema
            {
                private readonly Tensor[] shadow;
                private readonly Parameter[] ps;

                Ema(Linear model)
                {
                    model.bfloat16();
                    ps = model.parameters().ToArray();
                    shadow = ps.Select(p => p.detach().clone()).ToArray();
                }

                void Step(double decay, double lr, double wd)
                {
                    for (var i = 0; i < shadow.Length; i++)
                    {
                        {|PP0023:shadow[i].mul_(decay).add_(ps[i], alpha: 1 - decay)|};
                    }

                    foreach (var p in ps)
                    {
                        {|PP0023:p.mul_(1 - lr * wd)|};
                    }
                }
            }
            """);

    [Fact]
    public Task Float32_state_locals_constructors_and_gradient_steps_are_not_reported() =>
        Verify<StateUpdatedInLowPrecisionAnalyzer>.Analyzer("""
            using System.Linq;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Ema
            {
                private readonly Tensor[] shadow;
                private readonly Parameter[] ps;

                Ema(Linear model)
                {
                    model.bfloat16();
                    ps = model.parameters().ToArray();
                    shadow = ps.Select(p => p.detach().@float()).ToArray();
                    foreach (var p in ps)
                    {
                        p.mul_(0.02);
                    }
                }

                void Step(double decay, Tensor x)
                {
                    for (var i = 0; i < shadow.Length; i++)
                    {
                        shadow[i].mul_(decay).add_(ps[i].@float(), alpha: 1 - decay);
                    }

                    var h = x.half();
                    h.mul_(0.5);
                    foreach (var p in ps)
                    {
                        p.grad!.div_(2.0);
                    }
                }
            }
            """);

    [Fact]
    public Task The_fix_keeps_state_cast_on_its_own_in_float32() =>
        Verify<StateUpdatedInLowPrecisionAnalyzer>.CodeFix<UseFloat32CodeFix>("""
            using System.Collections.Generic;
            using TorchSharp;
            using static TorchSharp.torch;

            class Ema
            {
                private readonly List<Tensor> shadow = new();

                Ema(IEnumerable<Tensor> parameters)
                {
                    foreach (var p in parameters)
                    {
                        shadow.Add(p.detach().clone().half());
                    }
                }

                void Update(IReadOnlyList<Tensor> parameters, double decay)
                {
                    for (var i = 0; i < shadow.Count; i++)
                    {
                        {|PP0023:shadow[i].lerp_(parameters[i], 1 - decay)|};
                    }
                }
            }
            """, """
            using System.Collections.Generic;
            using TorchSharp;
            using static TorchSharp.torch;

            class Ema
            {
                private readonly List<Tensor> shadow = new();

                Ema(IEnumerable<Tensor> parameters)
                {
                    foreach (var p in parameters)
                    {
                        shadow.Add(p.detach().clone().@float());
                    }
                }

                void Update(IReadOnlyList<Tensor> parameters, double decay)
                {
                    for (var i = 0; i < shadow.Count; i++)
                    {
                        shadow[i].lerp_(parameters[i], 1 - decay);
                    }
                }
            }
            """);
}
