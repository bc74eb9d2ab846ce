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
}
