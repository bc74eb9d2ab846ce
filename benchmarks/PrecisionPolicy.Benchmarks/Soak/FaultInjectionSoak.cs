using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Soak;

/// <summary>Where a fault is injected.</summary>
public enum FaultSite
{
    /// <summary>One element of an accumulated FP32 gradient, after backward (a bad reduction, a flipped bit).</summary>
    Gradient,
    /// <summary>The loss itself (a log of 0, a division by 0 in the loss function).</summary>
    Loss,
    /// <summary>One hidden activation in the forward pass (an overflowing layer).</summary>
    Activation,
}

/// <summary>Settings of one soak run.</summary>
/// <param name="Precision">BF16 (no loss scaling), FP16 (dynamic scaling) or FP8 (BF16 storage, FP8 operands).</param>
/// <param name="Steps">Training steps.</param>
/// <param name="Seed">Seeds the model, the data and the fault pattern.</param>
/// <param name="InjectionRate">Probability that a step gets a fault.</param>
/// <param name="Hidden">Hidden width of the MLP (inputs 16, outputs 4).</param>
/// <param name="Batch">Samples per step (one fixed batch of a regression task).</param>
public sealed record SoakOptions(Precision Precision, int Steps, int Seed, double InjectionRate = 0.15, int Hidden = 32, int Batch = 64);

/// <summary>
/// What a soak run saw. <see cref="Violations"/> is empty when every property held.
/// <see cref="SaturatedInjected"/> counts the FP8 runs' ±inf activations, which saturate and apply.
/// </summary>
public sealed record SoakReport(
    SoakOptions Options,
    IReadOnlyDictionary<FaultSite, int> Injected,
    int SkippedInjected,
    int SaturatedInjected,
    int AppliedClean,
    double FirstLoss,
    double FinalLoss,
    double MinScale,
    double MaxScale,
    TimeSpan Elapsed,
    IReadOnlyList<string> Violations)
{
    /// <summary>Injected steps in all.</summary>
    public int InjectedSteps => Injected.Values.Sum();
}

/// <summary>
/// Trains a small model while injecting inf/NaN into gradients, the loss and activations at random
/// steps, and checks after every step: an injected step is skipped and changes no byte of masters,
/// working weights or inner optimizer state; a clean step applies (the masters move); the loss
/// scale follows a reference <see cref="LossScaler"/> fed the same skip pattern. FP8 follows
/// TransformerEngine twice over: amax histories update on skipped steps too, so for FP8 the check is
/// that no inf/NaN ever reaches a scale or an amax history; and an FP8 cast saturates ±inf to ±max
/// (as CUDA's satfinite conversion does), so an FP8 operand that is ±inf does not make the step
/// non-finite: such a step must apply with the fault counted as a non-finite amax.
/// </summary>
public static class FaultInjectionSoak
{
    private static readonly float[] Poisons = { float.PositiveInfinity, float.NegativeInfinity, float.NaN };

    /// <summary>Runs the soak; never throws for a violated property (it is reported), only for broken setup.</summary>
    public static SoakReport Run(SoakOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(options.Seed);
        manual_seed(options.Seed);
        var generator = new Generator((ulong)options.Seed);
        using var x = randn(new long[] { options.Batch, 16 }, generator: generator);
        using var w = randn(new long[] { 16, 4 }, generator: generator) / 16;
        using var y = x.matmul(w).tanh();

        using var model = new SoakMlp(16, options.Hidden, 4, options.Precision);
        // FP16: DeepSpeed's floor of 1 keeps the scale sane under a fault every ~7 steps; growth every 20 clean steps lets it move both ways.
        var scaling = options.Precision == Precision.FP16
            ? LossScalerOptions.Dynamic with { InitialScale = 1024, GrowthInterval = 20, MinScale = 1 }
            : LossScalerOptions.Off;
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.Adam(ps, 1e-2), new MasterWeightOptions { Scaling = scaling });
        var fp8 = options.Precision == Precision.FP8 ? Fp8Context.Attach(model, Fp8Recipe.Default) : null;
        if (fp8 is not null) optimizer.AddCompanion(fp8);
        var reference = new LossScaler(scaling);

