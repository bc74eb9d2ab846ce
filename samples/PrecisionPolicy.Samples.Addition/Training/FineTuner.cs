using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Lora;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>How `finetune` adapts the pre-trained model to the shifted task.</summary>
public enum FineTuneKind
{
    /// <summary>Every parameter trains, BF16 working copies with FP32 masters.</summary>
    FullBf16,

    /// <summary>LoRA adapters train; the base stays frozen in BF16.</summary>
    LoraBf16,

    /// <summary>LoRA adapters train; the frozen base is stored in NF4 (QLoRA).</summary>
    QloraNf4,
}

/// <summary>Sizes and steps of `finetune`.</summary>
public sealed record FineTuneOptions
{
    public int PretrainSteps { get; init; } = 400;
    public int FineTuneSteps { get; init; } = 150;
    public int Batch { get; init; } = 64;
    public int Digits { get; init; } = 2;
    public int Width { get; init; } = 64;
    public int Layers { get; init; } = 1;
    public int Heads { get; init; } = 4;
    public double PretrainLearningRate { get; init; } = 5e-3;
    public double FullLearningRate { get; init; } = 1e-3;
    public double LoraLearningRate { get; init; } = 1e-2;
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; } = 0.05;
    public int Seed { get; init; } = 1;

    /// <summary>Every Linear of the blocks (QLoRA adapts all linear layers); the head stays frozen.</summary>
    public IReadOnlyList<string> Targets { get; init; } = ["qkv", "proj", "expand", "contract"];
}

/// <summary>One fine-tuning run's numbers.</summary>
/// <param name="Kind">How it was fine-tuned.</param>
/// <param name="Seed">Seed of pre-training, initialisation and data.</param>
/// <param name="PretrainedLoss">Held-out loss of the pre-trained model on the shifted task, before fine-tuning.</param>
/// <param name="HeldOutLoss">Held-out loss on the shifted task after fine-tuning.</param>
/// <param name="TrainableParameters">Parameters the optimizer stepped.</param>
/// <param name="WeightBytes">Bytes of the module's parameters and buffers as allocated (NF4 codes and constants included).</param>
/// <param name="OptimizerBytes">Masters, gradients, accumulators and optimizer state the master-weight optimizer holds.</param>
public sealed record FineTuneResult(FineTuneKind Kind, int Seed, double PretrainedLoss, double HeldOutLoss, long TrainableParameters, long WeightBytes, long OptimizerBytes);

/// <summary>
/// Pre-trains the sample GPT on addition in FP32, then fine-tunes a copy on the shifted task (a + b + 1) three
/// ways: full BF16, BF16 LoRA and NF4 + LoRA (QLoRA), each from the same weights and batches.
/// </summary>
public static class FineTuner
{
    public static IReadOnlyList<FineTuneResult> Run(FineTuneOptions options, IReadOnlyList<FineTuneKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(options);
        // One intra-op thread: the same reduction order on every machine (one trajectory per seed), and on a
        // shared box spinning workers multiply the run time of these tiny ops many times over.
        var threads = get_num_threads();
        set_num_threads(1);
        try
        {
            return RunOnOneThread(options, kinds);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private static IReadOnlyList<FineTuneResult> RunOnOneThread(FineTuneOptions options, IReadOnlyList<FineTuneKind> kinds)
    {
        var config = new GptConfig(AdditionTask.VocabularySize, new AdditionTask(options.Digits, options.Seed).ContextLength, options.Width, options.Layers, options.Heads);
        var pretrained = Pretrain(options, config);
        try
        {
            var shifted = new AdditionTask(options.Digits, options.Seed, offset: 1);
            return kinds.Select(kind => FineTune(options, config, pretrained, shifted, kind)).ToList();
        }
        finally
        {
            foreach (var t in pretrained.Values) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> Pretrain(FineTuneOptions options, GptConfig config)
    {
        using var fp32 = AutocastScope.Use(Precision.FP32);
        manual_seed(options.Seed);
        var task = new AdditionTask(options.Digits, options.Seed);
        using var model = new TinyGpt(config).ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, options.PretrainLearningRate, weight_decay: 0.01), new MasterWeightOptions { MaxGradNorm = 1.0 });
        Train(model, optimizer, task, options.PretrainSteps, options.Batch, new Random(options.Seed));
        return model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
    }

    private static FineTuneResult FineTune(FineTuneOptions options, GptConfig config, Dictionary<string, Tensor> pretrained, AdditionTask shifted, FineTuneKind kind)
    {
        using var bf16 = AutocastScope.Use(Precision.BF16);
        manual_seed(options.Seed + 1);
        using var model = new TinyGpt(config);
        model.load_state_dict(pretrained);
        model.ApplyPrecisionPolicy();
        var before = HeldOutLoss(model, shifted);
        if (kind != FineTuneKind.FullBf16)
        {
            model.AttachLora(new LoraOptions
            {
                Rank = options.Rank,
                Alpha = options.Alpha,
                Dropout = options.Dropout,
                TargetModules = options.Targets,
                QuantizeBase = kind == FineTuneKind.QloraNf4,
            });
        }
        var learningRate = kind == FineTuneKind.FullBf16 ? options.FullLearningRate : options.LoraLearningRate;
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, learningRate, weight_decay: 0.01), new MasterWeightOptions { MaxGradNorm = 1.0 });
        // Dropout on the adapters draws from the global generator: the same seed for every kind.
        manual_seed(options.Seed + 2);
        Train(model, optimizer, shifted, options.FineTuneSteps, options.Batch, new Random(options.Seed + 3));
        var after = HeldOutLoss(model, shifted);
        var memory = optimizer.Memory();
        return new FineTuneResult(kind, options.Seed, before, after,
            model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
            model.parameters().Sum(p => p.numel() * p.element_size()) + model.buffers().Sum(b => b.numel() * b.element_size()),
            memory.MasterWeights + memory.GradientAccumulators + memory.WorkingGradients + memory.OptimizerState);
    }

    private static void Train(TinyGpt model, MasterWeightOptimizer optimizer, AdditionTask task, int steps, int batch, Random random)
    {
        model.train();
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = task.Batch(batch, random);
            optimizer.Step(model.Loss(inputs, targets));
        }
    }

    private static double HeldOutLoss(TinyGpt model, AdditionTask task)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var (inputs, targets) = task.Encode(task.HeldOut);
        var loss = model.Loss(inputs, targets).item<float>();
        model.train();
        return loss;
    }
}
