using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// Folders are namespaces (the rule is written in src/PrecisionPolicy/LAYOUT.md): a file in
/// src/PrecisionPolicy/&lt;Folder&gt;/ declares <c>PrecisionPolicy.&lt;Folder&gt;</c>; the files at the project root
/// declare the root namespace and hold only what a user writes on a model (attributes and the enums
/// their arguments take); what only generated code calls sits in CompilerServices/.
/// </summary>
public sealed partial class FolderNamespaceTests
{
    private const string RootNamespace = "PrecisionPolicy";
    private static readonly string ProjectFolder = Path.Combine(RepositoryRoot(), "src", "PrecisionPolicy");
    private static readonly Type[] PublicTypes = typeof(AutocastAttribute).Assembly.GetExportedTypes();

    [Fact]
    public void Every_source_file_declares_its_folders_namespace()
    {
        var files = SourceFiles().ToList();
        Assert.True(files.Count > 100, "found only " + files.Count + " source files under " + ProjectFolder);
        var wrong =
            from file in files
            let expected = ExpectedNamespace(file)
            let declared = DeclaredNamespace(File.ReadAllText(file))
            where declared != expected
            select Path.GetRelativePath(ProjectFolder, file) + ": declares " + (declared ?? "no namespace") + ", its folder says " + expected;
        Assert.Empty(wrong);
    }

    [Fact]
    public void Every_public_type_sits_in_the_folder_its_namespace_names()
    {
        var declarations = SourceFiles().Select(static f => (Folder: ExpectedNamespace(f), Text: File.ReadAllText(f))).ToList();
        var lost =
            from type in PublicTypes.Where(static t => !t.IsNested)
            let name = type.Name.Split('`')[0]
            where !declarations.Any(d => d.Folder == type.Namespace && Regex.IsMatch(d.Text, @"\b(class|struct|record|interface|enum|delegate)\s+(\w+\s+)?" + name + @"\b"))
            select type.FullName;
        Assert.Empty(lost);
    }

    [Fact]
    public void The_root_namespace_holds_only_what_a_model_is_annotated_with()
    {
        var rootTypes = PublicTypes.Where(static t => t.Namespace == RootNamespace).ToList();
        Assert.Contains(typeof(AutocastAttribute), rootTypes);
        Assert.Contains(typeof(Precision), rootTypes);
        Assert.Empty(rootTypes.Where(static t => !t.IsEnum && !typeof(Attribute).IsAssignableFrom(t)).Select(static t => t.FullName));
    }

    [Fact]
    public void Compiler_services_types_sit_in_one_folder()
    {
        var services = PublicTypes.Where(static t => t.Namespace == RootNamespace + ".CompilerServices").ToList();
        Assert.NotEmpty(services);
        var elsewhere =
            from file in SourceFiles()
            where DeclaredNamespace(File.ReadAllText(file)) == RootNamespace + ".CompilerServices"
            where Path.GetDirectoryName(file) != Path.Combine(ProjectFolder, "CompilerServices")
            select Path.GetRelativePath(ProjectFolder, file);
        Assert.Empty(elsewhere);
    }

    private static string ExpectedNamespace(string file)
    {
        var folder = Path.GetRelativePath(ProjectFolder, Path.GetDirectoryName(file)!);
        return folder == "." ? RootNamespace : RootNamespace + "." + folder.Replace(Path.DirectorySeparatorChar, '.');
    }

    // The first namespace declaration: for PolicyEnums.cs, which the generator and the analyzers also
    // compile under another namespace, that is the runtime's (the #if branch comes first).
    private static string? DeclaredNamespace(string text) =>
        NamespaceDeclaration().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    private static System.Collections.Generic.IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(ProjectFolder, "*.cs", SearchOption.AllDirectories)
            .Where(static f => !IsBuildOutput(Path.GetRelativePath(ProjectFolder, f)));

    private static bool IsBuildOutput(string relative) =>
        relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PrecisionPolicy.sln"))) return dir.FullName;
        throw new InvalidOperationException("PrecisionPolicy.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();
}
