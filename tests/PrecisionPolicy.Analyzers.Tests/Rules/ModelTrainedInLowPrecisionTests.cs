using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class ModelTrainedInLowPrecisionTests
{
    [Fact]
    public Task Sixteen_bit_training_without_master_weights_is_reported() =>
        Verify<ModelTrainedInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Training
            {
                private static readonly ScalarType Half = ScalarType.Float16;

                void DefaultDtype(Tensor x, Tensor y)
                {
                    {|PP0016:torch.set_default_dtype(Half)|};
                    var model = nn.Linear(4, 4);
                    var opt = optim.SGD(model.parameters(), 0.01);
                    nn.functional.mse_loss(model.call(x), y).backward();
                    opt.step();
                }

                void OptimizerClass(Tensor x, Tensor y)
                {
                    var model = nn.Linear(4, 4).bfloat16();
                    var opt = {|PP0016:new SGD(model.parameters(), 0.01)|};
                    opt.step();
                }

                void HandWritten(Tensor x, Tensor y, double lr)
                {
                    var model = nn.Linear(4, 4).half();
                    nn.functional.mse_loss(model.call(x.half()), y.half()).backward();
                    using (torch.no_grad())
                    {
                        foreach (var p in model.parameters())
                        {
                            {|PP0016:p.sub_(p.grad! * lr)|};
                        }
                    }
                }
            }
            """);

    [Fact]
    public Task Float32_parameters_and_master_weights_are_not_reported() =>
        Verify<ModelTrainedInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Training
            {
                void Float32(Tensor x, Tensor y, double lr)
                {
                    torch.set_default_dtype(ScalarType.Float32);
                    var model = nn.Linear(4, 4);
                    var opt = new SGD(model.parameters(), 0.01);
                    nn.functional.mse_loss(model.call(x), y).backward();
                    using (torch.no_grad())
                    {
                        foreach (var p in model.parameters()) p.sub_(p.grad! * lr);
                    }
                }

                void InferenceOnly()
                {
                    torch.set_default_dtype(ScalarType.Float16);
                    var model = nn.Linear(4, 4);
                }
            }
            """);
}
