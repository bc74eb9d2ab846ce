using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;
using PrecisionPolicy.Scaling;
using PrecisionPolicy.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>Trains the sample model under one <see cref="RunKind"/> and measures it.</summary>
public sealed class Trainer(AdditionTask task, TrainingOptions options)
{
    /// <summary>Report windows per traced run: points on the numerics plot's step axis.</summary>
    private const int NumericsReportsPerRun = 30;

    /// <summary>
    /// Trains, evaluates and reports one run; <paramref name="progress"/> gets the step count and
    /// that step's loss. Stops after the current step once <paramref name="stop"/> is cancelled
    /// (the result then says so); returns null when it stopped before a step finished.
    /// </summary>
    public RunResult? Run(RunKind kind, Action<int, double> progress, CancellationToken stop)
    {
        var device = new Device(options.Device);
        using var precision = AutocastScope.Use(kind.Precision);
        manual_seed(options.Seed);
        var random = new Random(options.Seed);
        var memory = TensorMemory.Start();

        var config = new GptConfig(AdditionTask.VocabularySize, task.ContextLength, options.Width, options.Layers, options.Heads,
            kind.AttentionGainLog2, kind.ScoresInFp32);
        using var model = new TinyGpt(config);
        model.to(device);
        model.ApplyPrecisionPolicy();
        using ParameterUpdate update = kind.Update == UpdateRule.InPlaceSgd ? new InPlaceSgdUpdate(model, options) : new MasterWeightUpdate(model, kind, options);
        NumericsTrace.Reset(); // each run's sites and statistics are its own
        var traced = options.TraceNumerics || kind.Traced;
        if (traced) NumericsTrace.Enable(reportEvery: Math.Max(1, options.Steps / NumericsReportsPerRun));
        using var lossWeight = kind.LossWeight.ToScalar(); // held: see Scalars
        string? firstFailingSite = null;

        var losses = new List<double>();
        var scales = new List<double>();
        var stepTimes = new List<double>();
        var zeroFractions = new List<double>();
        var diverged = false;
        var interrupted = false;
        for (var step = 0; step < options.Steps; step++)
        {
            if (stop.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }
            using var scope = NewDisposeScope();
            var (inputs, targets) = task.Batch(options.Batch, random);
            var clock = Stopwatch.StartNew();
            var loss = model.Loss(inputs.to(device), targets.to(device));
            memory.Sample(); // end of forward: every saved activation alive
            StepOutcome outcome;
            try
            {
                outcome = update.Step(kind.LossWeight == 1 ? loss : loss.mul(lossWeight));
            }
            catch (LossScaleException)
            {
                diverged = true; // reported in the table, not hidden
                break;
            }
            stepTimes.Add(clock.Elapsed.TotalMilliseconds);
            memory.Sample();
            firstFailingSite ??= outcome.FirstFailingSite;
            losses.Add(loss.item<float>());
            scales.Add(outcome.Scale);
            if (outcome.Gradients is { } g) zeroFractions.Add(g.ZeroFraction);
            progress(step + 1, losses[^1]);
        }
        var numerics = traced ? NumericsTrace.Summary() : null;
        var numericsReports = traced ? NumericsTrace.Reports : null;
        NumericsTrace.Reset();
        if (losses.Count == 0 && interrupted) return null;
        var scaled = update.FinalScale is not null;

        var (heldOutLoss, exactMatch) = Evaluate(model, device);
        var tail = losses.Skip(losses.Count - Math.Max(1, losses.Count / 10)).ToArray();
        return new RunResult
        {
            Name = kind.Name,
            Precision = kind.Precision.ToString(),
            LossScaling = kind.Scaling.Mode.ToString(),
            Losses = losses,
            Scales = scaled ? scales : null,
            FinalLoss = tail.Length == 0 ? double.NaN : tail.Average(),
            HeldOutLoss = heldOutLoss,
            ExactMatch = exactMatch,
            MedianStepMilliseconds = Median(stepTimes),
            PeakTensorBytes = memory.PeakBytes,
            BytesByRole = MemoryByRole.Of(model, update.Memory(), task, options),
            SkippedSteps = update.SkippedSteps,
            FinalScale = update.FinalScale,
            LostUpdateFraction = update.LostUpdateFraction,
            LostUpdateFractionPerStep = update.LostUpdateFractionPerStep,
            FailureMode = kind.FailureMode,
            GradientZeroFraction = zeroFractions.Count == 0 ? double.NaN : zeroFractions.Average(),
            Diverged = diverged || !double.IsFinite(heldOutLoss),
            Interrupted = interrupted,
            GemmMode = GemmModes.Describe(device.type, AutocastDtypes.ComputeDtype(kind.Precision)),
            Numerics = numerics,
            NumericsReports = numericsReports,
            FirstFailingSite = firstFailingSite,
        };
    }

    private (double Loss, double ExactMatch) Evaluate(TinyGpt model, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var (inputs, targets) = task.Encode(task.HeldOut);
        var loss = model.Loss(inputs.to(device), targets.to(device)).item<float>();

        // Greedy decoding, one answer digit at a time.
        var sequence = task.Questions(task.HeldOut).to(device);
        for (var i = 0; i < task.AnswerLength; i++)
        {
            var next = model.call(sequence).select(1, -1).argmax(-1, keepdim: true);
            sequence = cat([sequence, next], 1);
        }
        var answers = sequence.narrow(1, task.QuestionLength, task.AnswerLength).cpu().data<long>().ToArray();
        var correct = task.HeldOut.Where((p, i) =>
            AdditionTask.Decode(answers.Skip(i * task.AnswerLength).Take(task.AnswerLength)) == p.A + p.B).Count();
        model.train();
        return (loss, (double)correct / task.HeldOut.Count);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
