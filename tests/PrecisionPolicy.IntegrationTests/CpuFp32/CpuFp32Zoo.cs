using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.CpuFp32;

/// <summary>
/// One call per row taken from PyTorch's CPU fp32 list (and index_copy's promote row), plus the layers
/// whose module rows came with it: each receives BF16 tensors under a BF16 policy.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class CpuFp32Zoo : Module<Tensor, Tensor>
{
    private readonly Upsample upsample = Upsample(scale_factor: new[] { 2.0, 2.0 });
    private readonly AvgPool3d avgPool3d = AvgPool3d(2);
    private readonly MaxPool3d maxPool3d = MaxPool3d(2);
    private readonly AdaptiveAvgPool3d adaptiveAvgPool3d = AdaptiveAvgPool3d(1);
    private readonly FractionalMaxPool2d fractionalMaxPool2d = FractionalMaxPool2d(2, output_ratio: 0.5);
    private readonly FractionalMaxPool3d fractionalMaxPool3d = FractionalMaxPool3d(2, output_ratio: 0.5);
    private readonly ReflectionPad1d reflectionPad1d = ReflectionPad1d(1);
    private readonly ReflectionPad2d reflectionPad2d = ReflectionPad2d(1);
    private readonly ReflectionPad3d reflectionPad3d = ReflectionPad3d(1);
    private readonly ReplicationPad1d replicationPad1d = ReplicationPad1d(1);
    private readonly ReplicationPad2d replicationPad2d = ReplicationPad2d(1);
    private readonly ReplicationPad3d replicationPad3d = ReplicationPad3d(1);

    public CpuFp32Zoo() : base(nameof(CpuFp32Zoo)) => RegisterComponents();

    public override Tensor forward(Tensor x) => x;

    // upsampling and pooling
    public Tensor UpsampleBilinear(Tensor x) => functional.upsample_bilinear(x, new long[] { 4, 4 });
    public Tensor UpsampleNearest1d(Tensor x) => functional.upsample_nearest1d(x, 4, null);
    public Tensor UpsampleNearest2d(Tensor x) => functional.upsample_nearest2d(x, new long[] { 4, 4 });
    public Tensor UpsampleNearest3d(Tensor x) => functional.upsample_nearest3d(x, new long[] { 4, 4, 4 });
    public Tensor AvgPool3dOp(Tensor x) => functional.avg_pool3d(x, new long[] { 2, 2, 2 });
    public Tensor MaxPool3dOp(Tensor x) => functional.max_pool3d(x, new long[] { 2, 2, 2 });
    public Tensor MaxPool3dWithIndices(Tensor x) => functional.max_pool3d_with_indices(x, new long[] { 2, 2, 2 }).output;
    public Tensor AdaptiveAvgPool3dOp(Tensor x) => functional.adaptive_avg_pool3d(x, 1);
    public Tensor FractionalMaxPool2dOp(Tensor x) => functional.fractional_max_pool2d(x, 2, output_ratio: 0.5);
    public Tensor FractionalMaxPool3dOp(Tensor x) => functional.fractional_max_pool3d(x, 2, output_ratio: 0.5);
    public Tensor MaxUnpool2d(Tensor x, Tensor indices) => functional.max_unpool2d(x, indices, new long[] { 2, 2 });
    public Tensor MaxUnpool3d(Tensor x, Tensor indices) => functional.max_unpool3d(x, indices, new long[] { 2, 2, 2 });

    // fft
    public Tensor Fft(Tensor x) => fft.fft_(x);
    public Tensor Ifft(Tensor x) => fft.ifft(x);
    public Tensor Fft2(Tensor x) => fft.fft2(x);
    public Tensor Ifft2(Tensor x) => fft.ifft2(x);
    public Tensor Fftn(Tensor x) => fft.fftn(x);
    public Tensor Ifftn(Tensor x) => fft.ifftn(x);
    public Tensor Rfft(Tensor x) => fft.rfft(x);
    public Tensor Irfft(Tensor x) => fft.irfft(x);
    public Tensor Rfft2(Tensor x) => fft.rfft2(x);
    public Tensor Irfft2(Tensor x) => fft.irfft2(x);
    public Tensor Rfftn(Tensor x) => fft.rfftn(x);
    public Tensor Irfftn(Tensor x) => fft.irfftn(x);
    public Tensor Hfft(Tensor x) => fft.hfft(x);
    public Tensor Ihfft(Tensor x) => fft.ihfft(x);
    public Tensor Stft(Tensor x, Tensor window) => x.stft(8, window: window, return_complex: true);

    // reductions and complex construction
    public Tensor Trace(Tensor x) => x.trace();
    public Tensor Polar(Tensor abs, Tensor angle) => torch.polar(abs, angle);
    public Tensor Quantile(Tensor x, Tensor q) => x.quantile(q);
    public Tensor Nanquantile(Tensor x, Tensor q) => torch.nanquantile(x, q);
    public Tensor ViewAsComplex(Tensor x) => torch.view_as_complex(x);

    // linalg decompositions
    public Tensor Inverse(Tensor a) => a.inverse();
    public Tensor Pinverse(Tensor a) => torch.pinverse(a);
    public Tensor Cholesky(Tensor a) => linalg.cholesky(a);
    public Tensor CholeskyInverse(Tensor l) => l.cholesky_inverse();
    public Tensor CholeskySolve(Tensor b, Tensor l) => b.cholesky_solve(l);
    public Tensor Lu(Tensor a) => torch.lu(a).A_LU;
#pragma warning disable CS0618 // torch.lu_solve is deprecated in TorchSharp, still in PyTorch's CPU fp32 list
    public Tensor LuSolve(Tensor b, Tensor lu, Tensor pivots) => torch.lu_solve(b, lu, pivots);
#pragma warning restore CS0618
    public Tensor Qr(Tensor a) => linalg.qr(a).Q;
    public Tensor Svd(Tensor a) => linalg.svd(a).S;
    public Tensor Eig(Tensor a) => linalg.eig(a).Item1;
    public Tensor Lstsq(Tensor a, Tensor b) => linalg.lstsq(a, b).Solution;
    public Tensor MatrixRank(Tensor a) => linalg.matrix_rank(a);
    public Tensor Geqrf(Tensor a) => a.geqrf().a;
    public Tensor Orgqr(Tensor a, Tensor tau) => torch.orgqr(a, tau);
    public Tensor Ormqr(Tensor a, Tensor tau, Tensor other) => a.ormqr(tau, other);
    public Tensor Cond(Tensor a) => linalg.cond(a);
    public Tensor Solve(Tensor a, Tensor b) => linalg.solve(a, b);
    public Tensor CholeskyEx(Tensor a) => linalg.cholesky_ex(a).L;
    public Tensor Svdvals(Tensor a) => linalg.svdvals(a);
    public Tensor Eigvals(Tensor a) => linalg.eigvals(a);
    public Tensor Eigvalsh(Tensor a) => linalg.eigvalsh(a);
    public Tensor Eigh(Tensor a) => linalg.eigh(a).Item1;
    public Tensor Inv(Tensor a) => linalg.inv(a);
    public Tensor InvEx(Tensor a) => linalg.inv_ex(a).L;
    public Tensor Pinv(Tensor a) => linalg.pinv(a);
    public Tensor HouseholderProduct(Tensor a, Tensor tau) => linalg.householder_product(a, tau);
    public Tensor Tensorinv(Tensor a) => linalg.tensorinv(a, 1);
    public Tensor Tensorsolve(Tensor a, Tensor b) => linalg.tensorsolve(a, b, System.Array.Empty<long>());

    // losses
    public Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
        functional.ctc_loss(logProbs, targets, inputLengths, targetLengths);
    public Tensor MultiLabelMarginLoss(Tensor input, Tensor target) => functional.multi_label_margin_loss(input, target);

    // promote
    public Tensor IndexCopy(Tensor x, Tensor index, Tensor source) => x.index_copy(0, index, source);

    // module rows
    public Tensor UpsampleModule(Tensor x) => upsample.call(x);
    public Tensor AvgPool3dModule(Tensor x) => avgPool3d.call(x);
    public Tensor MaxPool3dModule(Tensor x) => maxPool3d.call(x);
    public Tensor AdaptiveAvgPool3dModule(Tensor x) => adaptiveAvgPool3d.call(x);
    public Tensor FractionalMaxPool2dModule(Tensor x) => fractionalMaxPool2d.call(x);
    public Tensor FractionalMaxPool3dModule(Tensor x) => fractionalMaxPool3d.call(x);
    public Tensor ReflectionPad1dModule(Tensor x) => reflectionPad1d.call(x);
    public Tensor ReflectionPad2dModule(Tensor x) => reflectionPad2d.call(x);
    public Tensor ReflectionPad3dModule(Tensor x) => reflectionPad3d.forward(x);
    public Tensor ReplicationPad1dModule(Tensor x) => replicationPad1d.call(x);
    public Tensor ReplicationPad2dModule(Tensor x) => replicationPad2d.call(x);
    public Tensor ReplicationPad3dModule(Tensor x) => replicationPad3d.forward(x);
}
