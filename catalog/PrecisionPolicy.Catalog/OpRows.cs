using System.Collections.Generic;

namespace PrecisionPolicy.Catalog;

/// <summary>
/// The op rows, in catalogue order. They follow PyTorch's CUDA autocast lists on every device, so a
/// model casts the same way on CPU and GPU, plus PyTorch's CPU fp32 and promote lists (pooling 3d,
/// fft, linalg decompositions, ...), whose ops have no 16-bit CPU kernel to run in. Ops absent from
/// TorchSharp 0.107 are not listed (a test checks each row against TorchSharp): PyTorch's
/// frobenius_norm, nuclear_norm and pdist have no TorchSharp method (<c>norm</c> covers the first
/// two); its reflection_pad*/replication_pad* are <c>functional.pad</c> modes here, catalogued as the
/// ReflectionPad/ReplicationPad modules (<see cref="ModuleRows"/>).
/// </summary>
internal static class OpRows
{
    private const OpContainers T = OpContainers.Torch;
    private const OpContainers F = OpContainers.Functional;
    private const OpContainers L = OpContainers.Linalg;
    private const OpContainers TX = OpContainers.Torch | OpContainers.Tensor;
    private const OpContainers FX = OpContainers.Functional | OpContainers.Tensor;
    private const OpContainers TXS = OpContainers.Torch | OpContainers.Tensor | OpContainers.Special;
    private const OpContainers TXL = OpContainers.Torch | OpContainers.Tensor | OpContainers.Linalg;
    private const OpContainers TL = OpContainers.Torch | OpContainers.Linalg;
    private const OpContainers Fft = OpContainers.Fft;

    private const CastCategory Low = CastCategory.LowPrecision;
    private const CastCategory Fp32 = CastCategory.Float32;
    private const CastCategory Promote = CastCategory.Promote;

    private const AutocastLists CudaLow = AutocastLists.CudaLowerPrecision;
    private const AutocastLists BothLow = AutocastLists.CudaLowerPrecision | AutocastLists.CpuLowerPrecision;
    private const AutocastLists CudaFp32 = AutocastLists.CudaFp32;
    private const AutocastLists CpuFp32 = AutocastLists.CpuFp32;
    private const AutocastLists Loss = AutocastLists.CudaFp32 | AutocastLists.CpuFp32;
    private const AutocastLists Ours = AutocastLists.None;

