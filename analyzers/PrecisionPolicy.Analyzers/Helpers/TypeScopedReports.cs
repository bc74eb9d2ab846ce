using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Diagnostics that belong where a value was created (the fix edits the creation) but are found
/// where the value is used. They are collected while a type is analyzed and reported at its end: at
/// the creation when it is inside the type (a local diagnostic the IDE shows and can fix), otherwise
/// at the use. Each creation is reported once per compilation.
/// </summary>
internal sealed class TypeScopedReports(ConcurrentDictionary<string, bool> reported)
{
    // Created on the first report: most types have none, and a concurrent queue costs a kilobyte per type and rule.
    private readonly object gate = new();
    private List<(IOperation Site, IOperation Use, Func<Location, Diagnostic> Create)>? pending;

    /// <summary>
    /// Runs <paramref name="analyze"/> on the <paramref name="kinds"/> of operations of each type, with that
    /// type's reports, and flushes them at the type's end; one set of reported creations per compilation and rule.
    /// </summary>
    public static void RegisterPerType(CompilationStartAnalysisContext context, OperationKind[] kinds, Action<OperationAnalysisContext, TypeScopedReports> analyze)
    {
        var reported = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        context.RegisterSymbolStartAction(
            start =>
            {
                var reports = new TypeScopedReports(reported);
                start.RegisterOperationAction(c => analyze(c, reports), kinds);
                start.RegisterSymbolEndAction(reports.Flush);
            },
            SymbolKind.NamedType);
    }

    public void Add(IOperation site, IOperation use, Func<Location, Diagnostic> create)
    {
        lock (gate)
        {
            (pending ??= []).Add((site, use, create));
        }
    }

    public void Flush(SymbolAnalysisContext context)
    {
        // The symbol end runs after every operation action of the type: no report is added any more.
        List<(IOperation Site, IOperation Use, Func<Location, Diagnostic> Create)>? reports;
        lock (gate)
        {
            reports = pending;
        }

        if (reports is null)
        {
            return;
        }

        var declarations = context.Symbol.DeclaringSyntaxReferences;
        foreach (var (site, use, create) in reports.OrderBy(static p => p.Site.Syntax.SpanStart).ThenBy(static p => p.Use.Syntax.SpanStart))
        {
            var local = declarations.Any(d => d.SyntaxTree == site.Syntax.SyntaxTree && d.Span.Contains(site.Syntax.Span));
            var location = (local ? site : use).Syntax.GetLocation();
            var key = site.Syntax.SyntaxTree.FilePath + ":" + site.Syntax.SpanStart + ":" + site.Syntax.Span.Length;
            if (reported.TryAdd(key, true))
            {
                context.ReportDiagnostic(create(location));
            }
        }
    }
}
