using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Soak;

/// <summary>
/// A two-layer MLP cast the way generated code casts an <c>[Autocast]</c> class (BF16, FP16, or FP8
/// operands), with one hook for the soak: <see cref="PoisonActivation"/> puts an inf or NaN into
/// one hidden activation of the next forward.
/// </summary>
internal sealed class SoakMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Precision precision;
    private readonly ScalarType compute;

    public SoakMlp(int inputs, int hidden, int outputs, Precision precision) : base(nameof(SoakMlp))
    {
        fc1 = nn.Linear(inputs, hidden);
        fc2 = nn.Linear(hidden, outputs);
        this.precision = precision;
        compute = AutocastDtypes.ComputeDtype(precision);
        RegisterComponents();
        fc1.to(compute);
        fc2.to(compute);
    }

    /// <summary>Element (row, column) of the hidden layer and the value it becomes in the next forward, or null.</summary>
    public (long Row, long Column, float Value)? PoisonActivation { get; set; }

    public override Tensor forward(Tensor x)
    {
        var h = functional.relu(Linear(fc1, x, "fc1"));
        if (PoisonActivation is var (row, column, value))
        {
            // After the ReLU, which would turn -inf into 0. inf + x = inf, NaN + x = NaN: the activation
            // is poisoned and the graph stays intact, so backward carries it into every gradient.
            var mask = zeros(h.shape, h.dtype, h.device);
            mask[row, column] = tensor(value, h.dtype);
            h = h + mask;
            PoisonActivation = null;
        }
        return Autocast.Float32(Linear(fc2, h, "fc2"));
    }

    private Tensor Linear(Linear layer, Tensor x, string site) =>
        precision == Precision.FP8
            ? Autocast.LowPrecisionResult(
                functional.linear(Fp8Autocast.Operand(x, site + "#0"), Fp8Autocast.Operand(layer.weight!, site + "#1"), Autocast.LowPrecisionOptional(layer.bias, compute)),
                compute)
            : Autocast.LowPrecisionResult(
                functional.linear(Autocast.LowPrecision(x, compute), Autocast.LowPrecision(layer.weight!, compute), Autocast.LowPrecisionOptional(layer.bias, compute)),
                compute);
}