    public static readonly IReadOnlyList<OpRow> All = new OpRow[]
    {
        // Lower precision: GEMMs, convolutions, attention.
        new("linear", Low, F, BothLow, "GEMM"),
        new("matmul", Low, TX, BothLow, "GEMM"),
        new("mm", Low, TX, BothLow, "GEMM"),
        new("mv", Low, TX, CudaLow, "GEMV"),
        new("bmm", Low, TX, BothLow, "batched GEMM"),
        new("addmm", Low, TX, BothLow, "GEMM + add"),
        new("addmv", Low, TX, CudaLow, "GEMV + add"),
        new("addr", Low, TX, CudaLow, "outer product + add"),
        new("addbmm", Low, TX, BothLow, "batched GEMM, reduced"),
        new("baddbmm", Low, TX, BothLow, "batched GEMM + add"),
        new("chain_matmul", Low, T, CudaLow, "GEMM chain"),
        new("multi_dot", Low, L, CudaLow, "linalg_multi_dot"),
        new("vecdot", Low, L, BothLow, "linalg_vecdot"),
        new("einsum", Low, T, CudaLow, "contraction"),
        new("conv1d", Low, F, BothLow, "convolution"),
        new("conv2d", Low, F, BothLow, "convolution"),
        new("conv3d", Low, F, BothLow, "convolution"),
        new("conv_transpose1d", Low, F, BothLow, "transposed convolution"),
        new("conv_transpose2d", Low, F, BothLow, "transposed convolution"),
        new("conv_transpose3d", Low, F, BothLow, "transposed convolution"),
        new("prelu", Low, FX, BothLow, "PyTorch lists prelu as lower precision"),
        new("scaled_dot_product_attention", Low, F, BothLow, "fused attention"),

        // FP32: overflow- or cancellation-prone math, norms, losses.
        new("acos", Fp32, TX, CudaFp32, "fp32 list"),
        new("asin", Fp32, TX, CudaFp32, "fp32 list"),
        new("cosh", Fp32, TX, CudaFp32, "fp32 list"),
        new("erfinv", Fp32, TXS, CudaFp32, "fp32 list"),
        new("exp", Fp32, TX, CudaFp32, "overflows in 16 bits"),
        new("expm1", Fp32, TXS, CudaFp32, "fp32 list"),
        new("log", Fp32, TX, CudaFp32, "fp32 list"),
        new("log10", Fp32, TX, CudaFp32, "fp32 list"),
        new("log2", Fp32, TX, CudaFp32, "fp32 list"),
        new("log1p", Fp32, TX, CudaFp32, "fp32 list"),
        new("reciprocal", Fp32, TX, CudaFp32, "fp32 list"),
        new("rsqrt", Fp32, TX, CudaFp32, "fp32 list"),
        new("sinh", Fp32, TX, CudaFp32, "fp32 list"),
        new("tan", Fp32, TX, CudaFp32, "fp32 list"),
        new("pow", Fp32, TX, CudaFp32, "fp32 list"),
        new("softplus", Fp32, FX, CudaFp32, "fp32 list"),
        new("layer_norm", Fp32, F, CudaFp32, "variance is precision-sensitive"),
        new("group_norm", Fp32, F, CudaFp32, "variance is precision-sensitive"),
        new("batch_norm", Fp32, F, Ours, "running statistics stay FP32"),
        new("instance_norm", Fp32, F, Ours, "variance is precision-sensitive (norms, as batch_norm)"),
        new("norm", Fp32, TXL, CudaFp32, "frobenius/nuclear/vector norms"),
        new("vector_norm", Fp32, L, CudaFp32, "fp32 with optional dtype"),
        new("matrix_norm", Fp32, L, CudaFp32, "fp32 with optional dtype"),
        new("cosine_similarity", Fp32, F, CudaFp32, "fp32 list"),
        new("dist", Fp32, TX, CudaFp32, "fp32 list"),
        new("cdist", Fp32, T, CudaFp32, "fp32 list"),
        new("renorm", Fp32, TX, CudaFp32, "fp32 list"),
        new("logsumexp", Fp32, TX, CudaFp32, "fp32 list"),
        new("interpolate", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("upsample", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("softmax", Fp32, OpContainers.Torch | OpContainers.Functional | OpContainers.Tensor | OpContainers.Special, CudaFp32, "fp32 with optional dtype"),
        new("log_softmax", Fp32, OpContainers.Functional | OpContainers.Tensor | OpContainers.Special, CudaFp32, "fp32 with optional dtype"),
        new("prod", Fp32, TX, CudaFp32, "fp32 with optional dtype"),
        new("cumprod", Fp32, TX, CudaFp32, "fp32 with optional dtype"),
        new("cumsum", Fp32, TX, CudaFp32, "fp32 with optional dtype"),
        new("sum", Fp32, TX, CudaFp32, "fp32 with optional dtype"),
        new("cross_entropy", Fp32, F, Loss, "loss (log_softmax + nll_loss)", isLoss: true),
        new("nll_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("poisson_nll_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("gaussian_nll_loss", Fp32, F, CpuFp32, "loss (CPU list: all losses)", isLoss: true),
        new("cosine_embedding_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("hinge_embedding_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("kl_div", Fp32, F, Loss, "loss", isLoss: true),
        new("l1_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("smooth_l1_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("huber_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("mse_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("margin_ranking_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("soft_margin_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("multilabel_soft_margin_loss", Fp32, F, CpuFp32, "loss (CPU list: all losses)", isLoss: true),
        new("triplet_margin_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("multi_margin_loss", Fp32, F, Loss, "loss", isLoss: true),
        new("binary_cross_entropy_with_logits", Fp32, F, Loss, "loss", isLoss: true),
        new("binary_cross_entropy", Fp32, F, AutocastLists.CudaBanned | CpuFp32, "a choice: PyTorch's CUDA autocast refuses it (a 16-bit sigmoid output saturates), its CPU list computes it in FP32, and so does this catalogue on every device; the with-logits form stays preferred (log-sigmoid fused, no saturated probabilities)", isLoss: true),
        new("ctc_loss", Fp32, F, CpuFp32, "loss (CPU list: all losses)", isLoss: true),
        new("multi_label_margin_loss", Fp32, F, Loss, "loss (PyTorch's multilabel_margin_loss)", isLoss: true),

        // FP32, from PyTorch's CPU fp32 list: no 16-bit CPU kernel, or precision-sensitive.
        new("upsample_nearest", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("upsample_bilinear", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("upsample_nearest1d", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("upsample_nearest2d", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("upsample_nearest3d", Fp32, F, CudaFp32, "upsample_* in the fp32 list"),
        new("avg_pool3d", Fp32, F, CpuFp32, "CPU fp32 list (pooling 3d)"),
        new("max_pool3d", Fp32, F, CpuFp32, "CPU fp32 list (pooling 3d)"),
        new("max_pool3d_with_indices", Fp32, F, CpuFp32, "as max_pool3d"),
        new("adaptive_avg_pool3d", Fp32, F, CpuFp32, "CPU fp32 list (pooling 3d)"),
        new("adaptive_max_pool3d", Fp32, F, CpuFp32, "CPU fp32 list (pooling 3d)"),
        new("adaptive_max_pool3d_with_indices", Fp32, F, CpuFp32, "as adaptive_max_pool3d"),
        new("fractional_max_pool2d", Fp32, F, CpuFp32, "CPU fp32 list"),
        new("fractional_max_pool3d", Fp32, F, CpuFp32, "CPU fp32 list"),
        new("max_unpool2d", Fp32, F, CpuFp32, "CPU fp32 list (indices stay integers)"),
        new("max_unpool3d", Fp32, F, CpuFp32, "CPU fp32 list (indices stay integers)"),
        new("fft_", Fp32, Fft, CpuFp32, "fft_fft (TorchSharp's name for torch.fft.fft)"),
        new("ifft", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("fft2", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("ifft2", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("fftn", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("ifftn", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("rfft", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("irfft", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("rfft2", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("irfft2", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("rfftn", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("irfftn", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("hfft", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("ihfft", Fp32, Fft, CpuFp32, "CPU fp32 list"),
        new("stft", Fp32, TX, CpuFp32, "CPU fp32 list (the window too)"),
        new("trace", Fp32, TX, CpuFp32, "CPU fp32 list"),
        new("polar", Fp32, T, CpuFp32, "CPU fp32 list"),
        new("quantile", Fp32, TX, CpuFp32, "CPU fp32 list (q too: it must match the input)"),
        new("nanquantile", Fp32, TX, CpuFp32, "CPU fp32 list (q too: it must match the input)"),
        new("view_as_complex", Fp32, TX, CpuFp32, "CPU fp32 list (complex64 result)"),
        new("inverse", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("pinverse", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("cholesky", Fp32, TXL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("cholesky_inverse", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("cholesky_solve", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("lu", Fp32, TL, CpuFp32, "_lu_with_info in the CPU fp32 list"),
        new("lu_solve", Fp32, T, CpuFp32, "CPU fp32 list (pivots stay integers; linalg.lu_solve takes out=, so it is not cast)"),
        new("qr", Fp32, TL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("svd", Fp32, TL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("eig", Fp32, TL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("lstsq", Fp32, TL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("matrix_rank", Fp32, TL, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("geqrf", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("orgqr", Fp32, T, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("ormqr", Fp32, TX, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("cond", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("solve", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("cholesky_ex", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("svdvals", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("eigvals", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("eigvalsh", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("eigh", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("inv", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("inv_ex", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("pinv", Fp32, L, Ours, "as pinverse (CPU fp32 list): the same decomposition"),
        new("householder_product", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("tensorinv", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),
        new("tensorsolve", Fp32, L, CpuFp32, "CPU fp32 list (linalg decomposition)"),

        // Promote to the widest floating input.
        new("addcdiv", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("addcmul", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("atan2", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("bilinear", Promote, F, AutocastLists.CudaPromote, "promote list"),
        new("cross", Promote, TXL, AutocastLists.CudaPromote, "promote list"),
        new("dot", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("vdot", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("grid_sample", Promote, F, AutocastLists.CudaPromote, "grid_sampler in the promote list"),
        new("tensordot", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("scatter_add", Promote, TX, AutocastLists.CudaPromote, "promote list"),
        new("cat", Promote, T, AutocastLists.CpuPromote, "CPU promote list"),
        new("stack", Promote, T, AutocastLists.CpuPromote, "CPU promote list"),
        new("index_copy", Promote, TX, AutocastLists.CpuPromote, "CPU promote list (self and source; the index stays an integer)"),
        new("where", Promote, TX, Ours, "mixed-dtype branches"),
    };
}
