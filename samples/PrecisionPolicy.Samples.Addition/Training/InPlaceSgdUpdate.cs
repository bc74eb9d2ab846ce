using System.Linq;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Model;
using PrecisionPolicy.Tracing;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// The failure master weights exist for: plain SGD straight on the working parameters, so the FP16 ones are
/// updated in FP16 and an update below half the spacing of FP16 numbers around a weight rounds away
/// (<c>w + lr·g == w</c>). No loss scaling either: the run shows the one failure, not two.
/// </summary>
public sealed class InPlaceSgdUpdate : ParameterUpdate
{
    private readonly Parameter[] parameters;
    private readonly SGD optimizer;

    public InPlaceSgdUpdate(TinyGpt model, TrainingOptions options)
        : base(countLostUpdates: true)
    {
        parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        optimizer = optim.SGD(parameters, options.SgdLearningRate);
    }

    public override StepOutcome Step(Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        var gradients = parameters.Select(p => p.grad!).ToArray();
        var snapshot = LostUpdates.Before(parameters.Select(p => ((Tensor)p, p.grad!)));
        optimizer.step();
        Lost!.After(snapshot, applied: true);
        NumericsTrace.EndStep(); // no MasterWeightOptimizer ends the trace's step here
        return new StepOutcome(true, 1.0, double.NaN, null, 1) { Gradients = Statistics(gradients) };
    }

    public override int SkippedSteps => 0;

    public override double? FinalScale => null;

    /// <summary>No masters, no accumulators, no optimizer state (SGD without momentum): the gradients are the parameters' own.</summary>
    public override MasterWeightMemory Memory() =>
        new(0, 0, parameters.Sum(p => p.grad is { } g ? g.numel() * g.element_size() : 0), 0);

    // As MasterWeightOptions.TrackGradientStatistics reports them: the share of exact zeros and the largest magnitude.
    private static GradientStatistics Statistics(Tensor[] gradients)
    {
        using var noGrad = no_grad();
        var zeros = stack(gradients.Select(g => g.eq(0).sum()).ToArray()).sum().item<long>();
        var count = gradients.Sum(g => g.numel());
        var maxAbs = stack(gradients.Select(g => g.abs().max().to(ScalarType.Float32)).ToArray()).max().item<float>();
        return new GradientStatistics((double)zeros / count, maxAbs);
    }

    public override void Dispose()
    {
        optimizer.Dispose();
        base.Dispose();
    }
}
