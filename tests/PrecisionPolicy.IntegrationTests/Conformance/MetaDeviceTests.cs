using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>
/// The conformance models on the <c>meta</c> device (shapes and dtypes, no data), the stand-in for a GPU
/// here: the policy's storage conversion and hook registration assume no CPU tensors. Their forward cannot
/// run there: TorchSharp's libtorch-cpu 2.10 has no meta kernel for index_select, relu, embedding_bag,
/// convolution, batch_norm or (in TorchSharp's native attention and transformer layers) aten::equal
/// (PyTorch registers most meta kernels from Python), so only a GEMM forward is run.
/// </summary>
public sealed class MetaDeviceTests
{
    private const long Vocabulary = 12;
    private const long Classes = 3;

    public static TheoryData<string, Func<nn.Module<Tensor, Tensor>>> Models() => new()
    {
        { nameof(LstmClassifier), () => new LstmClassifier(Vocabulary, 8, Classes) },
        { nameof(BagClassifier), () => new BagClassifier(Vocabulary, 8, Classes) },
        { nameof(ForwardCallingMlp), () => new ForwardCallingMlp(Vocabulary, 6, Classes) },
        { nameof(ResidualCnn), () => new ResidualCnn(Vocabulary, ConformanceData.ConvChannels, Classes) },
        { nameof(SeparableCnn), () => new SeparableCnn(Vocabulary, ConformanceData.ConvChannels, Classes) },
        { nameof(LlamaDecoder), () => new LlamaDecoder(Vocabulary, 8, 2, 6, Classes) },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_policy_applies_on_the_meta_device(string name, Func<nn.Module<Tensor, Tensor>> create)
    {
        using var scope = NewDisposeScope();
        var model = create();
        model.to(new Device(DeviceType.META));

        PrecisionPolicy.CompilerServices.ModulePolicy.Apply(model, ((PrecisionPolicy.CompilerServices.IPrecisionPolicyModule)model).PrecisionPlan); // what ApplyPrecisionPolicy() runs

        var parameters = model.named_parameters().ToList();
        Assert.All(parameters, p => Assert.Equal(DeviceType.META, p.parameter.device_type));
        Assert.Contains(parameters, p => p.parameter.dtype == ScalarType.BFloat16);
        Assert.All(parameters.Where(p => p.name.Contains("norm", StringComparison.OrdinalIgnoreCase) || p.name.StartsWith("embedding", StringComparison.Ordinal) || p.name.StartsWith("bag", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.dtype == ScalarType.Float32, $"{name}.{p.name}: {p.parameter.dtype}"));
    }

    [Fact]
    public void A_gemm_forward_on_the_meta_device_runs_the_interceptors_and_hooks()
    {
        using var scope = NewDisposeScope();
        var model = new TrainSteps.TwoInputModel();
        model.to(new Device(DeviceType.META));
        model.ApplyPrecisionPolicy();
        var input = zeros(new long[] { 2, 4 }, device: new Device(DeviceType.META));

        var output = model.call(input, input);

        Assert.Equal(DeviceType.META, output.device_type);
        Assert.Equal(ScalarType.Float32, output.dtype); // the outermost policy module hands FP32 back
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
    }

    [Fact]
    public void The_policy_applies_to_torchsharp_transformer_layers_and_torchvision_on_the_meta_device()
    {
        using var scope = NewDisposeScope();
        var meta = new Device(DeviceType.META);
        var encoderDecoder = new EncoderDecoderClassifier(Vocabulary, 8, 2, Classes);
        var vision = new VisionClassifier(Classes);
        encoderDecoder.to(meta);
        vision.to(meta);

        encoderDecoder.ApplyPrecisionPolicy();
        vision.ApplyPrecisionPolicy();

        var leaves = encoderDecoder.named_modules().Concat(vision.named_modules()).Where(m => !m.module.named_children().Any()).ToList();
        Assert.All(leaves.SelectMany(m => m.module.parameters()), p => Assert.Equal(DeviceType.META, p.device_type));
        foreach (var (name, module) in leaves)
        {
            // TorchSharp's transformer layers are stored as one unit in the compute dtype, their LayerNorms included (PP0103).
            var expected = module is TorchSharp.Modules.BatchNorm or TorchSharp.Modules.Embedding ? ScalarType.Float32 : ScalarType.BFloat16;
            Assert.All(module.parameters(), p => Assert.True(p.dtype == expected, $"{name} ({module.GetType().Name}): {p.dtype}"));
        }
        Assert.Contains(leaves, m => m.module is TorchSharp.Modules.TransformerDecoderLayer);
        Assert.Contains(leaves, m => m.module is TorchSharp.Modules.BatchNorm2d);
    }
}
