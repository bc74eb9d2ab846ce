using System.Text;

namespace PrecisionPolicy.Generators.Helpers;

/// <summary>
/// Writes source text line by line with four-space indentation: generated code is emitted as text
/// (as the Roslyn incremental-generator cookbook advises), never built with SyntaxFactory.
/// </summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder builder = new();
    private int depth;

    public IndentedWriter Line(string text = "")
    {
        if (text.Length == 0)
        {
            builder.Append('\n');
            return this;
        }
        builder.Append(' ', depth * 4).Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes the line (usually a declaration) and an opening brace, and indents.</summary>
    public IndentedWriter Open(string text)
    {
        Line(text);
        Line("{");
        depth++;
        return this;
    }

    /// <summary>Outdents and writes the closing brace (with an optional suffix such as ';').</summary>
    public IndentedWriter Close(string suffix = "")
    {
        depth--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => builder.ToString();
}
