using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// Renders docs/cast-policy.md from the shared catalogue (the generator's compiled copy of it). It lives in
/// the tests, not in a shipped assembly: only the staleness test needs it.
/// </summary>
internal static class CastPolicyPage
{
    public static string Render()
    {
        var s = new StringBuilder();
        s.Append("# Cast policy\n\n");
        s.Append("What the generated interceptors do with each catalogued TorchSharp call inside an `[Autocast]` region.\n");
        s.Append("Rendered from the shared catalogue `catalog/PrecisionPolicy.Catalog/` (the generator, the analyzers and the\n");
        s.Append("runtime compile the same rows; a test keeps this file in sync).\n\n");
        s.Append("The lists mirror PyTorch's **CUDA** autocast lists (aten/src/ATen/autocast_mode.cpp) on every device,\n");
        s.Append("so a model casts the same way on CPU and GPU (PyTorch's CPU lists are narrower; we differ on purpose).\n\n");
        s.Append("- **low precision**: floating operands are cast to the region's compute dtype (BF16/FP16). In GEMM mode\n");
        s.Append("  `Fp32Accumulate` (AVX2-only CPUs) operands are rounded to the compute dtype, the op runs in FP32 and the\n");
        s.Append("  result is rounded: the numerics of a tensor-core GEMM.\n");
        s.Append("- **fp32**: floating inputs are widened to float32; the output stays float32.\n");
        s.Append("- **promote**: floating inputs are cast to the widest floating input (FP16 with BF16 gives FP32).\n");
        s.Append("- **module (low precision)**: inputs are cast to the member's storage dtype (its working weights, set by\n");
        s.Append("  `ApplyPrecisionPolicy()`); **module (fp32)**: inputs widened to float32, parameters and statistics kept FP32.\n");
        s.Append("- `[HighPrecision]` members: every call is **module (fp32)**; `[HighPrecision]` methods: every op in them\n");
        s.Append("  computes in FP32.\n\n");
        s.Append("Never cast: integer, bool and float64 tensors (the runtime helpers skip them), in-place ops (`x.exp_()`),\n");
        s.Append("and calls that pass an explicit `dtype` (`x.sum(type: ScalarType.Float64)`): the caller chose.\n");
        s.Append("Calls that interceptors cannot see (a `Sequential`'s children, delegates, operators such as `a * b`) are\n");
        s.Append("covered by the forward pre-hooks `ApplyPrecisionPolicy()` registers at module boundaries.\n\n");
        s.Append("## Ops\n\n");
        s.Append("The PyTorch lists column names where a row comes from; \"—\" marks a choice of this catalogue (see the note).\n\n");
        s.Append("| op | category | call forms | PyTorch lists | note |\n|---|---|---|---|---|\n");
        foreach (var row in OpRows.All)
        {
            var forms = string.Join(", ", CastCatalog.Each(row.Containers).Select(c => "`" + CastCatalog.Form(c, row.Op) + "`"));
            s.Append("| ").Append(row.Op).Append(" | ").Append(Describe(row.Category)).Append(" | ").Append(forms)
                .Append(" | ").Append(Describe(row.Lists)).Append(" | ").Append(row.Note).Append(" |\n");
        }
        s.Append("\nA `using static TorchSharp.torch.nn.functional;` call (`softmax(x, -1)`) binds to the same method and is\n");
        s.Append("intercepted the same way. PyTorch's frobenius_norm, nuclear_norm and pdist have no TorchSharp 0.107 method\n");
        s.Append("(`norm` covers the first two). PyTorch's CPU fp32 list (pooling 3d, fft, linalg decompositions, quantile, trace,\n");
        s.Append("stft, polar, all losses) is included: those ops have no 16-bit CPU kernel, so a BF16 tensor reaching them is\n");
        s.Append("widened instead of failing. Its reflection_pad*/replication_pad* are `functional.pad` modes in TorchSharp: the\n");
        s.Append("`ReflectionPad*`/`ReplicationPad*` modules are catalogued; `functional.pad` itself is not (constant padding is\n");
        s.Append("in no list), so a reflect/replicate `functional.pad` runs in its input dtype.\n\n");
        s.Append("`binary_cross_entropy` is a choice: PyTorch's CUDA autocast refuses it (a 16-bit sigmoid output saturates at 0\n");
        s.Append("and 1), its CPU list computes it in FP32. Here it computes in FP32 on every device, so it never throws; the\n");
        s.Append("with-logits form stays the better loss (log-sigmoid fused, no saturated probability in between).\n\n");
        s.Append("## Module calls (`m.call(...)`, `m.forward(...)`)\n\n| module | category | note |\n|---|---|---|\n");
        foreach (var row in ModuleRows.All)
        {
            var note = row.CompositeKind is null ? row.Note : row.Note + "; opaque: its internal " + row.SensitiveOps + " run in the input dtype (PP0103)";
            s.Append("| ").Append(row.ShortName).Append(" | ").Append(Describe(row.Category)).Append(" | ").Append(note).Append(" |\n");
        }
        s.Append("\n## Storage and boundaries (`ApplyPrecisionPolicy()`)\n\n");
        s.Append("- Leaf modules of low-precision members (Linear, Conv*, RNNs, attention, ...) store their working\n");
        s.Append("  parameters in the compute dtype; `[HighPrecision]` members (or module classes), norm layers with their\n");
        s.Append("  running statistics, softmax, pooling/padding/upsampling and loss modules stay FP32, and so do Embedding and\n");
        s.Append("  EmbeddingBag tables unless `[Autocast(LowPrecisionEmbeddings = true)]`; a child with its own `[Autocast]` applies its own\n");
        s.Append("  policy. Each tensor is converted at most once; float64 and integer tensors are never converted.\n");
        s.Append("- Every leaf module with parameters (and every FP32 module) gets a forward pre-hook casting its input to its\n");
        s.Append("  storage dtype, so a `Sequential`'s children and modules called from delegates follow the policy too.\n");
        s.Append("- Under an `AutocastScope` (e.g. `AutocastScope.Use(Precision.FP32)` for a reference run) storage, casts and\n");
        s.Append("  default loss scaling follow the scope's precision; `[HighPrecision]` parts stay FP32.\n\n");
        s.Append("## GEMM mode\n\n");
        s.Append("Functional low-precision rows and `Linear`, `Conv1d/2d/3d` module calls (`call` or `forward`) honour the GEMM\n");
        s.Append("mode (`GemmModes`): `Native` runs the op in BF16/FP16; `Fp32Accumulate` rounds operands to the compute dtype, runs\n");
        s.Append("in FP32 and rounds the result. Other low-precision module calls (transposed convolutions, RNNs, attention,\n");
        s.Append("built-in composites) run natively in the compute dtype. Hooks you register on a `Linear` or convolution run on every\n");
        s.Append("call in every mode and see what they would without the policy; under `Fp32Accumulate`, a module that carries a forward\n");
        s.Append("hook of yours (`register_forward_hook`) runs its own native kernel on each call, so that the hook gets the real input:\n");
        s.Append("slower on CPUs without 16-bit kernels, with the native kernel's numerics. Forward pre-hooks alone keep `Fp32Accumulate`.\n\n");
        s.Append("## FP8 (`[Autocast(Precision.FP8)]`)\n\n");
        s.Append("Low-precision functional rows quantize each floating operand with `Fp8Autocast.Operand` (E4M3 forward, max ")
            .Append(Fp8Formats.E4M3Max).Append("; E5M2\n");
        s.Append("backward, max ").Append(Fp8Formats.E5M2Max).Append("; per-tensor delayed scaling), one scaling state per call site and operand\n");
        s.Append("(`Class:File.cs(line,col)#operand`). `Linear` module calls become `functional.linear` over the FP8-quantized\n");
        s.Append("input and weight (bias in BF16). Working weights are stored in BF16; `ApplyPrecisionPolicy()` attaches the\n");
        s.Append("module's `Fp8Context` ([Fp8Recipe]: TransformerEngine's DelayedScaling defaults, amax history ")
            .Append(Fp8RecipeDefaults.AmaxHistoryLength).Append(", margin ").Append(Fp8RecipeDefaults.Margin).Append(",\n");
        s.Append("amax = max over the history, where unset), and the generated optimizer steps it. FP8 regions exist only in\n");
        s.Append("FP8 module classes (PP0106 elsewhere).\n\n");
        AppendConformanceReference(s);
        s.Append("## Known limits\n\n");
        s.Append("- Decided where code runs: a region's call into a helper, an extension method or a module of your own enters the region, and the\n");
        s.Append("  catalogued ops written outside every policy cast by the region in force when they run (untouched outside every region).\n");
        s.Append("  Calls that cannot be intercepted (generic, by-ref, inaccessible, delegates) are PP0104/PP0105.\n");
        s.Append("- Operators (`a * b`, `a + b`) are not intercepted; they follow TorchSharp's type promotion.\n");
        s.Append("- Built-in composites run their internal softmax/LayerNorm in the compute dtype (PP0103).\n");
        s.Append("- Parameters registered directly on a module that also has child modules keep their dtype (interceptors still\n");
        s.Append("  cast them per op); put such parameters in a leaf module to store them in the compute dtype.\n");
        s.Append("- Embedding, EmbeddingBag and recurrent calls (LSTM, GRU, RNN and their cells) are cast by the module's run-time\n");
        s.Append("  storage dtype (its boundary hook's): embedding tables follow `LowPrecisionEmbeddings`, hidden states are tuples.\n");
        return s.ToString();
    }

