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
    public double LearningRate { get; init; } = 3e-3;
    public int Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// `--quick`: every run in well under a minute on two CPU cores (2-digit sums, a narrower model,
    /// fewer steps); enough to see the precisions side by side, not to reach the default's accuracy.
    /// </summary>
    public static TrainingOptions Quick { get; } = new() { Steps = 150, Batch = 32, Digits = 2, Width = 32, Layers = 1, Heads = 2 };

    /// <summary>The sizes as one line, for the command line's help.</summary>
    public string Describe() => $"{Steps} steps, batch {Batch}, {Digits}-digit sums, width {Width}, {Layers} layer(s), {Heads} heads";
}
