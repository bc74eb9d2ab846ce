using System;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PrecisionPolicy.Casting;

/// <summary>
/// GEMM calibrations kept across processes in one JSON file, keyed by what decides the result: CPU
/// model, libtorch version and compute dtype (calibration runs on one thread, so the process's
/// thread count does not change it). The cache is an optimisation, so
/// nothing about it may fail a run: an unreadable, corrupt or foreign file is ignored (and replaced
/// on the next save); a file that cannot be written is skipped.
/// </summary>
internal sealed class GemmCalibrationCache(string path)
{
    /// <summary>The environment variable that moves the cache file, or disables it with <c>off</c>.</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_GEMM_CACHE";

    private const int FormatVersion = 1;

    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <summary>
    /// The cache the runtime uses: <c>PRECISIONPOLICY_GEMM_CACHE</c> when set (<c>off</c>, <c>0</c>,
    /// <c>false</c> or <c>none</c>: no cache), else <c>PrecisionPolicy/gemm-calibration.json</c> under the
    /// user cache directory ($XDG_CACHE_HOME or ~/.cache; the local application data folder on Windows).
    /// </summary>
    public static GemmCalibrationCache? Default()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim();
        if (!string.IsNullOrEmpty(configured))
            return configured.ToLowerInvariant() is "off" or "0" or "false" or "none" ? null : new GemmCalibrationCache(configured);
        var root = OperatingSystem.IsWindows()
            ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? System.IO.Path.Combine(home, ".cache")
            : "";
        return root.Length == 0 ? null : new GemmCalibrationCache(System.IO.Path.Combine(root, "PrecisionPolicy", "gemm-calibration.json"));
    }

    /// <summary>The key of a calibration on this machine.</summary>
    public static string KeyFor(string cpuModel, string torchVersion, TorchSharp.torch.ScalarType compute) =>
        $"{cpuModel} | libtorch {torchVersion} | CPU {compute}";

    /// <summary>The stored calibration for <paramref name="key"/>, or null (none, or the file is unreadable).</summary>
    public GemmCalibration? Load(string key)
    {
        if (ReadEntries()?[key] is not JsonObject o
            || !TryGet(o, "fp32AccumulateGflops", out double fp32) || !TryGet(o, "nativeGflops", out double native)
            || !TryGet(o, "largestSize", out int largest) || !TryGet(o, "milliseconds", out double milliseconds))
            return null; // none, or a hand-edited or foreign entry: measure again
        var calibration = new GemmCalibration(fp32, native, largest, milliseconds);
        return IsPlausible(calibration) ? calibration : null;
    }

    /// <summary>Stores <paramref name="calibration"/> under <paramref name="key"/>, keeping other valid entries.</summary>
    public void Save(string key, GemmCalibration calibration)
    {
        if (!IsPlausible(calibration)) return;
        var entries = ReadEntries() ?? new JsonObject();
        entries[key] = new JsonObject
        {
            ["fp32AccumulateGflops"] = calibration.Fp32AccumulateGflops,
            ["nativeGflops"] = calibration.NativeGflops,
            ["largestSize"] = calibration.LargestSize,
            ["milliseconds"] = calibration.Milliseconds,
        };
        var document = new JsonObject { ["version"] = FormatVersion, ["entries"] = entries };
        try
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            // Write aside and rename, so a concurrent reader sees the old or the new file, never half of one.
            var temporary = Path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            File.WriteAllText(temporary, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // A read-only or missing home directory: run without the cache.
        }
    }

    // The entries of a well-formed file of this format, else null (missing, corrupt or another version).
    private JsonObject? ReadEntries()
    {
        try
        {
            if (!File.Exists(Path)) return null;
            var document = JsonNode.Parse(File.ReadAllText(Path)) as JsonObject;
            if (document?["version"] is not JsonValue version || !version.TryGetValue<int>(out var v) || v != FormatVersion) return null;
            return document["entries"] is JsonObject entries ? entries.DeepClone().AsObject() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static bool TryGet<T>(JsonObject o, string name, out T value)
    {
        value = default!;
        return o[name] is JsonValue v && v.TryGetValue(out value!);
    }

    private static bool IsPlausible(GemmCalibration c) =>
        double.IsFinite(c.Fp32AccumulateGflops) && c.Fp32AccumulateGflops > 0
        && double.IsFinite(c.NativeGflops) && c.NativeGflops > 0
        && c.LargestSize > 0 && double.IsFinite(c.Milliseconds) && c.Milliseconds >= 0;
}
