using System;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// One training step of the main sample's GPT at widths 128–512, side by side in one process: plain
/// TorchSharp (FP32 model, <c>optim.AdamW</c>, zero_grad/backward/step) as the baseline, the
/// toolkit's FP32 step (master-weight optimizer: unscale, one finiteness+norm reduction, AdamW on the
/// flat buffer), and the toolkit's BF16 step in the GEMM mode the calibration chose on this CPU.
/// Targets: toolkit FP32 ≤ 1.03× plain; BF16 ≤ 1.10× the toolkit FP32 step at width 512. Every
/// method returns its step's loss, so each makes the one host read a training loop needs for it
/// (the toolkit reads it with the gradient norm).
/// </summary>
[MemoryDiagnoser]
public class StepVsTorchSharpBenchmarks
{
    private AdditionTask task = null!;
    private TinyGpt model = null!;
    private OptimizerHelper? plain;
    private MasterWeightOptimizer? toolkit;
    private Tensor inputs = null!;
    private Tensor targets = null!;
    private Precision precision;

    [Params(128, 256, 512)]
    public int Width { get; set; }

    [GlobalSetup(Target = nameof(PlainTorchSharpFp32))]
    public void SetupPlain()
    {
        Build(Precision.FP32);
        plain = optim.AdamW(model.parameters(), 1e-3);
    }

    [GlobalSetup(Target = nameof(ToolkitFp32))]
    public void SetupToolkitFp32() => SetupToolkit(Precision.FP32);

    [GlobalSetup(Target = nameof(ToolkitBf16))]
    public void SetupToolkitBf16() => SetupToolkit(Precision.BF16);

    [Benchmark(Baseline = true)]
    public float PlainTorchSharpFp32()
    {
        using var scope = NewDisposeScope();
        using var policy = AutocastScope.Use(precision);
        plain!.zero_grad();
        var loss = model.Loss(inputs, targets);
        loss.backward();
        plain.step();
        return loss.item<float>();
    }

    [Benchmark]
    public double? ToolkitFp32() => ToolkitStep();

    [Benchmark]
    public double? ToolkitBf16() => ToolkitStep();

    [GlobalCleanup]
    public void Cleanup()
    {
        plain?.Dispose();
        toolkit?.Dispose();
        (plain, toolkit) = (null, null);
        model.Dispose();
        inputs.Dispose();
        targets.Dispose();
    }

    private double? ToolkitStep()
    {
        using var scope = NewDisposeScope();
        using var policy = AutocastScope.Use(precision);
        return toolkit!.Step(model.Loss(inputs, targets)).Loss;
    }

    private void SetupToolkit(Precision p)
    {
        Build(p);
        using (AutocastScope.Use(p)) model.ApplyPrecisionPolicy();
        toolkit = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3));
    }

    // The sample's model is declared FP8; a scope runs it under the benchmarked precision.
    private void Build(Precision p)
    {
        TorchThreads.UseOne();
        precision = p;
        manual_seed(1);
        task = new AdditionTask(digits: 3, seed: 1);
        model = new TinyGpt(new GptConfig(AdditionTask.VocabularySize, task.ContextLength, Width, Layers: 2, Heads: 4));
        (inputs, targets) = task.Batch(128, new Random(1));
        inputs = inputs.DetachFromDisposeScope();
        targets = targets.DetachFromDisposeScope();
    }
}
