using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Analyzers.Helpers;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// The text search that decides which members to bind when following a field's writes: "no" only where the
/// member cannot name the field, so it never hides a write (a wrong "maybe" only binds one member more).
/// </summary>
public sealed class IdentifierTextTests
{
    [Theory]
    [InlineData("void M() { v = 1; }", true)]
    [InlineData("void M() { @v = 1; }", true)]
    [InlineData("void M() { this.v = 1; }", true)]
    [InlineData("void M() { vw = 1; }", false)]
    [InlineData("void M() { wv = 1; }", false)]
    [InlineData("void M() { v_ = 1; v2 = 1; _v = 1; }", false)]
    [InlineData("void M() { w = 1; }", false)]
    public void An_identifier_is_found_only_where_it_stands_alone(string member, bool expected) =>
        Assert.Equal(expected, MayName(member, "v"));

    [Theory]
    // \u0076 spells v; a non-ASCII letter or a formatting character may join or be part of an identifier.
    [InlineData("void M() { \\u0076 = 1; }")]
    [InlineData("void M() { w\u00e9 = 1; }")]
    [InlineData("void M() { w\u200b = 1; }")]
    public void A_member_that_may_spell_the_name_otherwise_is_a_maybe(string member) =>
        Assert.True(MayName(member, "v"));

    [Fact]
    public void Only_the_members_own_text_is_searched()
    {
        var tree = CSharpSyntaxTree.ParseText("class C { int v; void A() { v = 1; } void B() { w = 2; } }");
        var methods = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().ToList();

        Assert.True(IdentifierText.MayName(methods[0], "v", default));
        Assert.False(IdentifierText.MayName(methods[1], "v", default));
    }

    private static bool MayName(string member, string name)
    {
        var tree = CSharpSyntaxTree.ParseText($"class C {{ {member} }}");
        var method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().Single();
        return IdentifierText.MayName(method, name, default);
    }
}
