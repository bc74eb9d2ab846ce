using System.Collections.Generic;
using System.Linq;
using System.Text;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

/// <summary>
/// The cast catalogue: which TorchSharp ops get which casts inside an autocast region. It mirrors
/// PyTorch's CUDA autocast lists (aten/src/ATen/autocast_mode.cpp) on every device, so a model
/// behaves the same on CPU and GPU; docs/cast-policy.md is rendered from it (see
/// <see cref="ToMarkdown"/>). Ops absent from TorchSharp 0.107 are not listed.
/// </summary>
internal static class CastCatalog
{
    /// <summary>The TorchSharp containers (display names) whose static or instance methods are catalogued.</summary>
    public const string Torch = "TorchSharp.torch";
    public const string Functional = "TorchSharp.torch.nn.functional";
    public const string Tensor = "TorchSharp.torch.Tensor";
    public const string Linalg = "TorchSharp.torch.linalg";
    public const string Special = "TorchSharp.torch.special";

    /// <summary>One op row.</summary>
    public sealed record OpRow(string Op, CastCategory Category, string[] Containers, string Note);

    /// <summary>One module row (module calls m.call(...) / m.forward(...)).</summary>
    public sealed record ModuleRow(string TypeName, CastCategory Category, string Note, string? CompositeKind = null, string? SensitiveOps = null);

    private static readonly string[] T = { Torch };
    private static readonly string[] TF = { Torch, Functional };
    private static readonly string[] F = { Functional };
    private static readonly string[] TX = { Torch, Tensor };
    private static readonly string[] FX = { Functional, Tensor };
    private static readonly string[] TXS = { Torch, Tensor, Special };

