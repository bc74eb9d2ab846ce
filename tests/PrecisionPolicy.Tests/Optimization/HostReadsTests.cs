using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>How many times a step copies values to the host (a device sync on CUDA): once for an FP32 step.</summary>
public sealed class HostReadsTests
{
    private static (long Reads, StepOutcome Last, float LastLoss) Steps(MasterWeightOptions options, int steps)
    {
        var (x, y) = Fixtures.Regression(64, 16, 4, seed: 2);
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3), options);
        StepOutcome? last = null;
        float lastLoss = 0;
        long reads = 0;
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.mse_loss(model.call(x), y);
            var before = HostReads.Count;
            last = opt.Step(loss);
            reads += HostReads.Count - before;
            lastLoss = loss.item<float>();
        }
        return (reads, last!, lastLoss);
    }

    [Fact]
    public void An_fp32_step_without_scaling_reads_the_host_once_and_reports_the_loss_it_read()
    {
        var (reads, last, loss) = Steps(new MasterWeightOptions(), steps: 3);
        Assert.Equal(3, reads);
        Assert.True(last.Applied);
        Assert.Equal(loss, last.Loss);
    }

    [Fact]
    public void Dynamic_scaling_and_clipping_keep_one_host_read_per_clean_step()
    {
        var (reads, last, _) = Steps(new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic, MaxGradNorm = 1e-3 }, steps: 3);
        Assert.Equal(3, reads);
        Assert.True(last.Applied);
    }

    [Fact]
    public void Gradient_statistics_cost_two_more_host_reads_per_step()
    {
        var (reads, last, _) = Steps(new MasterWeightOptions { TrackGradientStatistics = true }, steps: 2);
        Assert.Equal(2 * 3, reads);
        Assert.NotNull(last.Gradients);
    }

    [Fact]
    public void Step_without_a_loss_reads_the_host_once_and_reports_no_loss()
    {
        using var p = new TorchSharp.Modules.Parameter(ones(4), requires_grad: true);
        using var opt = new MasterWeightOptimizer(new[] { ("p", p) }, ps => optim.SGD(ps, 0.0));
        opt.Backward(p.sum());
        var before = HostReads.Count;
        var outcome = opt.Step();
        Assert.Equal(1, HostReads.Count - before);
        Assert.Null(outcome.Loss);
        Assert.Equal(2.0, outcome.GradNorm);
    }

    [Fact]
    public void Optimizer_and_scaler_sources_read_tensor_values_only_through_host_reads()
    {
        // The counter is the seam only if nothing in the step path reads the host around it.
        var source = Path.GetFullPath(Path.Combine(Here(), "..", "..", "..", "src", "PrecisionPolicy"));
        var read = new Regex(@"\.(item|data)<|\.To(Single|Double|Boolean|Int32|Int64)\(\)");
        var offenders = new[] { "Optimization", "Scaling" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(source, folder), "*.cs"))
            .Where(file => Path.GetFileName(file) != "HostReads.cs")
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            .Where(l => read.IsMatch(l.line))
            .Select(l => $"{Path.GetFileName(l.file)}({l.i + 1}): {l.line.Trim()}")
            .ToArray();
        Assert.True(Directory.Exists(Path.Combine(source, "Optimization")), source);
        Assert.Empty(offenders);
    }

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