        var injected = Enum.GetValues<FaultSite>().ToDictionary(s => s, _ => 0);
        var violations = new List<string>();
        int skippedInjected = 0, saturatedInjected = 0, appliedClean = 0;
        double firstLoss = double.NaN, finalLoss = double.NaN, minScale = double.MaxValue, maxScale = 0;
        var clock = Stopwatch.StartNew();

        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            FaultSite? fault = random.NextDouble() < options.InjectionRate ? (FaultSite)random.Next(3) : null;
            var poison = Poisons[random.Next(Poisons.Length)];
            var before = StateDigest(optimizer, model);
            var nonFiniteAmaxes = fp8?.Sites.Sum(s => s.NonFiniteAmaxes) ?? 0;

            if (fault == FaultSite.Activation) model.PoisonActivation = (random.Next(options.Batch), random.Next(options.Hidden), poison);
            var loss = nn.functional.mse_loss(model.call(x), y);
            var lossValue = loss.item<float>();
            optimizer.Backward(fault == FaultSite.Loss ? loss * poison : loss);
            if (fault == FaultSite.Gradient)
            {
                var names = optimizer.ParameterNames;
                var gradient = optimizer.GradientOf(names[random.Next(names.Count)]).view(-1);
                gradient[random.Next((int)gradient.numel())] = tensor(poison);
            }
            var scale = optimizer.Scaler.Scale;
            var outcome = optimizer.Step();
            var after = StateDigest(optimizer, model);
            reference.Update(!outcome.Applied);
            (minScale, maxScale) = (Math.Min(minScale, scale), Math.Max(maxScale, scale));

            var saturated = fp8 is not null && fault == FaultSite.Activation && float.IsInfinity(poison);
            if (saturated)
            {
                injected[FaultSite.Activation]++;
                saturatedInjected++;
                if (!outcome.Applied) violations.Add($"step {step}: {poison} in an FP8 operand saturates, but the step was skipped");
                else if (fp8!.Sites.Sum(s => s.NonFiniteAmaxes) <= nonFiniteAmaxes) violations.Add($"step {step}: {poison} in an FP8 operand was not counted as a non-finite amax");
            }
            else if (fault is { } site)
            {
                injected[site]++;
                if (outcome.Applied) violations.Add($"step {step}: {poison} injected into the {site} but the step was applied");
                else if (!before.AsSpan().SequenceEqual(after)) violations.Add($"step {step}: skipped ({site}, {poison}) but masters, working weights or optimizer state changed");
                else if (outcome.FirstNonFiniteParameter is null) violations.Add($"step {step}: skipped without naming a non-finite gradient");
                else skippedInjected++;
            }
            else
            {
                if (!outcome.Applied) violations.Add($"step {step}: clean step skipped at scale {scale}");
                else if (before.AsSpan().SequenceEqual(after)) violations.Add($"step {step}: clean step applied but the masters did not move");
                else appliedClean++;
                if (double.IsNaN(firstLoss)) firstLoss = lossValue;
                finalLoss = lossValue;
            }
            if (optimizer.Scaler.Scale != reference.Scale)
                violations.Add($"step {step}: loss scale {optimizer.Scaler.Scale}, the reference scaler's {reference.Scale}");
            if (fp8 is not null && fp8.Sites.FirstOrDefault(s => !float.IsFinite(s.Scale) || !float.IsFinite(s.Amax)) is { } poisoned)
                violations.Add($"step {step}: FP8 site {poisoned.Site} ({poisoned.Direction}) has scale {poisoned.Scale}, amax {poisoned.Amax}");
            if (violations.Count > 20) break;
        }
        return new SoakReport(options, injected, skippedInjected, saturatedInjected, appliedClean, firstLoss, finalLoss, minScale, maxScale, clock.Elapsed, violations);
    }

    /// <summary>SHA-256 over every byte of the masters, the working weights and the inner optimizer's serialized state.</summary>
    private static byte[] StateDigest(MasterWeightOptimizer optimizer, nn.Module model)
    {
        using var scope = NewDisposeScope();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in optimizer.ParameterNames) sha.AppendData(optimizer.MasterOf(name).cpu().contiguous().bytes);
        foreach (var p in model.parameters()) sha.AppendData(p.detach().cpu().contiguous().bytes);
        using var inner = new MemoryStream();
        using (var writer = new BinaryWriter(inner, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.Inner.save_state_dict(writer);
        sha.AppendData(inner.GetBuffer(), 0, (int)inner.Length);
        return sha.GetHashAndReset();
    }
}
