using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>Every rule has its doc page, help link, analyzer and allowed category; fixes support Fix All; tests stay offline.</summary>
public sealed class RuleConventionsTests
{
    private static readonly string RulesFolder = Path.Combine(RepositorySources.FindRoot(), "docs", "rules");

    public static IEnumerable<object[]> Rules() => AllDescriptors().Select(static d => new object[] { d.Id });

    private static IReadOnlyList<DiagnosticDescriptor> AllDescriptors() =>
        typeof(Descriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(static f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(static d => d.Id, StringComparer.Ordinal)
            .ToList();

    private static DiagnosticDescriptor Descriptor(string id) => AllDescriptors().Single(d => d.Id == id);

    // The generator's PP01xx diagnostics share docs/rules; its descriptor class is internal.
    private static IReadOnlyList<DiagnosticDescriptor> GeneratorDescriptors() =>
        typeof(PrecisionPolicy.Generators.AutocastGenerator).Assembly
            .GetType("PrecisionPolicy.Generators.DiagnosticDescriptors", throwOnError: true)!
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(static f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(static d => d.Id, StringComparer.Ordinal)
            .ToList();

    public static IEnumerable<object[]> GeneratorRules() => GeneratorDescriptors().Select(static d => new object[] { d.Id });

    [Theory]
    [MemberData(nameof(GeneratorRules))]
    public void Generator_rule_has_its_doc_page_and_help_link(string id)
    {
        var descriptor = GeneratorDescriptors().Single(d => d.Id == id);
        var page = Path.Combine(RulesFolder, id + ".md");

        Assert.Matches(@"^PP01\d\d$", id);
        Assert.True(File.Exists(page), $"missing docs/rules/{id}.md");
        Assert.StartsWith($"# {id} - {descriptor.Title}", File.ReadAllText(page), StringComparison.Ordinal);
        Assert.EndsWith($"/docs/rules/{id}.md", descriptor.HelpLinkUri, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Rule_has_its_doc_page_and_help_link(string id)
    {
        var descriptor = Descriptor(id);
        var page = Path.Combine(RulesFolder, id + ".md");

        Assert.True(File.Exists(page), $"missing docs/rules/{id}.md");
        Assert.StartsWith($"# {id} - {descriptor.Title}", File.ReadAllText(page), StringComparison.Ordinal);
        Assert.EndsWith($"/docs/rules/{id}.md", descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.Contains($"dotnet_diagnostic.{id}.severity", File.ReadAllText(page), StringComparison.Ordinal);
        var readmeRow = File.ReadAllLines(Path.Combine(RulesFolder, "README.md")).SingleOrDefault(l => l.StartsWith($"| [{id}]({id}.md) |", StringComparison.Ordinal));
        Assert.NotNull(readmeRow);
        Assert.Contains($"| {descriptor.Category} | {descriptor.DefaultSeverity} |", readmeRow, StringComparison.Ordinal);
    }

    /// <summary>A message is what the IDE shows in a line: the why and the how live on the rule's page.</summary>
    internal const int MaxMessageLength = 150;

    public static IEnumerable<object[]> AllRules() =>
        AllDescriptors().Concat(GeneratorDescriptors()).Select(static d => new object[] { d.Id });

    [Theory]
    [MemberData(nameof(AllRules))]
    public void Message_is_one_short_sentence(string id)
    {
        var message = AllDescriptors().Concat(GeneratorDescriptors()).Single(d => d.Id == id)
            .MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(message.Length <= MaxMessageLength, $"{id}'s message has {message.Length} characters (at most {MaxMessageLength}): {message}");
        Assert.DoesNotMatch(@"[.!?](\s|$)", message);
    }

    [Fact]
    public void Analyzers_and_generator_build_help_links_on_one_base()
    {
        // Both compile catalog/DocLinks.cs in: every help link is that base plus rules/{id}.md.
        var links = AllDescriptors().Concat(GeneratorDescriptors())
            .Select(static d => d.HelpLinkUri.Substring(0, d.HelpLinkUri.Length - $"rules/{d.Id}.md".Length))
            .Distinct()
            .ToList();

        Assert.Equal("https://github.com/precisionpolicy/precisionpolicy/blob/main/docs/", Assert.Single(links));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Rule_is_analyzer_owned_and_categorized(string id)
    {
        var descriptor = Descriptor(id);

        Assert.Matches(@"^PP00\d\d$", id);
        Assert.Contains(descriptor.Category, new[] { "Correctness", "Numerics", "Usage", "Performance" });
        Assert.Single(Analyzers(), a => a.SupportedDiagnostics.Any(d => d.Id == id));
    }

    [Fact]
    public void Every_doc_page_has_a_rule()
    {
        var ids = AllDescriptors().Concat(GeneratorDescriptors()).Select(static d => d.Id).ToHashSet();
        var pages = Directory.EnumerateFiles(RulesFolder, "PP*.md").Select(static p => Path.GetFileNameWithoutExtension(p)!);

        Assert.All(pages, page => Assert.Contains(page, ids));
    }

    [Fact]
    public void Every_code_fix_supports_batch_fix_all()
    {
        var fixes = typeof(CodeFixes.UseFloat32CodeFix).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
            .Select(static t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .ToList();

        Assert.NotEmpty(fixes);
        Assert.All(fixes, fix => Assert.Same(WellKnownFixAllProviders.BatchFixer, fix.GetFixAllProvider()));
    }

    [Fact]
    public async Task Test_reference_set_resolves_no_packages()
    {
        // An empty resolution is what keeps the analyzer tests away from NuGet feeds.
        var resolved = await TestReferences.NoPackages.ResolveAsync(LanguageNames.CSharp, default);

        Assert.Empty(resolved);
    }

    private static IEnumerable<DiagnosticAnalyzer> Analyzers() =>
        typeof(Descriptors).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!);
}
