namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>Everything a training run needs besides its precision.</summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 600;
    public int Batch { get; init; } = 128;
    public int Digits { get; init; } = 3;
    public int Width { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    /// <summary>AdamW's learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Plain SGD's learning rate, for the runs that show lost updates.</summary>
    public double SgdLearningRate { get; init; } = 0.5;
    public int Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    /// <summary>`--trace-numerics`: record per-call-site amax, underflow and overflow (NumericsTrace) in every run.</summary>
    public bool TraceNumerics { get; init; }

    /// <summary>
    /// `--quick`: 2-digit sums on a one-block model. All five runs took about 15 s of CPU time on
    /// one thread of an AVX2 AMD EPYC virtual machine, and FP32 got about 80% of the held-out sums
    /// exactly right: enough to compare the precisions.
    /// </summary>
    public static TrainingOptions Quick { get; } = new() { Steps = 300, Batch = 64, Digits = 2, Width = 48, Layers = 1, Heads = 4 };

    /// <summary>The sizes as one line, for the command line's help.</summary>
    public string Describe() => $"{Steps} steps, batch {Batch}, {Digits}-digit sums, width {Width}, {Layers} block(s), {Heads} heads";
}
