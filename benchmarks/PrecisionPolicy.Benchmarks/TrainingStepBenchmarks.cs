using System;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// One whole training step of the main sample's GPT (forward, FP32 loss, scaled backward, master
/// step): FP32 against BF16 storage, in both GEMM modes. Target: BF16 with Fp32Accumulate ≤ 1.15×
/// the FP32 step (the extra work is the casts and the master copy, not the matrix products).
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private AdditionTask task = null!;
    private TinyGpt model = null!;
    private MasterWeightOptimizer optimizer = null!;
    private Tensor inputs = null!;
    private Tensor targets = null!;
    private IDisposable precisionScope = null!;

    [Params(Precision.FP32, Precision.BF16)]
    public Precision Precision { get; set; }

    [Params(GemmMode.Native, GemmMode.Fp32Accumulate)]
    public GemmMode Gemm { get; set; }

    [Params(128)]
    public int Width { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchThreads.UseOne();
        GemmModes.Override(DeviceType.CPU, Gemm);
        precisionScope = AutocastScope.Use(Precision);
        manual_seed(1);
        task = new AdditionTask(digits: 3, seed: 1);
        model = new TinyGpt(new GptConfig(AdditionTask.VocabularySize, task.ContextLength, Width, Layers: 2, Heads: 4));
        model.ApplyPrecisionPolicy();
        optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3));
        (inputs, targets) = task.Batch(128, new Random(1));
        inputs = inputs.DetachFromDisposeScope();
        targets = targets.DetachFromDisposeScope();
    }

    [Benchmark]
    public bool Step()
    {
        using var scope = NewDisposeScope();
        return optimizer.Step(model.Loss(inputs, targets)).Applied;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        model.Dispose();
        precisionScope.Dispose();
        GemmModes.Override(DeviceType.CPU, null);
    }
}
