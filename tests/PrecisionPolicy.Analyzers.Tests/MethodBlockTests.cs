using System.Linq;
using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>The shared walk of a body (names, creations, source order) holds on bodies of any shape.</summary>
public sealed class MethodBlockTests
{
    // A long chain of binary operators is an operation tree thousands of levels deep: a recursive walk would
    // exhaust the stack. The training loop around it makes the body-level rules walk and sort the whole body,
    // and the float16 model makes PP0004 report the backward (so the walk's names were all found).
    [Fact]
    public Task A_body_thousands_of_operators_deep_is_walked() =>
        AllAnalyzersTest.Run($$"""
            using TorchSharp;
            using static TorchSharp.torch;

            class Deep
            {
                static int Sum(int a) => {{string.Join(" + ", Enumerable.Repeat("a", 3000))}};

                static void Train(nn.Module<Tensor, Tensor> model, Tensor x)
                {
                    model.half();
                    var weight = Sum(1);
                    var loss = model.call(x).mean() * {{string.Join(" * ", Enumerable.Repeat("1", 2000))}};
                    {|PP0004:loss.backward()|};
                }
            }
            """);
}
