using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The package's requirements as a consumer meets them: a net8.0 project builds, intercepts and
/// trains on the net8.0 build; an older framework or compiler is one clear build error
/// (PPCFG0001, PPCFG0002), not missing types or a generator left out in silence.
/// </summary>
[Collection(SampleCollection.Name)]
[Trait(PackedPackage.CostTrait, PackedPackage.Packaging)]
public sealed class PackageRequirementsTests : IClassFixture<PackedPackage>, IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("pp-requirements-");
    private readonly PackedPackage package;

    public PackageRequirementsTests(PackedPackage package) => this.package = package;

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public void A_net8_project_builds_intercepts_and_trains_on_the_net8_build()
    {
        var project = Consumer("net8", "net8.0", backend: true, """
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            var block = new Block().ApplyPrecisionPolicy();
            using var opt = block.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
            var outcome = block.TrainStep(opt, randn(8, 16), randn(8, 16), (o, t) => nn.functional.mse_loss(o, t));
            var interceptors = System.Linq.Enumerable.Count(typeof(Block).Assembly.GetTypes(), t => t.Namespace == "PrecisionPolicy.Generated");
            var runtime = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Runtime.Versioning.TargetFrameworkAttribute>(typeof(MasterWeightOptimizer).Assembly)!.FrameworkName;
            System.Console.WriteLine($"applied={outcome.Applied} fc={block.FcDtype} interceptors={interceptors} runtime={runtime}");

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc = nn.Linear(16, 16);
                public Block() : base(nameof(Block)) => RegisterComponents();
                public ScalarType FcDtype => fc.weight!.dtype;
                public override Tensor forward(Tensor x) => fc.call(x);
            }
            """);

        var (exitCode, output) = DotnetCli.Run(project, "build", project, "--nologo");
        Assert.True(exitCode == 0, output);
        // Only the .NET 10 runtime may be installed: run the net8.0 app on the newest one.
        (exitCode, output) = DotnetCli.Run(project, new Dictionary<string, string> { ["DOTNET_ROLL_FORWARD"] = "Major" }, "run", "--no-build", "--project", project);
        Assert.True(exitCode == 0, output);
        Assert.Contains("applied=True fc=BFloat16 interceptors=1 runtime=.NETCoreApp,Version=v8.0", output);
    }

    [Fact]
    public void A_netstandard_project_gets_the_framework_error_and_no_missing_types()
    {
        var project = Consumer("netstandard", "netstandard2.0", backend: false, "public static class Uses { public static PrecisionPolicy.Precision Default => PrecisionPolicy.Precision.BF16; }");

        var (exitCode, output) = DotnetCli.Run(project, "build", project, "--nologo");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("error PPCFG0001: PrecisionPolicy supports net8.0 and later", output);
        Assert.Contains("this project targets netstandard2.0", output);
        Assert.DoesNotContain("CS0246", output);
    }

    [Fact]
    public void The_compiler_version_is_detected_and_one_older_than_roslyn_4_11_is_an_error()
    {
        var project = Consumer("compiler", "net8.0", backend: false, "public static class Uses { public static PrecisionPolicy.Precision Default => PrecisionPolicy.Precision.BF16; }");
        var (exitCode, output) = DotnetCli.Run(project, "msbuild", project, "-restore", "-t:PrecisionPolicyCheckCompilerVersion", "-getProperty:PrecisionPolicyCompilerVersion");
        Assert.True(exitCode == 0, output);
        var detected = Version.Parse(output.Trim().Split('\n')[^1].Trim());
        Assert.True(detected >= new Version(4, 11), $"detected compiler {detected}");

        (exitCode, output) = DotnetCli.Run(project, "build", project, "--nologo", "-p:PrecisionPolicyCompilerVersion=4.10.0.0");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("error PPCFG0002: PrecisionPolicy's source generator needs a C# compiler (Roslyn) 4.11 or later", output);
        Assert.Contains("this build uses 4.10.0.0", output);
    }

    private string Consumer(string name, string framework, bool backend, string program)
    {
        var project = work.CreateSubdirectory(name).FullName;
        var outputType = framework.StartsWith("netstandard", StringComparison.Ordinal) ? "Library" : "Exe";
        File.WriteAllText(Path.Combine(project, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>{framework}</TargetFramework>
                <RestoreAdditionalProjectSources>{package.Feed}</RestoreAdditionalProjectSources>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="PrecisionPolicy" Version="{package.Version}" />
                {(backend ? """<PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />""" : "")}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), program);
        return project;
    }
}
