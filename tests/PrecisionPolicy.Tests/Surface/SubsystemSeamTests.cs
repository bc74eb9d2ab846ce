using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// The optimizer meets other subsystems through its seams (<c>IOptimizerCompanion</c> and <c>IOptimizerCompanionSource</c>, <c>IStepObserver</c>)
/// and does not name them: no reference from Optimization/ to Policy/ or CompilerServices/ (which name the
/// optimizer: that direction stays one way), to the numerics trace, or to the FP8 context.
/// </summary>
public sealed partial class SubsystemSeamTests
{
    private static readonly string[] Forbidden =
    [
        "PrecisionPolicy.Policy", "PrecisionPolicy.CompilerServices", "PrecisionPolicy.Tracing", "PrecisionPolicy.Fp8",
        "NumericsTrace", "Fp8Context", "ModulePolicy", "PrecisionPlan",
    ];

    [Fact]
    public void The_optimizer_names_no_policy_trace_or_fp8_type()
    {
        var folder = Path.Combine(FolderNamespaceTests.ProjectFolder, "Optimization");
        var files = Directory.EnumerateFiles(folder, "*.cs").ToList();
        Assert.Contains(files, static f => Path.GetFileName(f) == "MasterWeightOptimizer.cs");
        var references =
            from file in files
            let code = Code(File.ReadAllText(file))
            from name in Forbidden
            where Regex.IsMatch(code, @"(?<!\w)" + Regex.Escape(name) + @"\b")
            select Path.GetFileName(file) + " names " + name;
        Assert.Empty(references);
    }

    [Fact]
    public void The_check_sees_a_reference_in_code_but_not_in_comments_or_strings()
    {
        Assert.Matches(@"NumericsTrace\b", Code("        NumericsTrace.EndStep();"));
        Assert.DoesNotMatch(@"NumericsTrace\b", Code("    /// <see cref=\"Tracing.NumericsTrace\"/>\n    var s = \"NumericsTrace.Enable()\"; // NumericsTrace"));
    }

    // The text without comments and string literals: what the compiler binds.
    private static string Code(string text) => StringOrComment().Replace(text, " ");

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""", RegexOptions.Singleline)]
    private static partial Regex StringOrComment();
}