    /// <summary>Op rows in catalogue order.</summary>
    public static readonly IReadOnlyList<OpRow> Ops = new OpRow[]
    {
        // Lower precision (PyTorch CUDA list): GEMMs, convolutions, attention.
        new("linear", CastCategory.LowPrecision, F, "GEMM"),
        new("matmul", CastCategory.LowPrecision, TX, "GEMM"),
        new("mm", CastCategory.LowPrecision, TX, "GEMM"),
        new("mv", CastCategory.LowPrecision, TX, "GEMV"),
        new("bmm", CastCategory.LowPrecision, TX, "batched GEMM"),
        new("addmm", CastCategory.LowPrecision, TX, "GEMM + add"),
        new("addmv", CastCategory.LowPrecision, TX, "GEMV + add"),
        new("addr", CastCategory.LowPrecision, TX, "outer product + add"),
        new("addbmm", CastCategory.LowPrecision, TX, "batched GEMM, reduced"),
        new("baddbmm", CastCategory.LowPrecision, TX, "batched GEMM + add"),
        new("chain_matmul", CastCategory.LowPrecision, T, "GEMM chain"),
        new("multi_dot", CastCategory.LowPrecision, new[] { Linalg }, "linalg_multi_dot"),
        new("vecdot", CastCategory.LowPrecision, new[] { Linalg }, "linalg_vecdot"),
        new("einsum", CastCategory.LowPrecision, T, "contraction"),
        new("conv1d", CastCategory.LowPrecision, F, "convolution"),
        new("conv2d", CastCategory.LowPrecision, F, "convolution"),
        new("conv3d", CastCategory.LowPrecision, F, "convolution"),
        new("conv_transpose1d", CastCategory.LowPrecision, F, "transposed convolution"),
        new("conv_transpose2d", CastCategory.LowPrecision, F, "transposed convolution"),
        new("conv_transpose3d", CastCategory.LowPrecision, F, "transposed convolution"),
        new("prelu", CastCategory.LowPrecision, FX, "PyTorch lists prelu as lower precision"),
        new("scaled_dot_product_attention", CastCategory.LowPrecision, F, "fused attention"),

        // FP32 (PyTorch CUDA list): overflow- or cancellation-prone math, norms, losses.
        new("acos", CastCategory.Float32, TX, "fp32 list"),
        new("asin", CastCategory.Float32, TX, "fp32 list"),
        new("cosh", CastCategory.Float32, TX, "fp32 list"),
        new("erfinv", CastCategory.Float32, TXS, "fp32 list"),
        new("exp", CastCategory.Float32, TX, "overflows in 16 bits"),
        new("expm1", CastCategory.Float32, TXS, "fp32 list"),
        new("log", CastCategory.Float32, TX, "fp32 list"),
        new("log10", CastCategory.Float32, TX, "fp32 list"),
        new("log2", CastCategory.Float32, TX, "fp32 list"),
        new("log1p", CastCategory.Float32, TX, "fp32 list"),
        new("reciprocal", CastCategory.Float32, TX, "fp32 list"),
        new("rsqrt", CastCategory.Float32, TX, "fp32 list"),
        new("sinh", CastCategory.Float32, TX, "fp32 list"),
        new("tan", CastCategory.Float32, TX, "fp32 list"),
        new("pow", CastCategory.Float32, TX, "fp32 list"),
        new("softplus", CastCategory.Float32, FX, "fp32 list"),
        new("layer_norm", CastCategory.Float32, F, "variance is precision-sensitive"),
        new("group_norm", CastCategory.Float32, F, "variance is precision-sensitive"),
        new("batch_norm", CastCategory.Float32, F, "running statistics stay FP32"),
        new("instance_norm", CastCategory.Float32, F, "variance is precision-sensitive (norms, as batch_norm)"),
        new("norm", CastCategory.Float32, new[] { Torch, Tensor, Linalg }, "frobenius/nuclear/vector norms"),
        new("vector_norm", CastCategory.Float32, new[] { Linalg }, "fp32 with optional dtype"),
        new("matrix_norm", CastCategory.Float32, new[] { Linalg }, "fp32 with optional dtype"),
        new("cosine_similarity", CastCategory.Float32, F, "fp32 list"),
        new("dist", CastCategory.Float32, TX, "fp32 list"),
        new("cdist", CastCategory.Float32, T, "fp32 list"),
        new("renorm", CastCategory.Float32, TX, "fp32 list"),
        new("logsumexp", CastCategory.Float32, TX, "fp32 list"),
        new("interpolate", CastCategory.Float32, F, "upsample_* in the fp32 list"),
        new("upsample", CastCategory.Float32, F, "upsample_* in the fp32 list"),
        new("softmax", CastCategory.Float32, new[] { Torch, Functional, Tensor, Special }, "fp32 with optional dtype"),
        new("log_softmax", CastCategory.Float32, new[] { Functional, Tensor, Special }, "fp32 with optional dtype"),
        new("prod", CastCategory.Float32, TX, "fp32 with optional dtype"),
        new("cumprod", CastCategory.Float32, TX, "fp32 with optional dtype"),
        new("cumsum", CastCategory.Float32, TX, "fp32 with optional dtype"),
        new("sum", CastCategory.Float32, TX, "fp32 with optional dtype"),
        new("cross_entropy", CastCategory.Float32, F, "loss (log_softmax + nll_loss)"),
        new("nll_loss", CastCategory.Float32, F, "loss"),
        new("poisson_nll_loss", CastCategory.Float32, F, "loss"),
        new("gaussian_nll_loss", CastCategory.Float32, F, "loss (CPU list: all losses)"),
        new("cosine_embedding_loss", CastCategory.Float32, F, "loss"),
        new("hinge_embedding_loss", CastCategory.Float32, F, "loss"),
        new("kl_div", CastCategory.Float32, F, "loss"),
        new("l1_loss", CastCategory.Float32, F, "loss"),
        new("smooth_l1_loss", CastCategory.Float32, F, "loss"),
        new("huber_loss", CastCategory.Float32, F, "loss"),
        new("mse_loss", CastCategory.Float32, F, "loss"),
        new("margin_ranking_loss", CastCategory.Float32, F, "loss"),
        new("soft_margin_loss", CastCategory.Float32, F, "loss"),
        new("multilabel_soft_margin_loss", CastCategory.Float32, F, "loss (CPU list: all losses)"),
        new("triplet_margin_loss", CastCategory.Float32, F, "loss"),
        new("multi_margin_loss", CastCategory.Float32, F, "loss"),
        new("binary_cross_entropy_with_logits", CastCategory.Float32, F, "loss"),
        new("binary_cross_entropy", CastCategory.Float32, F, "PyTorch bans it under autocast; here computed in FP32 (prefer the with-logits form)"),

        // Promote to the widest floating input (PyTorch CUDA list + cat/stack/where).
        new("addcdiv", CastCategory.Promote, TX, "promote list"),
        new("addcmul", CastCategory.Promote, TX, "promote list"),
        new("atan2", CastCategory.Promote, TX, "promote list"),
        new("bilinear", CastCategory.Promote, F, "promote list"),
        new("cross", CastCategory.Promote, new[] { Torch, Tensor, Linalg }, "promote list"),
        new("dot", CastCategory.Promote, TX, "promote list"),
        new("vdot", CastCategory.Promote, TX, "promote list"),
        new("grid_sample", CastCategory.Promote, F, "grid_sampler in the promote list"),
        new("tensordot", CastCategory.Promote, TX, "promote list"),
        new("scatter_add", CastCategory.Promote, TX, "promote list"),
        new("cat", CastCategory.Promote, T, "CPU promote list"),
        new("stack", CastCategory.Promote, T, "CPU promote list"),
        new("where", CastCategory.Promote, TX, "mixed-dtype branches"),
    };

