using System;
using System.Linq;
using PrecisionPolicy.Policy;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Reports;

public sealed class PrecisionManifestTableTests
{
    [Fact]
    public void Every_role_name_stays_clear_of_the_storage_column()
    {
        var entries = Enum.GetValues<TensorRole>()
            .Select(role => new PrecisionManifestEntry("w", role, ScalarType.BFloat16, ScalarType.Float32, 4))
            .ToList();
        var lines = new PrecisionManifest("Model", Precision.BF16, entries).ToString().Split('\n');

        var rows = lines.Where(l => l.StartsWith("w ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(
            Enum.GetValues<TensorRole>().Select(role => new[] { "w", role.ToString(), "BFloat16", "Float32", "4", "8" }),
            rows);
    }
}
