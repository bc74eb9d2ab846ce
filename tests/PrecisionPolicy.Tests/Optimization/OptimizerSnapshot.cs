using System.IO;
using System.Linq;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// Every byte of state a master-weight optimizer and its model hold: masters, working weights, the
/// inner optimizer's serialized state (moments, step counts, hyperparameters), the scaler and the
/// FP8 companion's serialized state. Two snapshots are equal only when nothing changed.
/// </summary>
internal sealed record OptimizerSnapshot(byte[][] Masters, byte[][] Working, byte[] Inner, LossScalerState Scaler, byte[] Fp8)
{
    public static OptimizerSnapshot Of(MasterWeightOptimizer optimizer, nn.Module model, Fp8Context? fp8 = null)
    {
        using var scope = NewDisposeScope();
        var masters = optimizer.ParameterNames.Select(n => Bytes(optimizer.MasterOf(n))).ToArray();
        var working = model.parameters().Select(p => Bytes(p)).ToArray();
        using var inner = new MemoryStream();
        using (var writer = new BinaryWriter(inner, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.Inner.save_state_dict(writer);
        using var context = new MemoryStream();
        if (fp8 is not null)
            using (var writer = new BinaryWriter(context, System.Text.Encoding.UTF8, leaveOpen: true)) fp8.Save(writer);
        return new OptimizerSnapshot(masters, working, inner.ToArray(), optimizer.Scaler.State, context.ToArray());
    }

    /// <summary>The raw bytes of a tensor's elements, whatever its dtype.</summary>
    public static byte[] Bytes(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return cpu.bytes.ToArray();
    }

    public void AssertEqual(OptimizerSnapshot other)
    {
        Xunit.Assert.Equal(Masters, other.Masters);
        Xunit.Assert.Equal(Working, other.Working);
        Xunit.Assert.Equal(Inner, other.Inner);
        Xunit.Assert.Equal(Scaler, other.Scaler);
        Xunit.Assert.Equal(Fp8, other.Fp8);
    }
}
