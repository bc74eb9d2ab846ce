using System;
using System.Linq;
using System.Reflection;
using PrecisionPolicy.Catalog;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>The symbol table shared with the analyzers finds every type it names in a compilation that references the runtime.</summary>
public sealed class SymbolTableTests
{
    private static readonly string[] Names = typeof(PolicyTypeNames).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.Name != nameof(PolicyTypeNames.CompilerServicesNamespace))
        .Select(f => (string)f.GetValue(null)!)
        .ToArray();

    [Fact]
    public void Every_runtime_type_name_names_a_type_of_the_runtime()
    {
        var runtime = typeof(PrecisionPolicy.AutocastAttribute).Assembly;
        Assert.NotEmpty(Names);
        Assert.DoesNotContain(Names, name => runtime.GetType(name) is null);
    }

    [Fact]
    public void Every_type_of_the_table_resolves_in_a_compilation_with_torchsharp_and_the_runtime()
    {
        var symbols = TorchSymbols.TryCreate(GeneratorHarness.Compilation(("/src/Empty.cs", "class Empty { }"))) ?? throw new InvalidOperationException("no TorchSharp");
        var unresolved = typeof(TorchSymbols).GetProperties()
            .Where(p => p.PropertyType == typeof(Microsoft.CodeAnalysis.INamedTypeSymbol) && p.GetValue(symbols) is null)
            .Select(p => p.Name)
            .ToList();
        Assert.Empty(unresolved);
        Assert.True(symbols.HasFp8Runtime);
    }

    [Fact]
    public void Without_torchsharp_there_is_no_table()
    {
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("NoTorch", new[] { Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class Empty { }") },
            Basic.Reference.Assemblies.Net100.References.All);
        Assert.Null(TorchSymbols.TryCreate(compilation));
    }
}
