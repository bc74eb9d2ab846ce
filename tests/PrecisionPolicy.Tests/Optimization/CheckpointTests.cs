using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using PrecisionPolicy.Tests.Fp8;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>Checkpoints load whole or not at all: every refused load leaves every byte of state as it was.</summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class CheckpointTests
{
    private sealed record Trained(Fp8Mlp Model, Fp8Context Context, MasterWeightOptimizer Optimizer) : IDisposable
    {
        public OptimizerSnapshot Snapshot() => OptimizerSnapshot.Of(Optimizer, Model, Context);

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    private static readonly (Tensor X, Tensor Y) Data = Fixtures.Regression(64, 16, 4, seed: 11);

    /// <summary>An FP8 MLP with Adam and dynamic scaling trained a few steps, one of them skipped, so every part of the state is non-trivial.</summary>
    private static Trained Train(int seed, int steps, int hidden = 32, int history = 4, Func<System.Collections.Generic.IEnumerable<Parameter>, OptimizerHelper>? factory = null)
    {
        manual_seed(seed);
        var model = new Fp8Mlp(16, hidden, 4);
        var context = Fp8Context.Attach(model, new Fp8Recipe(amaxHistoryLength: history));
        var optimizer = new MasterWeightOptimizer(model, factory ?? (ps => optim.Adam(ps, 1e-2)),
            new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { GrowthInterval = 2 } });
        optimizer.AddCompanion(context);
        for (var i = 0; i < steps; i++) Step(model, optimizer, poison: i == 1);
        return new Trained(model, context, optimizer);
    }

    private static float Step(Fp8Mlp model, MasterWeightOptimizer optimizer, bool poison = false)
    {
        using var scope = NewDisposeScope();
        var loss = functional.mse_loss(model.call(Data.X), Data.Y);
        optimizer.Step(poison ? loss * float.NaN : loss);
        return loss.item<float>();
    }

    private static byte[] Checkpoint(MasterWeightOptimizer optimizer)
    {
        using var buffer = new MemoryStream();
        optimizer.Save(buffer);
        return buffer.ToArray();
    }

    /// <summary>Loading <paramref name="bytes"/> into <paramref name="target"/> throws and changes no byte of its state.</summary>
    private static InvalidDataException Refused(Trained target, byte[] bytes)
    {
        var before = target.Snapshot();
        var error = Assert.Throws<InvalidDataException>(() => target.Optimizer.Load(new MemoryStream(bytes)));
        target.Snapshot().AssertEqual(before);
        Assert.Contains("Nothing was loaded", error.Message, StringComparison.OrdinalIgnoreCase);
        return error;
    }

    /// <summary>Section name → (payload offset, length), read the way the format doc describes the table.</summary>
    private static (int HeaderLength, System.Collections.Generic.Dictionary<string, (int Offset, int Length)> Sections) Table(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        Assert.Equal("PPMWCKPT"u8.ToArray(), reader.ReadBytes(8));
        Assert.Equal(2, reader.ReadInt32());
        var entries = Enumerable.Range(0, reader.ReadInt32()).Select(_ => (Name: reader.ReadString(), Length: (int)reader.ReadInt64())).ToArray();
        var offset = (int)reader.BaseStream.Position;
        var headerLength = offset;
        var sections = new System.Collections.Generic.Dictionary<string, (int, int)>();
        foreach (var (name, length) in entries)
        {
            sections[name] = (offset, length);
            offset += length;
        }
        Assert.Equal(bytes.Length, offset + 32);
        return (headerLength, sections);
    }

    /// <summary>Recomputes the trailing SHA-256, as a foreign writer producing well-formed but wrong content would.</summary>
    private static byte[] Resigned(byte[] bytes)
    {
        var copy = bytes.ToArray();
        SHA256.HashData(copy.AsSpan(0, copy.Length - 32)).CopyTo(copy, copy.Length - 32);
        return copy;
    }

    [Fact]
    public void Save_and_load_through_streams_continue_bitwise_including_a_non_seekable_stream_and_an_offset()
    {
        using var straight = Train(seed: 1, steps: 7);
        var expected = Enumerable.Range(0, 3).Select(_ => Step(straight.Model, straight.Optimizer)).ToArray();

        using var source = Train(seed: 1, steps: 7);
        var bytes = Checkpoint(source.Optimizer);
        foreach (var stream in new Stream[] { new NonSeekable(bytes), new MemoryStream(new byte[] { 1, 2, 3 }.Concat(bytes).ToArray()) { Position = 3 } })
        {
            using var resumed = Train(seed: 2, steps: 3);
            resumed.Optimizer.Load(stream);
            Assert.Equal(source.Snapshot().Masters, resumed.Snapshot().Masters);
            Assert.Equal(7, resumed.Context.Steps);
            Assert.Equal(expected, Enumerable.Range(0, 3).Select(_ => Step(resumed.Model, resumed.Optimizer)).ToArray());
            Assert.Equal(straight.Snapshot().Inner, resumed.Snapshot().Inner);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.05)]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.75)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    [InlineData(1.0)] // all but the last byte
    public void A_truncated_checkpoint_is_refused_and_changes_nothing(double fraction)
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        using var target = Train(seed: 2, steps: 3);
        var length = Math.Min((int)(bytes.Length * fraction), bytes.Length - 1);
        var error = Refused(target, bytes[..length]);
        Assert.Contains(length < 8 ? "is not a PrecisionPolicy checkpoint" : "truncated", error.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused_through_the_path_overload_too()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pp-{Guid.NewGuid():N}.ckpt");
        try
        {
            using var source = Train(seed: 1, steps: 4);
            source.Optimizer.Save(path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
            using var target = Train(seed: 2, steps: 3);
            var before = target.Snapshot();
            var error = Assert.Throws<InvalidDataException>(() => target.Optimizer.Load(path));
            target.Snapshot().AssertEqual(before);
            Assert.Contains(path, error.Message);
            Assert.Contains("truncated", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_random_body_under_a_valid_header_is_refused_as_damaged_and_changes_nothing(int seed)
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        var (headerLength, _) = Table(bytes);
        new Random(seed).NextBytes(bytes.AsSpan(headerLength));
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("is damaged: its SHA-256 checksum does not match", Refused(target, bytes).Message);
    }

    [Theory]
    [InlineData("masters")]
    [InlineData("optimizer")]
    [InlineData("scaler")]
    [InlineData("companion:fp8:Fp8Mlp")]
    public void One_flipped_bit_in_any_section_is_refused_as_damaged(string section)
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        var (offset, length) = Table(bytes).Sections[section];
        bytes[offset + length / 2] ^= 0x10;
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("is damaged", Refused(target, bytes).Message);
    }

    [Fact]
    public void Foreign_files_are_refused_by_their_first_bytes()
    {
        using var target = Train(seed: 2, steps: 3);
        using var module = new MemoryStream();
        target.Model.save(module); // a TorchSharp state dict: not an optimizer checkpoint
        Assert.Contains("is not a PrecisionPolicy checkpoint", Refused(target, module.ToArray()).Message);
        Assert.Contains("is not a PrecisionPolicy checkpoint", Refused(target, "{\"weights\": []}"u8.ToArray()).Message);

        using var version1 = new MemoryStream();
        using (var writer = new BinaryWriter(version1, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("PrecisionPolicy.MasterWeights");
            writer.Write(1);
        }
        Assert.Contains("checkpoint format 1", Refused(target, version1.ToArray()).Message);
    }

    [Fact]
    public void A_checkpoint_of_a_newer_format_is_refused_with_its_version()
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        BitConverter.GetBytes(3).CopyTo(bytes, 8);
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("format 3; this build reads format 2", Refused(target, bytes).Message);
    }

    [Fact]
    public void Another_models_checkpoint_is_refused_naming_the_first_difference()
    {
        using var other = Train(seed: 1, steps: 4, hidden: 8);
        using var target = Train(seed: 2, steps: 3);
        var error = Refused(target, Checkpoint(other.Optimizer));
        Assert.Contains("other parameters", error.Message);
        Assert.Contains("saved fc1.weight:BFloat16[8,16], now fc1.weight:BFloat16[32,16]", error.Message);
    }

    [Fact]
    public void Another_optimizers_checkpoint_is_refused()
    {
        using var sgd = Train(seed: 1, steps: 4, factory: ps => optim.SGD(ps, 0.1, momentum: 0.9));
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("saved a SGD optimizer with the Flat layout, now Adam", Refused(target, Checkpoint(sgd.Optimizer)).Message);
    }

    [Fact]
    public void Fp8_state_of_another_recipe_is_refused_before_masters_or_optimizer_state_change()
    {
        // The FP8 section comes last: the format-1 loader had overwritten masters and Adam state by the time it failed here.
        using var source = Train(seed: 1, steps: 4, history: 3);
        using var target = Train(seed: 2, steps: 3, history: 4);
        var error = Refused(target, Checkpoint(source.Optimizer));
        Assert.Contains("does not fit this optimizer", error.Message);
        Assert.Contains("amax history 3", error.Message);
    }

    [Fact]
    public void A_checkpoint_without_the_fp8_state_of_this_optimizer_is_refused()
    {
        using var plain = Fixtures.Mlp(ScalarType.BFloat16, seed: 1); // the parameters of Train's FP8 model, without its FP8 context
        using var optimizer = new MasterWeightOptimizer(plain, ps => optim.Adam(ps, 1e-2),
            new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { GrowthInterval = 2 } });
        optimizer.Step(functional.mse_loss(plain.call(Data.X), Data.Y));
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("no state for companion(s) 'fp8:Fp8Mlp'", Refused(target, Checkpoint(optimizer)).Message);
    }

    [Fact]
    public void Well_formed_but_wrong_optimizer_state_is_caught_by_staging_before_anything_changes()
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        var (offset, _) = Table(bytes).Sections["optimizer"];
        Assert.Equal("\u0004Adam"u8.ToArray(), bytes[offset..(offset + 5)]); // TorchSharp writes the optimizer's type name first
        bytes[offset + 4] = (byte)'x';
        using var target = Train(seed: 2, steps: 3);
        var error = Refused(target, Resigned(bytes));
        Assert.Contains("its optimizer section does not fit this optimizer (Adam)", error.Message);
    }

    [Fact]
    public void An_impossible_scaler_state_is_refused()
    {
        using var source = Train(seed: 1, steps: 4);
        var bytes = Checkpoint(source.Optimizer);
        var (offset, _) = Table(bytes).Sections["scaler"];
        BitConverter.GetBytes(-1.0).CopyTo(bytes, offset + 4); // after the int32 mode: the scale
        using var target = Train(seed: 2, steps: 3);
        Assert.Contains("scaler section is not valid", Refused(target, Resigned(bytes)).Message);
    }

    private sealed class NonSeekable(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 100));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
