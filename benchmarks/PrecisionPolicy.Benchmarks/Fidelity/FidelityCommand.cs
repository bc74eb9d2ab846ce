using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Fidelity;

/// <summary>
/// The C# half of the BF16 fidelity comparison with PyTorch autocast: per seed, the transformer block's
/// weights and batch, and its gradients in FP32 and under the generated BF16 policy (FP32 master
/// weights) in both GEMM modes, written as one safetensors file; benchmarks/Fidelity/compare_with_torch.py
/// loads the same weights into torch, computes FP32 and autocast-BF16 gradients and compares.
/// </summary>
internal static class FidelityCommand
{
    private static readonly FidelityShape Shape = new(Vocabulary: 64, Width: 64, Heads: 4, Length: 16, Batch: 4);

    // The last run stores the embedding tables in BF16 ([Autocast(LowPrecisionEmbeddings = true)], the
    // memory option): the residual stream then starts in BF16, unlike under PyTorch autocast.
    private static readonly (string Key, Precision Precision, GemmMode? Mode, bool LowPrecisionEmbeddings)[] Runs =
    {
        ("fp32", Precision.FP32, null, false),
        ("bf16-native", Precision.BF16, GemmMode.Native, false),
        ("bf16-fp32accumulate", Precision.BF16, GemmMode.Fp32Accumulate, false),
        ("bf16-fp32accumulate-bf16-embeddings", Precision.BF16, GemmMode.Fp32Accumulate, true),
    };

    // fidelity [output directory, default benchmarks/Fidelity/out] [seeds, default 5]
    public static int Run(string[] args)
    {
        var directory = args.Length > 0 ? args[0] : Path.Combine("benchmarks", "Fidelity", "out");
        var seeds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetFiles(directory, "seed-*.safetensors")) File.Delete(stale);
        Console.WriteLine($"Transformer block {Shape}; gradients in {string.Join(", ", Runs.Select(r => r.Key))}; {seeds} seeds -> {Path.GetFullPath(directory)}");
        for (var seed = 1; seed <= seeds; seed++)
        {
            using var scope = NewDisposeScope();
            var (tensors, metadata) = Seed(seed);
            var path = Path.Combine(directory, $"seed-{seed}.safetensors");
            SafetensorsWriter.Write(path, tensors, metadata);
            Console.WriteLine($"seed {seed}: " + string.Join(", ", Runs.Select(r => $"{r.Key} loss {metadata[$"loss/{r.Key}"]}")));
        }
        return 0;
    }

    private static (List<(string, Tensor)> Tensors, Dictionary<string, string> Metadata) Seed(int seed)
    {
        manual_seed(seed);
        using var source = new FidelityBlock(Shape); // TorchSharp's default initialisation, FP32
        var weights = source.named_parameters().Select(p => (p.name, Tensor: p.parameter.detach().clone())).ToList();
        var data = new Generator((ulong)(1000 + seed));
        var ids = randint(Shape.Vocabulary, new long[] { Shape.Batch, Shape.Length }, generator: data);
        var targets = randint(Shape.Vocabulary, new long[] { Shape.Batch, Shape.Length }, generator: data);

        var tensors = new List<(string, Tensor)> { ("input/ids", ids), ("input/targets", targets) };
        tensors.AddRange(weights.Select(w => ($"weight/{w.name}", w.Tensor)));
        var metadata = new Dictionary<string, string>
        {
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["vocabulary"] = Shape.Vocabulary.ToString(CultureInfo.InvariantCulture),
            ["width"] = Shape.Width.ToString(CultureInfo.InvariantCulture),
            ["heads"] = Shape.Heads.ToString(CultureInfo.InvariantCulture),
            ["length"] = Shape.Length.ToString(CultureInfo.InvariantCulture),
            ["batch"] = Shape.Batch.ToString(CultureInfo.InvariantCulture),
            ["libtorch"] = torch.__version__,
            ["runs"] = string.Join(",", Runs.Select(r => r.Key)),
        };
        foreach (var (key, precision, mode, lowPrecisionEmbeddings) in Runs)
        {
            var (loss, lossDtype, gradients) = Gradients(weights, ids, targets, precision, mode, lowPrecisionEmbeddings);
            metadata[$"loss/{key}"] = loss.ToString("R", CultureInfo.InvariantCulture);
            metadata[$"loss_dtype/{key}"] = lossDtype.ToString();
            tensors.AddRange(gradients.Select(g => ($"grad/{key}/{g.Name}", g.Gradient)));
        }
        return (tensors, metadata);
    }

    // One forward and backward of a fresh block holding `weights`, through the generated policy: the FP32
    // run under AutocastScope.Use(FP32), the BF16 runs with BF16 working weights and FP32 masters, whose
    // FP32 gradients are what the optimizer would step on.
    private static (double Loss, ScalarType LossDtype, List<(string Name, Tensor Gradient)> Gradients) Gradients(
        List<(string Name, Tensor Tensor)> weights, Tensor ids, Tensor targets, Precision precision, GemmMode? mode, bool lowPrecisionEmbeddings)
    {
        using var precisionScope = AutocastScope.Use(precision);
        GemmModes.Override(DeviceType.CPU, mode);
        try
        {
            using var model = new FidelityBlock(Shape);
            using (no_grad())
            {
                var byName = weights.ToDictionary(w => w.Name, w => w.Tensor);
                foreach (var (name, parameter) in model.named_parameters()) parameter.copy_(byName[name]);
            }
            if (lowPrecisionEmbeddings)
                ModulePolicy.Apply(model, new PrecisionPlan(nameof(FidelityBlock), Precision.BF16, [], lowPrecisionEmbeddings: true)); // what the attribute option generates
            else
                model.ApplyPrecisionPolicy();
            using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.0));
            var logits = model.call(ids);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, Shape.Vocabulary), targets.reshape(-1));
            optimizer.Backward(loss);
            var gradients = weights.Select(w => (w.Name, optimizer.GradientOf(w.Name).clone())).ToList(); // unscaled by Backward
            return (loss.to(ScalarType.Float64).item<double>(), loss.dtype, gradients);
        }
        finally
        {
            GemmModes.Override(DeviceType.CPU, null);
        }
    }
}
