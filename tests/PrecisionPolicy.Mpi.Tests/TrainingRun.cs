using System.Globalization;
using System.IO;
using System.Linq;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>One rank's record of a training run of the test app.</summary>
internal sealed record TrainingRun(StepLine[] Steps, float[] Masters)
{
    public static TrainingRun Read(string folder, int rank) => new(
        File.ReadAllLines(Path.Combine(folder, $"rank{rank}.steps.txt")).Select(StepLine.Parse).ToArray(),
        MpiJob.Floats(folder, rank, "masters"));
}

/// <summary>A step: applied, the scale's bits, the global norm, this rank's loss, bytes sent, whether a skipped step changed anything.</summary>
internal sealed record StepLine(int Step, bool Applied, string ScaleBits, double Norm, float Loss, long BytesSent, string Unchanged)
{
    public static StepLine Parse(string line)
    {
        var f = line.Split(' ');
        return new StepLine(int.Parse(f[0], CultureInfo.InvariantCulture), bool.Parse(f[1]), f[2], double.Parse(f[3], CultureInfo.InvariantCulture),
            float.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture), f[6]);
    }
}
