using System;
using System.IO;
using System.Linq;
using PrecisionPolicy.Lora;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>Adapters-only files, the NF4 base through the state dict, and adapters refused on another base.</summary>
public sealed class QloraCheckpointTests
{
    private const int D = 128;

    private static QloraBlock Model(int seed)
    {
        manual_seed(seed);
        var model = new QloraBlock(D).ApplyPrecisionPolicy();
        model.AttachLora(new LoraOptions { Rank = 4, Dropout = 0, TargetModules = ["q", "v"] });
        return model;
    }

    private static void Train(QloraBlock model)
    {
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
        manual_seed(9);
        for (var i = 0; i < 3; i++) model.TrainStep(optimizer, randn(8, D), randn(8, D), (o, t) => nn.functional.mse_loss(o, t));
    }

    private static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    [Fact]
    public void Adapters_saved_alone_load_onto_the_same_base_bit_for_bit()
    {
        using var trained = Model(1);
        Train(trained);
        using var stream = new MemoryStream();
        LoraAdapterFile.Save(trained, stream);
        stream.Position = 0;

        using var fresh = Model(1);
        LoraAdapterFile.Load(fresh, stream);
        foreach (var (a, b) in trained.LoraLayers().Zip(fresh.LoraLayers()))
        {
            Assert.True(Same(a.Down.weight!, b.Down.weight!));
            Assert.True(Same(a.Up.weight!, b.Up.weight!));
        }
        var x = randn(2, D);
        using (no_grad()) Assert.True(Same(trained.call(x), fresh.call(x)));
        // Only the adapters: far smaller than the base.
        Assert.True(stream.Length < 2 * D * D / 2, $"{stream.Length} bytes");
    }

    [Fact]
    public void Adapters_are_refused_on_another_base_and_nothing_changes()
    {
        using var trained = Model(1);
        Train(trained);
        using var stream = new MemoryStream();
        LoraAdapterFile.Save(trained, stream);
        stream.Position = 0;

        using var other = Model(2);
        var before = other.LoraLayers().Select(l => l.Down.weight!.clone()).ToArray();
        var e = Assert.Throws<InvalidOperationException>(() => LoraAdapterFile.Load(other, stream));
        Assert.Contains("trained on another base", e.Message);
        Assert.All(other.LoraLayers().Zip(before), p => Assert.True(Same(p.First.Down.weight!, p.Second)));
        Assert.Throws<InvalidDataException>(() => LoraAdapterFile.Load(other, new MemoryStream(new byte[] { 1, 2, 3 })));
    }

    [Fact]
    public void The_nf4_base_comes_back_bit_for_bit_through_the_state_dict()
    {
        using var trained = Model(1);
        Train(trained);
        var path = Path.Combine(Path.GetTempPath(), $"qlora-{Guid.NewGuid():N}.bin");
        try
        {
            trained.save(path);
            using var other = Model(2);
            other.load(path);
            var saved = trained.named_buffers().ToDictionary(b => b.name, b => b.buffer);
            var loaded = other.named_buffers().ToList();
            Assert.Contains(loaded, b => b.name == "q.nf4.codes" && b.buffer.dtype == ScalarType.Byte);
            Assert.All(loaded, b => Assert.True(Same(saved[b.name], b.buffer), b.name));
            var x = randn(2, D);
            using (no_grad()) Assert.True(Same(trained.call(x), other.call(x)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
