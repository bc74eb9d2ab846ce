using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The package as a user gets it: a project outside this repository with one PackageReference
/// builds its [Autocast] class (interceptors opted in by the package's build targets, nothing set
/// by hand), loads libtorch on this libstdc++ (the package's native fix) and trains a step;
/// <c>EnablePrecisionPolicyGenerator=false</c> builds the same kind of class with no generated code; and
/// the compiler runs the package's Roslyn components compiled ahead of time, or their IL with
/// <c>PrecisionPolicyReadyToRun=false</c>.
/// </summary>
[Collection(SampleCollection.Name)]
[Trait(PackedPackage.CostTrait, PackedPackage.Packaging)]
public sealed class PackageConsumerTests : IClassFixture<PackedPackage>, IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("pp-consumer-");
    private readonly PackedPackage package;

    public PackageConsumerTests(PackedPackage package) => this.package = package;

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public void A_project_with_only_the_package_reference_builds_intercepts_and_trains()
    {
        var project = Consumer("consumer", """
                <OutputType>Exe</OutputType>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            """, """<PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />""");
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using PrecisionPolicy;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            var block = new Block().ApplyPrecisionPolicy();
            using var opt = block.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
            var outcome = block.TrainStep(opt, randn(8, 16), randn(8, 16), (o, t) => nn.functional.mse_loss(o, t));
            var interceptors = System.Linq.Enumerable.Count(typeof(Block).Assembly.GetTypes(), t => t.Namespace == "PrecisionPolicy.Generated");
            System.Console.WriteLine($"applied={outcome.Applied} fc={block.FcDtype} interceptors={interceptors}");

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                private readonly LayerNorm norm = nn.LayerNorm(16);
                private readonly Linear fc = nn.Linear(16, 16);
                public Block() : base(nameof(Block)) => RegisterComponents();
                public ScalarType FcDtype => fc.weight!.dtype;
                public override Tensor forward(Tensor x) => x + fc.call(norm.call(x));
            }
            """);

        var output = Run(project, "run", "--project", project);
        Assert.Contains("applied=True fc=BFloat16 interceptors=1", output);
    }

    [Fact]
    public void The_generator_switch_set_to_false_builds_with_no_generated_code()
    {
        // No libtorch: nothing here runs a torch op, so only the managed TorchSharp assembly is loaded.
        var project = Consumer("no-generator", """
                <OutputType>Exe</OutputType>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <EnablePrecisionPolicyGenerator>false</EnablePrecisionPolicyGenerator>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using PrecisionPolicy;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            var interceptors = System.Linq.Enumerable.Count(typeof(Block).Assembly.GetTypes(), t => t.Namespace == "PrecisionPolicy.Generated");
            var plumbing = typeof(Block).GetMethod("ApplyPrecisionPolicy") is not null;
            System.Console.WriteLine($"interceptors={interceptors} plumbing={plumbing}");

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc = nn.Linear(16, 16);
                public Block() : base(nameof(Block)) => RegisterComponents();
                public override Tensor forward(Tensor x) => fc.call(x);
            }
            """);

        var output = Run(project, "run", "--project", project);
        Assert.Contains("interceptors=0 plumbing=False", output);

        // Only the generator is removed: the analyzers and code fixes still reach the compiler.
        var analyzers = Run(project, "msbuild", project, "-t:ResolveReferences", "-getItem:Analyzer");
        Assert.Contains("PrecisionPolicy.Analyzers.dll", analyzers);
        Assert.Contains("PrecisionPolicy.CodeFixes.dll", analyzers);
        Assert.DoesNotContain("PrecisionPolicy.Generators.dll", analyzers);
    }

    [Fact]
    public void The_compiler_runs_the_ahead_of_time_components_and_the_switch_keeps_the_il()
    {
        // No libtorch and no TreatWarningsAsErrors: the project is only compiled, and its mistake is reported.
        var project = Consumer("ready-to-run");
        File.WriteAllText(Path.Combine(project, "Net.cs"), """
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly BatchNorm1d bn = nn.BatchNorm1d(8, dtype: ScalarType.Float16);
                public Net() : base(nameof(Net)) => RegisterComponents();
                public override Tensor forward(Tensor x) => bn.call(x);
            }
            """);

        var (nativeItems, nativeWarnings, nativeJitted) = Compile(project, "true");
        var (ilItems, ilWarnings, ilJitted) = Compile(project, "false");

        string[] components = ["PrecisionPolicy.Analyzers.dll", "PrecisionPolicy.CodeFixes.dll", "PrecisionPolicy.Generators.dll"];
        Assert.Equal(components.Select(c => $"/build/ready-to-run/linux-x64/{c}"), nativeItems.Select(Tail));
        Assert.Equal(components.Select(c => $"/analyzers/dotnet/cs/{c}"), ilItems.Select(Tail));
        // Both run the rules and report the same mistake.
        Assert.Contains("Net.cs(6,", nativeWarnings);
        Assert.Equal(ilWarnings, nativeWarnings);
        // The compiler ran the images' native code: it JIT-compiled almost none of the analyzers' methods.
        Assert.True(ilJitted > 100, $"the IL build JIT-compiled {ilJitted} analyzer methods");
        Assert.True(nativeJitted < ilJitted / 10, $"the ahead-of-time build JIT-compiled {nativeJitted} analyzer methods, the IL build {ilJitted}");

        var (exitCode, output) = DotnetCli.Run(project, "build", project, "-p:PrecisionPolicyReadyToRun=maybe");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("PrecisionPolicyReadyToRun='maybe' is not known: use 'true' (default) or 'false'.", output);
    }

    /// <summary>
    /// Compiles <paramref name="project"/>; returns the PrecisionPolicy components the compiler was given, the
    /// PP warnings it reported and how many methods of the analyzers its JIT compiled. The compiler runs through
    /// a script that turns on the JIT's list of compiled methods for that process only (MSBuild's own would
    /// write into the same file).
    /// </summary>
    private static (string[] Components, string Warnings, int AnalyzerMethodsJitted) Compile(string project, string readyToRun)
    {
        var switchValue = $"-p:PrecisionPolicyReadyToRun={readyToRun}";
        var items = Run(project, "msbuild", project, "-restore", "-t:ResolveReferences", "-getItem:Analyzer", switchValue);
        var components = Regex.Matches(items, @"""Identity"": ""(?<path>[^""]*PrecisionPolicy\.[^""]*)""").Select(m => m.Groups["path"].Value).Order().ToArray();

        var roslyn = Run(project, "msbuild", project, "-getProperty:RoslynTargetsPath").Trim();
        var jitLog = Path.Combine(project, $"jit-{readyToRun}.txt");
        var compiler = Path.Combine(project, $"csc-{readyToRun}.sh");
        File.WriteAllText(compiler, $"#!/usr/bin/env bash\nDOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile='{jitLog}' exec '{roslyn}/bincore/csc' \"$@\"\n");
        Assert.Equal(0, DotnetCli.Bash(project, $"chmod +x '{compiler}'", new Dictionary<string, string>()).ExitCode);
        var output = Run(project, "build", project, "--no-incremental", $"-p:CscToolPath={project}", $"-p:CscToolExe={Path.GetFileName(compiler)}", switchValue);
        var warnings = string.Join("\n", Regex.Matches(output, @"\S+\.cs\(\d+,\d+\): warning PP\d+").Select(m => Path.GetFileName(m.Value)).Distinct().Order());
        var jitted = File.ReadLines(jitLog).Count(line => line.Contains("PrecisionPolicy.Analyzers.", StringComparison.Ordinal));
        return (components, warnings, jitted);
    }

    /// <summary>
    /// A folder with a net10.0 project that references the packed package (and <paramref name="items"/>), with
    /// <paramref name="properties"/> added to its properties.
    /// </summary>
    private string Consumer(string name, string properties = "", string items = "")
    {
        var project = work.CreateSubdirectory(name).FullName;
        File.WriteAllText(Path.Combine(project, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RestoreAdditionalProjectSources>{package.Feed}</RestoreAdditionalProjectSources>
            {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="PrecisionPolicy" Version="{package.Version}" />
                {items}
              </ItemGroup>
            </Project>
            """);
        return project;
    }

    /// <summary>The part of a path inside the restored package's folder (named by its version).</summary>
    private string Tail(string path) =>
        path[(path.IndexOf($"/{package.Version}/", StringComparison.OrdinalIgnoreCase) + package.Version.Length + 1)..];

    private static string Run(string directory, params string[] arguments)
    {
        var (exitCode, output) = DotnetCli.Run(directory, arguments);
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }
}