    // The integration tests' conformance suite compares what every leaf module of its models computes in with this
    // table; its one copy is the data file those tests read.
    private static void AppendConformanceReference(StringBuilder s)
    {
        var rows = File.ReadAllLines(ConformanceReferencePath()).Where(l => l.Length > 0 && !l.StartsWith('#')).Skip(1).Select(l => l.Split('\t'));
        s.Append("## Conformance reference: leaf modules under PyTorch autocast\n\n");
        s.Append("The real-model conformance suite (tests/PrecisionPolicy.IntegrationTests/Conformance: LSTM, EmbeddingBag, MLP\n");
        s.Append("called with `forward`, ResNet-style and depthwise-separable CNNs, LLaMA-style decoder, an encoder-decoder of\n");
        s.Append("TorchSharp's transformer layers, TorchVision's MobileNetV2) records, in one forward of each model under BF16 and\n");
        s.Append("FP16, the dtype every leaf module computes in (the dtype of its first floating input after the boundary hooks, or\n");
        s.Append("of its table for an embedding lookup) and requires the **expected** column below. The rules come from PyTorch\n");
        s.Append("autocast: an op in a lower-precision list takes the compute dtype, an op in an fp32 list FP32, an op in no list\n");
        s.Append("its input dtype; autocast never changes parameters, so a lookup in an embedding table runs in FP32. The\n");
        s.Append("**PyTorch** column is what PyTorch's CUDA lists give; the two differ only where the note says why. TorchSharp has\n");
        s.Append("no per-op hook, so functional ops are not in this table: each catalogued row above is checked on its own.\n\n");
        s.Append("| module | PyTorch op | PyTorch list | PyTorch | expected | note |\n|---|---|---|---|---|---|\n");
        foreach (var f in rows)
            s.Append("| ").Append(f[0]).Append(" | ").Append(f[1]).Append(" | ").Append(f[2]).Append(" | ").Append(f[3]).Append(" | ").Append(f[4])
                .Append(" | ").Append(f.Length > 5 ? f[5] : "").Append(" |\n");
        s.Append("\n");
    }

