using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Native;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// Training steps of TorchVision's ResNet-18 (a child of a policy module, so every convolution sits in compiled
/// library code and is reached only through module hooks) side by side per image size, as an
/// <see cref="InterleavedRatio"/>: the toolkit BF16 step against the toolkit FP32 step of the same model, in the
/// GEMM mode the calibration picks (or <c>PRECISIONPOLICY_GEMM_MODE</c>). Target under Fp32Accumulate: ≤ 1.3×.
/// Each side's minor page faults per step are reported with the ratio (<see cref="ThreadPageFaults"/>), and the
/// allocator settings the process ran with: applying the BF16 policy sets glibc's malloc thresholds
/// (<see cref="MallocThresholds"/>) for both sides alike; with <c>PRECISIONPOLICY_MALLOC_THRESHOLDS=off</c> both sides map
/// thousands of pages anew each step, and the ratio then measures the heap as much as the step.
/// Run: ... -- resnet-step-ratio [rounds, default 21] [image sizes, default 32,64] [BF16 | FP16, default BF16]
/// (FP16 with dynamic loss scaling, as its policy trains).
/// </summary>
internal static class ResNetStepRatioCommand
{
    private const int Batch = 64;
    private const int Classes = 10;

    public static int Run(string[] args)
    {
        var (rounds, sizes) = InterleavedRatio.Arguments(args, [32, 64]);
        var precision = args.Length > 2 ? Enum.Parse<Precision>(args[2], ignoreCase: true) : Precision.BF16;
        if (precision is not (Precision.BF16 or Precision.FP16)) throw new ArgumentException($"resnet-step-ratio compares BF16 or FP16 with FP32, not {precision}.");
        var compute = AutocastDtypes.ComputeDtype(precision);
        Console.WriteLine($"toolkit {precision} step / toolkit FP32 step, TorchVision ResNet-18, batch {Batch}, SGD with momentum; {InterleavedRatio.Describe(rounds)}");
        Console.WriteLine($"GEMM mode for {precision} on CPU: {GemmModes.Describe(DeviceType.CPU, compute)}");
        foreach (var size in sizes)
        {
            using var fp32 = new Side(Precision.FP32, size);
            using var low = new Side(precision, size);
            var ratio = InterleavedRatio.Measure(rounds, fp32.Step, low.Step);
            Console.WriteLine(ratio.Lines($"{size}×{size} images"));
            Console.WriteLine($"{size}×{size} images: allocator: {MallocThresholds.Describe()}");
            if (ThreadPageFaults.IsAvailable)
                Console.WriteLine($"{size}×{size} images: minor page faults per step, median: FP32 {fp32.MedianFaults()}, {precision} {low.MedianFaults()}");
        }
        return 0;
    }

    // One model, optimizer and batch under one precision.
    private sealed class Side : IDisposable
    {
        private readonly Precision precision;
        private readonly ResNetClassifier model;
        private readonly MasterWeightOptimizer optimizer;
        private readonly Tensor images;
        private readonly Tensor labels;
        private readonly List<long> faults = new();

        public Side(Precision precision, int size)
        {
            TorchThreads.UseOne();
            this.precision = precision;
            manual_seed(1);
            model = new ResNetClassifier(Classes);
            using (AutocastScope.Use(precision)) model.ApplyPrecisionPolicy();
            optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.01, momentum: 0.9),
                new MasterWeightOptions { Scaling = LossScalerOptions.For(precision) });
            images = randn(Batch, 3, size, size, generator: new Generator(2)).DetachFromDisposeScope();
            labels = randint(0, Classes, Batch, generator: new Generator(3)).DetachFromDisposeScope();
        }

        public void Step()
        {
            var before = ThreadPageFaults.IsAvailable ? ThreadPageFaults.Count() : 0;
            using (var scope = NewDisposeScope())
            using (var policy = AutocastScope.Use(precision))
                optimizer.Step(nn.functional.cross_entropy(model.call(images), labels));
            if (ThreadPageFaults.IsAvailable) faults.Add(ThreadPageFaults.Count() - before);
        }

        // Over every step this side ran, warm-up rounds included.
        public long MedianFaults() => faults.Count == 0 ? 0 : faults.Order().ElementAt(faults.Count / 2);

        public void Dispose()
        {
            optimizer.Dispose();
            model.Dispose();
            images.Dispose();
            labels.Dispose();
        }
    }
}

/// <summary>TorchVision's ResNet-18 as the child of a policy module, as a user adds one to a model.</summary>
[Autocast(Precision.BF16)]
public sealed partial class ResNetClassifier : nn.Module<Tensor, Tensor>
{
    private readonly ResNet backbone;

    public ResNetClassifier(int classes) : base(nameof(ResNetClassifier))
    {
        backbone = torchvision.models.resnet18(num_classes: classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => backbone.call(images);
}