    /// <summary>Module rows: a call of a module of this type (or a subtype) is cast as the row says.</summary>
    public static readonly IReadOnlyList<ModuleRow> Modules = new ModuleRow[]
    {
        new("TorchSharp.Modules.Linear", CastCategory.ModuleLowPrecision, "linear"),
        new("TorchSharp.Modules.Bilinear", CastCategory.ModuleLowPrecision, "bilinear (weights are stored in the compute dtype, so inputs follow them)"),
        new("TorchSharp.Modules.Conv1d", CastCategory.ModuleLowPrecision, "conv1d"),
        new("TorchSharp.Modules.Conv2d", CastCategory.ModuleLowPrecision, "conv2d"),
        new("TorchSharp.Modules.Conv3d", CastCategory.ModuleLowPrecision, "conv3d"),
        new("TorchSharp.Modules.ConvTranspose1d", CastCategory.ModuleLowPrecision, "conv_transpose1d"),
        new("TorchSharp.Modules.ConvTranspose2d", CastCategory.ModuleLowPrecision, "conv_transpose2d"),
        new("TorchSharp.Modules.ConvTranspose3d", CastCategory.ModuleLowPrecision, "conv_transpose3d"),
        new("TorchSharp.Modules.PReLU", CastCategory.ModuleLowPrecision, "prelu"),
        new("TorchSharp.Modules.Embedding", CastCategory.ModuleLowPrecision, "lookup: indices are integers (never cast), weights stored in the compute dtype"),
        new("TorchSharp.Modules.MultiheadAttention", CastCategory.ModuleLowPrecision, "attention GEMMs", "multi-head attention", "softmax"),
        new("TorchSharp.Modules.TransformerEncoderLayer", CastCategory.ModuleLowPrecision, "composite", "transformer encoder layer", "softmax and LayerNorm"),
        new("TorchSharp.Modules.TransformerDecoderLayer", CastCategory.ModuleLowPrecision, "composite", "transformer decoder layer", "softmax and LayerNorm"),
        new("TorchSharp.Modules.TransformerEncoder", CastCategory.ModuleLowPrecision, "composite", "transformer encoder", "softmax and LayerNorm"),
        new("TorchSharp.Modules.TransformerDecoder", CastCategory.ModuleLowPrecision, "composite", "transformer decoder", "softmax and LayerNorm"),
        new("TorchSharp.Modules.Transformer", CastCategory.ModuleLowPrecision, "composite", "transformer", "softmax and LayerNorm"),
        new("TorchSharp.Modules.LayerNorm", CastCategory.ModuleFloat32, "layer_norm; parameters stay FP32"),
        new("TorchSharp.Modules.GroupNorm", CastCategory.ModuleFloat32, "group_norm; parameters stay FP32"),
        new("TorchSharp.Modules.BatchNorm", CastCategory.ModuleFloat32, "batch_norm (BatchNorm1d/2d/3d); parameters and running statistics stay FP32"),
        new("TorchSharp.Modules.InstanceNorm", CastCategory.ModuleFloat32, "instance_norm; parameters and statistics stay FP32"),
        new("TorchSharp.Modules.LocalResponseNorm", CastCategory.ModuleFloat32, "normalization"),
        new("TorchSharp.Modules.Softmax", CastCategory.ModuleFloat32, "softmax"),
        new("TorchSharp.Modules.Softmax2d", CastCategory.ModuleFloat32, "softmax"),
        new("TorchSharp.Modules.Softmin", CastCategory.ModuleFloat32, "softmin (softmax of the negation)"),
        new("TorchSharp.Modules.LogSoftmax", CastCategory.ModuleFloat32, "log_softmax"),
        new("TorchSharp.Modules.CrossEntropyLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.NLLLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.MSELoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.L1Loss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.SmoothL1Loss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.HuberLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.KLDivLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.BCELoss", CastCategory.ModuleFloat32, "loss (banned by PyTorch autocast; FP32 here)"),
        new("TorchSharp.Modules.BCEWithLogitsLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.CosineEmbeddingLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.HingeEmbeddingLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.MarginRankingLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.MultiLabelMarginLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.MultiLabelSoftMarginLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.MultiMarginLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.PoissonNLLLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.GaussianNLLLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.SoftMarginLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.TripletMarginLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.TripletMarginWithDistanceLoss", CastCategory.ModuleFloat32, "loss"),
        new("TorchSharp.Modules.CTCLoss", CastCategory.ModuleFloat32, "loss"),
    };

