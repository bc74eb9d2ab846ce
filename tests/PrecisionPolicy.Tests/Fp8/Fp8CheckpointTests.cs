using System.IO;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8CheckpointTests
{
    private static byte[] Saved(Fp8Context context)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer)) context.Save(writer);
        return buffer.ToArray();
    }

    private static void LoadInto(Fp8Context context, byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        context.Load(reader);
    }

    /// <summary>A context with forward and backward states, several steps in, scales not powers of two.</summary>
    private static Fp8Context Trained(Fp8Recipe recipe)
    {
        var context = new Fp8Context(recipe);
        for (var step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            using (context.Enter())
            {
                var x = (randn(8, generator: new Generator((ulong)step)) * (step + 1.7f)).requires_grad_();
                var w = randn(8, generator: new Generator(100 + (ulong)step)) * 3.3f;
                (Fp8Autocast.Operand(x, "fc1#0") * Fp8Autocast.Operand(w, "fc1#1") * 1e3f).sum().backward();
            }
            context.OnStepEnd(new StepOutcome(true, 1, 1, null, 1));
        }
        return context;
    }

    [Fact]
    public void Save_then_load_gives_bitwise_identical_state()
    {
        var recipe = new Fp8Recipe(amaxHistoryLength: 3);
        var original = Trained(recipe);
        var bytes = Saved(original);
        var restored = new Fp8Context(recipe);
        LoadInto(restored, bytes);
        Assert.Equal(bytes, Saved(restored));
        Assert.Equal(original.Sites, restored.Sites);
        Assert.Equal(original.Steps, restored.Steps);
        Assert.Equal(3, original.Sites.Count); // fc1#0 forward and backward, fc1#1 forward (w needs no grad)
    }

    [Fact]
    public void Loading_state_saved_under_another_recipe_is_refused()
    {
        var bytes = Saved(Trained(new Fp8Recipe(amaxHistoryLength: 3)));
        var other = new Fp8Context(new Fp8Recipe(amaxHistoryLength: 4));
        var error = Assert.Throws<InvalidDataException>(() => LoadInto(other, bytes));
        Assert.Contains("amax history 3", error.Message);
    }

    [Fact]
    public void Site_report_lists_format_scale_amax_and_history_bytes()
    {
        var sites = Trained(new Fp8Recipe(amaxHistoryLength: 3)).Sites;
        Assert.Equal(("fc1#0", Fp8Direction.Forward, Fp8Format.E4M3), (sites[0].Site, sites[0].Direction, sites[0].Format));
        Assert.Equal(("fc1#0", Fp8Direction.Backward, Fp8Format.E5M2), (sites[1].Site, sites[1].Direction, sites[1].Format));
        Assert.Equal("fc1#1", sites[2].Site);
        foreach (var s in sites)
        {
            Assert.Equal(12, s.HistoryBytes);
            Assert.Equal(Fp8Quantizer.MaxOf(s.Format) / s.Amax, s.Scale);
        }
    }
}
