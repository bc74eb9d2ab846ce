using System;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// A search of a declaration's source text for an identifier, used to decide which members to bind
/// before looking for a field's writes in them. It reads the text as it is (no syntax tokens, so no red
/// nodes and no allocation) and errs only towards "maybe": a "maybe" costs binding a member that
/// turns out not to write the field, a "no" must mean the member cannot name it.
/// </summary>
internal static class IdentifierText
{
    [ThreadStatic]
    private static char[]? buffer;

    /// <summary>
    /// False only when the text of <paramref name="node"/> cannot name <paramref name="name"/> as an
    /// identifier: no occurrence stands alone (between characters that cannot continue an identifier), and
    /// the text holds no escape (<c>\u0076</c> spells <c>v</c>) and no non-ASCII character (a formatting
    /// character inside an identifier is ignored by the language, and non-ASCII letters continue one).
    /// </summary>
    public static bool MayName(SyntaxNode node, string name, CancellationToken cancellationToken)
    {
        if (name.Length == 0)
        {
            return true;
        }

        var span = node.Span;
        var text = node.SyntaxTree.GetText(cancellationToken);
        var chars = buffer is { } existing && existing.Length >= span.Length ? existing : buffer = new char[Math.Max(span.Length, 4096)];
        text.CopyTo(span.Start, chars, 0, span.Length);

        var first = name[0];
        for (var i = 0; i < span.Length; i++)
        {
            var c = chars[i];
            if (c >= 0x80 || c == '\\' && i + 1 < span.Length && chars[i + 1] is 'u' or 'U')
            {
                return true;
            }

            if (c == first && i + name.Length <= span.Length && StandsAlone(chars, i, name, span.Length))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StandsAlone(char[] chars, int start, string name, int length)
    {
        for (var k = 1; k < name.Length; k++)
        {
            if (chars[start + k] != name[k])
            {
                return false;
            }
        }

        return (start == 0 || !ContinuesIdentifier(chars[start - 1])) &&
            (start + name.Length == length || !ContinuesIdentifier(chars[start + name.Length]));
    }

    // ASCII only: a non-ASCII neighbour makes MayName answer "maybe" before it gets here.
    private static bool ContinuesIdentifier(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';
}
