using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>A fresh instance of every analyzer and every code fix the package ships, in a stable order.</summary>
internal static class ShippedComponents
{
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers() => InstancesOf<DiagnosticAnalyzer>(typeof(Helpers.TorchAnalyzer));

    public static ImmutableArray<CodeFixProvider> CodeFixes() => InstancesOf<CodeFixProvider>(typeof(PrecisionPolicy.CodeFixes.UseFloat32CodeFix));

    private static ImmutableArray<T> InstancesOf<T>(Type fromAssemblyOf) => fromAssemblyOf.Assembly.GetTypes()
        .Where(static t => !t.IsAbstract && typeof(T).IsAssignableFrom(t))
        .OrderBy(static t => t.FullName, StringComparer.Ordinal)
        .Select(static t => (T)Activator.CreateInstance(t)!)
        .ToImmutableArray();
}