    private static readonly Dictionary<string, OpRow> OpsByKey = Ops
        .SelectMany(static r => r.Containers.Select(c => (Key: c + "." + r.Op, Row: r)))
        .ToDictionary(static p => p.Key, static p => p.Row);

    private static readonly HashSet<string> OpNames = new(Ops.Select(static r => r.Op));

    /// <summary>True when some container has an op of this name (a cheap syntactic pre-filter).</summary>
    public static bool IsCatalogued(string name) => OpNames.Contains(name);

    private static readonly Dictionary<string, ModuleRow> ModulesByType = Modules.ToDictionary(static r => r.TypeName);

    /// <summary>The row of a method named <paramref name="name"/> declared in <paramref name="container"/>, if any.</summary>
    public static OpRow? FindOp(string container, string name) => OpsByKey.TryGetValue(container + "." + name, out var row) ? row : null;

    /// <summary>The row of a module type (display name, e.g. TorchSharp.Modules.Linear), if any.</summary>
    public static ModuleRow? FindModule(string typeName) => ModulesByType.TryGetValue(typeName, out var row) ? row : null;

    /// <summary>How a container is written at a call site (for docs and comments).</summary>
    public static string Form(string container, string op) => container switch
    {
        Torch => "torch." + op + "(...)",
        Functional => "torch.nn.functional." + op + "(...)",
        Tensor => "tensor." + op + "(...)",
        Linalg => "torch.linalg." + op + "(...)",
        Special => "torch.special." + op + "(...)",
        _ => container + "." + op,
    };

    /// <summary>Short row name used in generated comments ("torch.matmul", "functional.softmax", "Tensor.exp").</summary>
    public static string RowName(string container, string op) => container switch
    {
        Torch => "torch." + op,
        Functional => "functional." + op,
        Tensor => "Tensor." + op,
        Linalg => "linalg." + op,
        Special => "special." + op,
        _ => op,
    };

