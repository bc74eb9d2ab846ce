using PrecisionPolicy.Interop;
using PrecisionPolicy.Scaling;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Interop;

public sealed class JmpPolicyTests
{
    private static (ScalarType Params, ScalarType Compute, ScalarType? Output) Dtypes(TrainingPrecision p) => (p.ParamDtype, p.ComputeDtype, p.OutputDtype);

    [Fact]
    public void The_usual_mixed_policy_long_and_short()
    {
        var expected = (ScalarType.Float32, ScalarType.BFloat16, (ScalarType?)ScalarType.Float32);
        Assert.Equal(expected, Dtypes(JmpPolicy.Parse("params=float32,compute=bfloat16,output=float32")));
        Assert.Equal(expected, Dtypes(JmpPolicy.Parse("p=f32,c=bf16,o=f32")));
        Assert.Equal(expected, Dtypes(JmpPolicy.Parse("p=full,c=bf16,o=full"))); // how jmp's Policy.__str__ prints it
        Assert.Equal(Precision.BF16, JmpPolicy.Parse("p=f32,c=bf16,o=f32").Precision);
    }

    [Fact]
    public void Jmps_defaults_params_f32_compute_follows_params_output_follows_compute()
    {
        // jmp.get_policy: 'c=f16' -> 'p=f32,c=f16,o=f16'; 'p=f16' -> all f16.
        Assert.Equal((ScalarType.Float32, ScalarType.Float16, (ScalarType?)ScalarType.Float16), Dtypes(JmpPolicy.Parse("c=f16")));
        Assert.Equal((ScalarType.Float16, ScalarType.Float16, (ScalarType?)ScalarType.Float16), Dtypes(JmpPolicy.Parse("p=f16")));
    }

    [Fact]
    public void Half_and_full_name_all_three_dtypes()
    {
        // half_dtype() is float16 off TPU.
        Assert.Equal((ScalarType.Float16, ScalarType.Float16, (ScalarType?)ScalarType.Float16), Dtypes(JmpPolicy.Parse("half")));
        Assert.Equal((ScalarType.Float32, ScalarType.Float32, (ScalarType?)ScalarType.Float32), Dtypes(JmpPolicy.Parse("full")));
        Assert.Equal(LossScalerOptions.For(Precision.FP16), JmpPolicy.Parse("half").Scaling);
    }

    [Theory]
    [InlineData("params=float32,compute=bfloat16,output=float32", false)]
    [InlineData("p=f32,c=bf16,o=f32", true)]
    [InlineData("p=f32,c=f16,o=f16", true)]
    [InlineData("params=bfloat16,compute=bfloat16,output=float32", false)]
    public void Canonical_strings_round_trip(string text, bool shortForm)
    {
        var policy = JmpPolicy.Parse(text);
        Assert.Equal(text, JmpPolicy.Format(policy, shortForm));
        Assert.Equal(policy, JmpPolicy.Parse(JmpPolicy.Format(policy, !shortForm)));
    }

    [Theory]
    [InlineData("p=f32,c=f64", "compute")]
    [InlineData("p=f32,c=fp8", "compute")]
    [InlineData("p=f32,x=bf16", "x")]
    [InlineData("p=f32,p=bf16", "params")]
    [InlineData("p=f32,c", "c")]
    [InlineData("", "policy")]
    [InlineData("double", "policy")]
    public void Bad_values_are_errors_naming_the_field(string text, string field)
    {
        var e = Assert.Throws<PolicyFormatException>(() => JmpPolicy.Parse(text));
        Assert.Equal(field, e.Field);
        Assert.StartsWith("jmp " + field, e.Message, System.StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_read_from_deepspeed_writes_as_jmp()
    {
        var policy = DeepSpeedPrecision.Read("""{ "bf16": { "enabled": true } }""");
        Assert.Equal("p=f32,c=bf16,o=f32", JmpPolicy.Format(policy, shortForm: true));
        Assert.Equal("compute", Assert.Throws<PolicyFormatException>(() => JmpPolicy.Format(new TrainingPrecision(Precision.FP8))).Field);
    }
}