    private static string ConformanceReferencePath([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "PrecisionPolicy.IntegrationTests", "Conformance", "autocast-reference.tsv"));

    private static string Describe(CastCategory category) => category switch
    {
        CastCategory.LowPrecision => "low precision",
        CastCategory.Float32 => "fp32",
        CastCategory.Promote => "promote",
        CastCategory.ModuleLowPrecision => "module (low precision)",
        _ => "module (fp32)",
    };

    private static string Describe(AutocastLists lists)
    {
        var names = new List<string>();
        if ((lists & AutocastLists.CudaLowerPrecision) != 0) names.Add("CUDA lower precision");
        if ((lists & AutocastLists.CudaFp32) != 0) names.Add("CUDA fp32");
        if ((lists & AutocastLists.CudaPromote) != 0) names.Add("CUDA promote");
        if ((lists & AutocastLists.CudaBanned) != 0) names.Add("CUDA banned");
        if ((lists & AutocastLists.CpuLowerPrecision) != 0) names.Add("CPU lower precision");
        if ((lists & AutocastLists.CpuFp32) != 0) names.Add("CPU fp32");
        if ((lists & AutocastLists.CpuPromote) != 0) names.Add("CPU promote");
        return names.Count == 0 ? "—" : string.Join(", ", names);
    }
}
