using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>A classifier that asks for its outputs in the compute dtype and its embedding table in BF16.</summary>
[Autocast(Precision.BF16, OutputDtype = AutocastOutput.Compute, LowPrecisionEmbeddings = true)]
public sealed partial class ComputeOutputClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Linear head;

    public ComputeOutputClassifier(int vocabulary, int width) : base(nameof(ComputeOutputClassifier))
    {
        tokens = Embedding(vocabulary, width);
        head = Linear(width, vocabulary);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => head.call(tokens.call(ids));
}

/// <summary>The options written on [Autocast] reach the run-time plan through the generated code.</summary>
public sealed class AutocastOptionsTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public AutocastOptionsTests() => manual_seed(3);

    public void Dispose() => scope.Dispose();

    [Fact]
    public void Output_dtype_and_low_precision_embeddings_written_on_the_attribute_take_effect()
    {
        var model = new ComputeOutputClassifier(vocabulary: 6, width: 8).ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);

        Assert.Equal(ScalarType.BFloat16, dtypes["tokens.weight"]);          // LowPrecisionEmbeddings = true
        Assert.Equal(ScalarType.BFloat16, model.call(tensor(new long[] { 1, 4, 2 })).dtype); // OutputDtype = Compute
    }
}
