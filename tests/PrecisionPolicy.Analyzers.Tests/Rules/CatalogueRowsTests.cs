using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

/// <summary>
/// PP0008 and PP0007 read the shared catalogue's rows: float32 ops the analyzer's own list used to lack
/// (acos, tan, erfinv, renorm, interpolate, instance_norm) and the result cast of a loss row that was
/// missing (multilabel_soft_margin_loss) are reported; a norm layer is recognized by its module row.
/// </summary>
public sealed class CatalogueRowsTests
{
    [Fact]
    public Task Float32_rows_once_missing_from_the_analyzer_are_reported() =>
        Verify<SensitiveOpInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Ops
            {
                void Run(Tensor x, Tensor y, Tensor w, Tensor b)
                {
                    var a = {|PP0008:x.half()|}.acos();
                    var c = torch.tan({|PP0008:x.bfloat16()|});
                    var d = torch.special.erfinv({|PP0008:x.half()|});
                    var e = {|PP0008:x.half()|}.renorm(2f, 0, 1f);
                    var f = nn.functional.instance_norm({|PP0008:x.half()|});
                    var g = {|PP0008:nn.functional.multilabel_soft_margin_loss(x, y).half()|};
                    var h = torch.matmul(x.half(), y.half());
                }
            }
            """);

    [Fact]
    public Task Norm_layer_from_the_module_rows_is_reported() =>
        Verify<NormStatisticsInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Net
            {
                void Run()
                {
                    var norm = nn.LocalResponseNorm(2);
                    {|PP0007:norm.half()|};
                    var linear = nn.Linear(2, 2);
                    linear.half();
                }
            }
            """);
}
