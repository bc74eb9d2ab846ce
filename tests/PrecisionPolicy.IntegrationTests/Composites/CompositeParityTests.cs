using System;
using System.Linq;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using PolicyModules = PrecisionPolicy.Modules;

namespace PrecisionPolicy.IntegrationTests.Composites;

/// <summary>
/// In FP32 each policy-aware composite computes what TorchSharp's native module computes on the same
/// weights (its state dict loaded under the same names), masks included.
/// </summary>
public sealed class CompositeParityTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private const long Width = 8;
    private const long Heads = 2;
    private const long FeedForward = 16;
    private readonly DisposeScope scope = NewDisposeScope();
    private readonly ITestOutputHelper output;

    public CompositeParityTests(ITestOutputHelper output)
    {
        this.output = output;
        manual_seed(21);
    }

    public void Dispose() => scope.Dispose();

    // (time, batch, width) inputs, a causal float mask and a boolean key padding mask for batch 2, length 4.
    private static Tensor Sequence(long length = 4) => randn(length, 2, Width);

    private static Tensor CausalMask(long length = 4) => zeros(length, length).masked_fill(ones(length, length, dtype: ScalarType.Bool).triu(1), float.NegativeInfinity);

    private static Tensor Padding(long length = 4) => tensor(new[] { false, false, false, true, false, false, false, false }).reshape(2, 4)[.., ..(int)length];

    [Fact]
    public void Multihead_attention_matches_torchsharp()
    {
        var native = nn.MultiheadAttention(Width, Heads);
        var policy = new PolicyModules.MultiheadAttention(Width, Heads);
        Load(policy, native);
        var (q, kv) = (Sequence(), Sequence(5));
        var expected = native.call(q, kv, kv, null, true, null);
        var actual = policy.call(q, kv, kv, null, true, null);
        AssertClose("attention output", expected.Item1, actual.Item1);
        AssertClose("attention weights", expected.Item2, actual.Item2);

        var padded = nn.MultiheadAttention(Width, Heads);
        Load(policy, padded);
        var x = Sequence();
        AssertClose("masked attention", padded.call(x, x, x, Padding(), false, CausalMask()).Item1, policy.call(x, x, x, Padding(), false, CausalMask()).Item1);
        Assert.Null(policy.call(x, x, x, null, false, null).Item2);
    }

    [Fact]
    public void Encoder_layer_and_encoder_match_torchsharp()
    {
        var nativeLayer = nn.TransformerEncoderLayer(Width, Heads, FeedForward, 0.0);
        var policyLayer = new PolicyModules.TransformerEncoderLayer(Width, Heads, FeedForward, 0.0);
        Load(policyLayer, nativeLayer);
        var x = Sequence();
        AssertClose("encoder layer", nativeLayer.call(x), policyLayer.call(x));
        AssertClose("masked encoder layer", nativeLayer.call(x, CausalMask(), Padding()), policyLayer.call(x, CausalMask(), Padding()));

        var nativeEncoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(Width, Heads, FeedForward, 0.0, nn.Activations.GELU), 2);
        var policyEncoder = new PolicyModules.TransformerEncoder(new PolicyModules.TransformerEncoderLayer(Width, Heads, FeedForward, 0.0, nn.Activations.GELU), 2);
        Load(policyEncoder, nativeEncoder);
        AssertClose("encoder", nativeEncoder.call(x, CausalMask()), policyEncoder.call(x, CausalMask()));
    }

    [Fact]
    public void Decoder_layer_and_decoder_match_torchsharp()
    {
        var nativeLayer = nn.TransformerDecoderLayer(Width, Heads, FeedForward, 0.0);
        var policyLayer = new PolicyModules.TransformerDecoderLayer(Width, Heads, FeedForward, 0.0);
        Load(policyLayer, nativeLayer);
        var (tgt, memory) = (Sequence(), Sequence(5));
        AssertClose("decoder layer", nativeLayer.call(tgt, memory), policyLayer.call(tgt, memory));
        AssertClose("masked decoder layer", nativeLayer.call(tgt, memory, CausalMask(), null, Padding(), null), policyLayer.call(tgt, memory, CausalMask(), null, Padding(), null));

        var nativeDecoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(Width, Heads, FeedForward, 0.0), 2);
        var policyDecoder = new PolicyModules.TransformerDecoder(new PolicyModules.TransformerDecoderLayer(Width, Heads, FeedForward, 0.0), 2);
        Load(policyDecoder, nativeDecoder);
        AssertClose("decoder", nativeDecoder.call(tgt, memory, CausalMask()), policyDecoder.call(tgt, memory, CausalMask()));
    }

    [Fact]
    public void Transformer_matches_torchsharp()
    {
        var native = nn.Transformer(Width, Heads, 1, 2, FeedForward, 0.0);
        var policy = new PolicyModules.Transformer(Width, Heads, 1, 2, FeedForward, 0.0);
        Load(policy, native);
        var (src, tgt) = (Sequence(5), Sequence());
        AssertClose("transformer", native.call(src, tgt), policy.call(src, tgt));
        AssertClose("masked transformer", native.call(src, tgt, null!, CausalMask()), policy.call(src, tgt, null, CausalMask()));
    }

    [Fact]
    public void Unsupported_options_and_bad_shapes_fail_at_construction()
    {
        Assert.Throws<NotSupportedException>(() => new PolicyModules.MultiheadAttention(Width, Heads, add_bias_kv: true));
        Assert.Throws<ArgumentException>(() => new PolicyModules.MultiheadAttention(Width, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolicyModules.TransformerEncoderLayer(Width, Heads, FeedForward, 0.0, (nn.Activations)5));
    }

    /// <summary>Loads the native module's state dict into the policy one: the names and shapes must be the same.</summary>
    private static void Load(nn.Module policy, nn.Module native)
    {
        var source = native.state_dict();
        Assert.Equal(source.Keys.Order(), policy.state_dict().Keys.Order());
        Assert.All(policy.state_dict(), entry => Assert.Equal(source[entry.Key].shape, entry.Value.shape));
        policy.load_state_dict(source);
    }

    private void AssertClose(string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().item<float>();
        output.WriteLine($"{what}: max |difference| {difference:E2}");
        Assert.True(difference < Tolerance, $"{what}: max |difference| {difference} (tolerance {Tolerance})");
    }
}
