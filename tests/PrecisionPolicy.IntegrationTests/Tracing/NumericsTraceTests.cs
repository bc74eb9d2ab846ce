using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using PrecisionPolicy;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Tracing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Tracing;

/// <summary>The trace is process-wide: these tests run alone.</summary>
[CollectionDefinition(nameof(NumericsTraceCollection), DisableParallelization = true)]
public sealed class NumericsTraceCollection;

[Collection(nameof(NumericsTraceCollection))]
public sealed class NumericsTraceTests : IDisposable
{
    public NumericsTraceTests() => NumericsTrace.Reset();

    public void Dispose() => NumericsTrace.Reset();

    [Fact]
    public void A_skipped_step_names_the_linear_call_whose_fp16_input_overflowed()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = new OverflowingMlp().ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        NumericsTrace.Enable();

        var input = full(new long[] { 3, 4 }, 1e5f); // above FP16's 65504: the first Linear's cast input is inf
        var outcome = optimizer.Step(model.call(input).to(ScalarType.Float32).sum());

        Assert.False(outcome.Applied);
        var (line, column) = SiteOf("first.call(x)");
        Assert.Equal("OverflowingMlp.cs(" + line + "," + column + ") Linear (forward, step 1, input amax 1e5 > FP16 max 65504)", Trimmed(outcome.FirstFailingSite));
    }

    [Fact]
    public void The_advice_file_flags_only_the_site_where_the_overflow_started_with_the_keys_the_analyzer_reads()
    {
        using var scope = NewDisposeScope();
        var model = new OverflowingMlp().ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        NumericsTrace.Enable();
        optimizer.Step(model.call(full(new long[] { 3, 4 }, 1e5f)).to(ScalarType.Float32).sum());

        var path = Path.Combine(Path.GetTempPath(), "precision-advice-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            NumericsTrace.WriteAdvice(path);
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal(1, document.RootElement.GetProperty("version").GetInt32());
            var site = Assert.Single(document.RootElement.GetProperty("sites").EnumerateArray()); // the second Linear only passed the inf/NaN on
            var (line, column) = SiteOf("first.call(x)");
            Assert.EndsWith("OverflowingMlp.cs", site.GetProperty("file").GetString());
            Assert.Equal((line, column), (site.GetProperty("line").GetInt32(), site.GetProperty("column").GetInt32()));
            Assert.Equal(("Linear", "overflow", "FP16", "1e5", 1.0),
                (site.GetProperty("op").GetString(), site.GetProperty("finding").GetString(), site.GetProperty("dtype").GetString(),
                 site.GetProperty("amax").GetString(), site.GetProperty("fraction").GetDouble()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_gradient_that_overflows_fp16_is_located_at_the_site_it_reaches_in_backward()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = new OverflowingMlp().ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        NumericsTrace.Enable();

        // Forward is finite; d(loss)/d(output) = 1e6 is inf once autograd casts it to the output's FP16.
        var output = model.call(ones(3, 4));
        var outcome = optimizer.Step(output.to(ScalarType.Float32).sum() * 1e6);

        Assert.False(outcome.Applied);
        var (line, column) = SiteOf("second.call(");
        Assert.Equal("OverflowingMlp.cs(" + line + "," + column + ") Linear (backward, step 1, gradient amax inf > FP16 max 65504)", Trimmed(outcome.FirstFailingSite));
    }

    [Fact]
    public void A_finite_step_records_calls_amax_and_gradients_per_site_and_names_no_failure()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = new OverflowingMlp().ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        NumericsTrace.Enable(reportEvery: 2);

        var input = tensor(new float[] { 1e-6f, 0, 2, -3, 1e-6f, 0, 2, -3 }).reshape(2, 4); // 1e-6 is subnormal in FP16
        for (var i = 0; i < 2; i++)
        {
            var outcome = optimizer.Step(model.call(input).to(ScalarType.Float32).sum());
            Assert.True(outcome.Applied);
            Assert.Null(outcome.FirstFailingSite);
        }

        var report = Assert.Single(NumericsTrace.Reports); // every 2 steps
        Assert.Equal((1, 2), (report.FirstStep, report.LastStep));
        var first = report.Sites.Single(s => s.Line == SiteOf("first.call(x)").Line);
        Assert.Equal(("Linear", "FP16", 2L, 2L), (first.Op, first.Dtype, first.Calls, first.GradientCalls));
        Assert.Equal(3.0, first.InputAmax);
        Assert.Equal(2.0 / 8, first.InputUnderflow); // the two 1e-6 of eight values
        Assert.Equal(0.0, first.InputOverflow);
        Assert.Null(first.FirstNonFiniteStep);
        Assert.Equal(0L, first.NonFiniteOutputs);
    }

    [Fact]
    public void With_the_trace_off_steps_record_nothing()
    {
        using var scope = NewDisposeScope();
        var model = new OverflowingMlp().ApplyPrecisionPolicy();
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        var outcome = optimizer.Step(model.call(full(new long[] { 3, 4 }, 1e5f)).to(ScalarType.Float32).sum());

        Assert.False(outcome.Applied);
        Assert.Null(outcome.FirstFailingSite);
        Assert.Equal(1, NumericsTrace.Step);
        Assert.Empty(NumericsTrace.Summary());
    }

    private static string? Trimmed(string? failure) =>
        failure is null ? null : failure[(failure.LastIndexOf('/') + 1)..];

    /// <summary>The 1-based line and column of the method name in the model source's call that contains <paramref name="call"/>.</summary>
    private static (int Line, int Column) SiteOf(string call, [CallerFilePath] string here = "")
    {
        var lines = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(here)!, "OverflowingMlp.cs"));
        var index = Array.FindIndex(lines, l => l.Contains(call, StringComparison.Ordinal));
        return (index + 1, lines[index].IndexOf(call, StringComparison.Ordinal) + call.IndexOf(".call", StringComparison.Ordinal) + 2);
    }
}
