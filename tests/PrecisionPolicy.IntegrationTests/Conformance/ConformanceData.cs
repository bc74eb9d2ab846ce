using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>The conformance tasks: batches drawn from a seeded generator, one label in five random (so the loss has a floor well above 0).</summary>
internal static class ConformanceData
{
    /// <summary>
    /// Channels of the conformance CNNs. Not fewer than 16: on an AVX512 EPYC (libtorch 2.10, one thread) plain
    /// TorchSharp Conv2d(4, 4, 3) and Conv2d(8, 8, 3) backward returned non-finite gradients in 4 and 9 of 40 FP32 runs
    /// and in 17 and 30 of 40 BF16 runs, with no policy involved; Conv2d(16, 16, 3) in none.
    /// </summary>
    public const long ConvChannels = 16;

    public const long Vocabulary = 12;
    public const long Classes = 3;
    public const long Length = 6;
    public const long ImageSize = 16;

    /// <summary>A batch of inputs and class labels.</summary>
    public delegate (Tensor X, Tensor Y) Batches(Generator generator, long batch);

    /// <summary>
    /// Token sequences of a class: each token is drawn from the class's third of the vocabulary with
    /// probability one half, else from all of it.
    /// </summary>
    public static (Tensor X, Tensor Y) Tokens(Generator generator, long batch)
    {
        using var scope = NewDisposeScope();
        var labels = randint(0, Classes, new[] { batch }, generator: generator);
        var informative = labels.unsqueeze(1) * (Vocabulary / Classes) + randint(0, Vocabulary / Classes, new[] { batch, Length }, generator: generator);
        var uniform = randint(0, Vocabulary, new[] { batch, Length }, generator: generator);
        var tokens = where(rand(new[] { batch, Length }, generator: generator) < 0.5, informative, uniform);
        return (tokens.MoveToOuterDisposeScope(), Noisy(labels, generator).MoveToOuterDisposeScope());
    }

    /// <summary>3×16×16 images of Gaussian noise whose channel number <c>label</c> is brighter by 1 (three classes, three channels).</summary>
    public static (Tensor X, Tensor Y) Images(Generator generator, long batch)
    {
        using var scope = NewDisposeScope();
        var labels = randint(0, Classes, new[] { batch }, generator: generator);
        var brighter = nn.functional.one_hot(labels, Classes).to_type(ScalarType.Float32).view(batch, Classes, 1, 1);
        var images = randn(new[] { batch, Classes, ImageSize, ImageSize }, generator: generator) + brighter;
        return (images.MoveToOuterDisposeScope(), Noisy(labels, generator).MoveToOuterDisposeScope());
    }

    private static Tensor Noisy(Tensor labels, Generator generator)
    {
        var batch = labels.shape[0];
        var noisy = rand(new[] { batch }, generator: generator) < 0.2;
        return where(noisy, randint(0, Classes, new[] { batch }, generator: generator), labels);
    }
}
