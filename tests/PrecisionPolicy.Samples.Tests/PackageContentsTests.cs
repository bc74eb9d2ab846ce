using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Xml.Linq;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// What the packed .nupkg and .snupkg hold: the metadata a package page shows, both runtime builds,
/// the Roslyn components (as IL and compiled ahead of time), the build targets and their task, and
/// symbols whose sources SourceLink maps to the repository, under deterministic paths.
/// </summary>
[Collection(SampleCollection.Name)]
[Trait(PackedPackage.CostTrait, PackedPackage.Packaging)]
public sealed class PackageContentsTests : IClassFixture<PackedPackage>
{
    private const string Repository = "https://github.com/precisionpolicy/precisionpolicy";

    // The PDB custom debug information kind of a SourceLink document (the Portable PDB spec).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private readonly PackedPackage package;

    public PackageContentsTests(PackedPackage package) => this.package = package;

    [Fact]
    public void The_nuspec_has_license_authors_urls_readme_icon_and_release_notes()
    {
        using var nupkg = ZipFile.OpenRead(package.Nupkg);
        var metadata = Nuspec(nupkg);
        XNamespace ns = metadata.Name.Namespace;
        string Value(string name) => metadata.Element(ns + name)?.Value ?? "";

        Assert.Equal("MIT", Value("license"));
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("PrecisionPolicy contributors", Value("authors"));
        Assert.Equal(Repository, Value("projectUrl"));
        var repository = metadata.Element(ns + "repository")!;
        Assert.Equal(Repository + ".git", repository.Attribute("url")!.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")!.Value);
        Assert.Contains("CHANGELOG.md", Value("releaseNotes"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Equal("icon.png", Value("icon"));

        Assert.Contains("libtorch-cpu-linux-x64", Text(nupkg, "README.md"));
        Assert.Contains("MIT License", Text(nupkg, "LICENSE"));
        using var icon = new MemoryStream();
        nupkg.GetEntry("icon.png")!.Open().CopyTo(icon);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, icon.ToArray().Take(4));
    }

    [Fact]
    public void The_package_has_both_frameworks_the_roslyn_components_and_the_build_targets()
    {
        using var nupkg = ZipFile.OpenRead(package.Nupkg);
        var files = nupkg.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Superset(new[]
        {
            "lib/net8.0/PrecisionPolicy.dll", "lib/net8.0/PrecisionPolicy.xml",
            "lib/net10.0/PrecisionPolicy.dll", "lib/net10.0/PrecisionPolicy.xml",
            "analyzers/dotnet/cs/PrecisionPolicy.Generators.dll",
            "analyzers/dotnet/cs/PrecisionPolicy.Analyzers.dll",
            "analyzers/dotnet/cs/PrecisionPolicy.CodeFixes.dll",
            "build/ready-to-run/linux-x64/PrecisionPolicy.Generators.dll",
            "build/ready-to-run/linux-x64/PrecisionPolicy.Analyzers.dll",
            "build/ready-to-run/linux-x64/PrecisionPolicy.CodeFixes.dll",
        }.ToHashSet(), files);
        foreach (var folder in new[] { "build", "buildTransitive" })
        {
            Assert.Superset(new[]
            {
                $"{folder}/PrecisionPolicy.targets", $"{folder}/PrecisionPolicy.Requirements.targets",
                $"{folder}/PrecisionPolicy.TorchSharpNative.targets", $"{folder}/PrecisionPolicy.BuildTasks.dll",
            }.ToHashSet(), files);
        }
        // Both builds depend on TorchSharp and the logging abstractions (the optional ILogger), nothing else.
        var groups = Nuspec(nupkg).Descendants().Where(e => e.Name.LocalName == "group").ToList();
        Assert.Equal(new[] { "net10.0", "net8.0" }, groups.Select(g => g.Attribute("targetFramework")!.Value).Order());
        Assert.All(groups, g => Assert.Equal(new[] { "Microsoft.Extensions.Logging.Abstractions", "TorchSharp" },
            g.Elements().Select(d => d.Attribute("id")!.Value).Order()));
    }

    [Theory]
    [InlineData("PrecisionPolicy.Generators")]
    [InlineData("PrecisionPolicy.Analyzers")]
    [InlineData("PrecisionPolicy.CodeFixes")]
    public void The_ready_to_run_image_of_each_roslyn_component_is_that_build_with_native_code(string component)
    {
        using var nupkg = ZipFile.OpenRead(package.Nupkg);
        using var il = Image(nupkg, $"analyzers/dotnet/cs/{component}.dll");
        using var native = Image(nupkg, $"build/ready-to-run/linux-x64/{component}.dll");

        // A ReadyToRun image has a managed native header (its native code's directory); the IL copy has none.
        Assert.Equal(0, il.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
        Assert.NotEqual(0, native.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
        // The same compilation: same module version id, same assembly identity.
        var (ilMetadata, nativeMetadata) = (il.GetMetadataReader(), native.GetMetadataReader());
        Assert.Equal(ilMetadata.GetGuid(ilMetadata.GetModuleDefinition().Mvid), nativeMetadata.GetGuid(nativeMetadata.GetModuleDefinition().Mvid));
        Assert.Equal(ilMetadata.GetAssemblyDefinition().GetAssemblyName().FullName, nativeMetadata.GetAssemblyDefinition().GetAssemblyName().FullName);
    }

    [Fact]
    public void The_symbol_package_has_both_pdbs_with_sourcelink_to_the_repository_and_deterministic_paths()
    {
        Assert.True(File.Exists(package.Snupkg), "no .snupkg beside the .nupkg");
        using var snupkg = ZipFile.OpenRead(package.Snupkg);
        foreach (var framework in new[] { "net8.0", "net10.0" })
        {
            using var pdb = new MemoryStream();
            snupkg.GetEntry($"lib/{framework}/PrecisionPolicy.pdb")!.Open().CopyTo(pdb);
            pdb.Position = 0;
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
            var reader = provider.GetMetadataReader();
            var sourceLink = reader.CustomDebugInformation.Select(reader.GetCustomDebugInformation)
                .Single(c => reader.GetGuid(c.Kind) == SourceLinkKind);
            var json = Encoding.UTF8.GetString(reader.GetBlobBytes(sourceLink.Value));
            Assert.Matches(@"""/_/\*"":""https://raw\.githubusercontent\.com/precisionpolicy/precisionpolicy/[0-9a-f]{40}/\*""", json);
            var documents = reader.Documents.Select(d => reader.GetString(reader.GetDocument(d).Name)).ToList();
            Assert.Contains("/_/src/PrecisionPolicy/Optimization/MasterWeightOptimizer.cs", documents);
            Assert.DoesNotContain(documents, d => d.StartsWith(DotnetCli.RepositoryRoot(), StringComparison.Ordinal));
        }
    }

    private static PEReader Image(ZipArchive nupkg, string entry)
    {
        var bytes = new MemoryStream();
        nupkg.GetEntry(entry)!.Open().CopyTo(bytes);
        bytes.Position = 0;
        return new PEReader(bytes);
    }

    private static XElement Nuspec(ZipArchive nupkg) =>
        XDocument.Parse(Text(nupkg, "PrecisionPolicy.nuspec")).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private static string Text(ZipArchive nupkg, string entry)
    {
        using var reader = new StreamReader(nupkg.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }
}