    /// <summary>Renders docs/cast-policy.md (a test keeps the file in sync).</summary>
    public static string ToMarkdown()
    {
        var s = new StringBuilder();
        s.Append("# Cast policy\n\n");
        s.Append("What the generated interceptors do with each catalogued TorchSharp call inside an `[Autocast]` region.\n");
        s.Append("Rendered from `generators/PrecisionPolicy.Generators/CastCatalog.cs` (a test keeps this file in sync).\n\n");
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
        s.Append("## Ops\n\n| op | category | call forms | note |\n|---|---|---|---|\n");
        foreach (var row in Ops)
        {
            var forms = string.Join(", ", row.Containers.Select(c => "`" + Form(c, row.Op) + "`"));
            s.Append("| ").Append(row.Op).Append(" | ").Append(Describe(row.Category)).Append(" | ").Append(forms).Append(" | ").Append(row.Note).Append(" |\n");
        }
        s.Append("\nA `using static TorchSharp.torch.nn.functional;` call (`softmax(x, -1)`) binds to the same method and is\n");
        s.Append("intercepted the same way.\n\n");
        s.Append("## Module calls (`m.call(...)`, `m.forward(...)`)\n\n| module | category | note |\n|---|---|---|\n");
        foreach (var row in Modules)
        {
            var note = row.CompositeKind is null ? row.Note : row.Note + "; opaque: its internal " + row.SensitiveOps + " run in the input dtype (PP0103)";
            s.Append("| ").Append(row.TypeName.Substring("TorchSharp.Modules.".Length)).Append(" | ").Append(Describe(row.Category)).Append(" | ").Append(note).Append(" |\n");
        }
        s.Append("\n## Storage and boundaries (`ApplyPrecisionPolicy()`)\n\n");
        s.Append("- Leaf modules of low-precision members (Linear, Conv*, Embedding, attention, ...) store their working\n");
        s.Append("  parameters in the compute dtype; `[HighPrecision]` members (or module classes), norm layers with their\n");
        s.Append("  running statistics, softmax and loss modules stay FP32; a child with its own `[Autocast]` applies its own\n");
        s.Append("  policy. Each tensor is converted at most once; float64 and integer tensors are never converted.\n");
        s.Append("- Every leaf module with parameters (and every FP32 module) gets a forward pre-hook casting its input to its\n");
        s.Append("  storage dtype, so a `Sequential`'s children and modules called from delegates follow the policy too.\n");
        s.Append("- Under an `AutocastScope` (e.g. `AutocastScope.Use(Precision.FP32)` for a reference run) storage, casts and\n");
        s.Append("  default loss scaling follow the scope's precision; `[HighPrecision]` parts stay FP32.\n\n");
        s.Append("## GEMM mode\n\n");
        s.Append("Functional low-precision rows and `Linear` module calls honour the GEMM mode (`GemmModes`): `Native` runs the\n");
        s.Append("op in BF16/FP16; `Fp32Accumulate` rounds operands to the compute dtype, runs in FP32 and rounds the result.\n");
        s.Append("Other low-precision module calls (Conv*, attention, composites) run natively in the compute dtype.\n\n");
        s.Append("## FP8 (`[Autocast(Precision.FP8)]`)\n\n");
        s.Append("Low-precision functional rows quantize each floating operand with `Fp8Autocast.Operand` (E4M3 forward, E5M2\n");
        s.Append("backward, per-tensor delayed scaling), one scaling state per call site and operand (`Class:File.cs(line,col)#operand`).\n");
        s.Append("`Linear` module calls become `functional.linear` over the FP8-quantized input and weight (bias in BF16).\n");
        s.Append("Working weights are stored in BF16; `ApplyPrecisionPolicy()` attaches the module's `Fp8Context` ([Fp8Recipe]),\n");
        s.Append("and the generated optimizer steps it. FP8 regions exist only in FP8 module classes (PP0106 elsewhere).\n\n");
        s.Append("## Known limits\n\n");
        s.Append("- Autocast is lexical: ops in helpers outside every `[Autocast]` class or method get no casts (PP0104 says so).\n");
        s.Append("- Operators (`a * b`, `a + b`) are not intercepted; they follow TorchSharp's type promotion.\n");
        s.Append("- Built-in composites run their internal softmax/LayerNorm in the compute dtype (PP0103).\n");
        s.Append("- Parameters registered directly on a module that also has child modules keep their dtype (interceptors still\n");
        s.Append("  cast them per op); put such parameters in a leaf module to store them in the compute dtype.\n");
        s.Append("- RNN modules (LSTM, GRU, RNN and their cells) are not catalogued: their tuple-typed hidden states are not cast.\n");
        return s.ToString();
    }

    private static string Describe(CastCategory category) => category switch
    {
        CastCategory.LowPrecision => "low precision",
        CastCategory.Float32 => "fp32",
        CastCategory.Promote => "promote",
        CastCategory.ModuleLowPrecision => "module (low precision)",
        _ => "module (fp32)",
    };
}
