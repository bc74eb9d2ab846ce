using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// Hand-rolled snapshots: the expected text lives beside the test in Snapshots/{name}.verified.txt.
/// On a mismatch the actual text is written to {name}.received.txt and the first differences are
/// shown; set PRECISIONPOLICY_ACCEPT=1 to accept (overwrite the verified file) instead. The generator's
/// version in <c>[GeneratedCode]</c> is scrubbed to <see cref="VersionPlaceholder"/>, so a version bump
/// changes no snapshot (the version is told once, in Directory.Build.props).
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "PRECISIONPOLICY_ACCEPT";

    /// <summary>What stands for the generator's version in the verified files.</summary>
    public const string VersionPlaceholder = "{generator-version}";

    /// <summary>The <c>[GeneratedCode]</c> attribute as the generator writes it, with its own version.</summary>
    private static readonly string GeneratedCodeAttribute =
        "GeneratedCode(\"PrecisionPolicy.Generators\", \"" + AutocastGenerator.Emitter.Version + "\")";

    /// <summary>The text with the generator's own version in <c>[GeneratedCode]</c> replaced by the placeholder.</summary>
    public static string ScrubVersion(string text) =>
        text.Replace(GeneratedCodeAttribute, GeneratedCodeAttribute.Replace(AutocastGenerator.Emitter.Version, VersionPlaceholder));

    public static void Match(string actual, string name, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        Directory.CreateDirectory(directory);
        var verified = Path.Combine(directory, name + ".verified.txt");
        var received = Path.Combine(directory, name + ".received.txt");
        actual = ScrubVersion(actual.Replace("\r\n", "\n"));

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        var expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        throw new XunitException(expected is null
            ? $"No snapshot {verified}: wrote {received}. Review it and rerun with {AcceptVariable}=1 to accept."
            : $"Snapshot {name} differs (received: {received}; accept with {AcceptVariable}=1):\n{Diff(expected, actual)}");
    }

    /// <summary>A short line diff: the first differing lines with a little context.</summary>
    public static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var s = new StringBuilder();
        var shown = 0;
        for (var i = 0; i < Math.Max(a.Length, b.Length) && shown < 20; i++)
        {
            var x = i < a.Length ? a[i] : "<end>";
            var y = i < b.Length ? b[i] : "<end>";
            if (x == y) continue;
            s.Append($"line {i + 1}:\n- {x}\n+ {y}\n");
            shown++;
        }
        return s.ToString();
    }
}
