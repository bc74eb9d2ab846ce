using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>`--trace-numerics`: FP16 without loss scaling shows its gradients underflowing, per call site, in every report.</summary>
[Collection(SampleCollection.Name)]
public sealed class TraceNumericsTests
{
    [Fact]
    public void Trace_numerics_writes_the_table_plot_and_advice_and_shows_fp16_gradients_underflowing_without_loss_scaling()
    {
        var folder = Directory.CreateTempSubdirectory("pp-trace-");
        try
        {
            var (exitCode, lines, errors) = SampleProcess.Run(
                ["--steps", "4", "--batch", "16", "--width", "16", "--layers", "1", "--heads", "2", "--digits", "1",
                 "--precisions", "fp16-noscale", "--trace-numerics", "--output", folder.FullName]);
            Assert.True(exitCode == 0, string.Join('\n', lines) + errors);
            Assert.Contains(lines, l => l.Contains("Numerics trace: the worst call sites"));
            Assert.True(new FileInfo(Path.Combine(folder.FullName, "numerics.png")).Length > 0);

            using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.FullName, "results.json")));
            var sites = results.RootElement.GetProperty("runs")[0].GetProperty("Numerics").EnumerateArray().ToArray();
            // Unscaled FP16 gradients: at the most affected low-precision site most are 0 or subnormal.
            var worst = sites.Where(s => s.GetProperty("Dtype").GetString() == "FP16").MaxBy(s => s.GetProperty("GradientUnderflow").GetDouble());
            Assert.Equal(4, worst.GetProperty("Calls").GetInt64());
            Assert.True(worst.GetProperty("GradientUnderflow").GetDouble() > 0.5, worst.ToString());

            using var advice = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.FullName, "advice", "fp16-noscale", "precision-advice.json")));
            Assert.Contains(advice.RootElement.GetProperty("sites").EnumerateArray(),
                s => s.GetProperty("finding").GetString() == "gradient-underflow" && s.GetProperty("file").GetString() == worst.GetProperty("File").GetString()
                     && s.GetProperty("line").GetInt32() == worst.GetProperty("Line").GetInt32() && s.GetProperty("column").GetInt32() == worst.GetProperty("Column").GetInt32());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
