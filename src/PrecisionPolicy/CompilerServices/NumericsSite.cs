using System.ComponentModel;
using System.IO;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// One intercepted call site, as the generator knows it: where it is, which catalogue row it is and
/// the dtype its tensor inputs are cast to. Generated code holds one per site in a static readonly
/// field and passes it to <see cref="TracedCalls"/>.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NumericsSite
{
    /// <summary>A site at <paramref name="file"/>(<paramref name="line"/>,<paramref name="column"/>), 1-based as the compiler shows them.</summary>
    public NumericsSite(string file, int line, int column, string op, string region, ScalarType dtype)
    {
        File = file;
        Line = line;
        Column = column;
        Op = op;
        Region = region;
        Dtype = dtype;
    }

    /// <summary>The source file path as the compilation named it.</summary>
    public string File { get; }

    /// <summary>1-based line of the call.</summary>
    public int Line { get; }

    /// <summary>1-based column of the call's method name.</summary>
    public int Column { get; }

    /// <summary>The catalogue row, e.g. "torch.softmax".</summary>
    public string Op { get; }

    /// <summary>The region or member policy the site is in.</summary>
    public string Region { get; }

    /// <summary>The dtype the site's tensor inputs are cast to (the dtype underflow and overflow are counted against).</summary>
    public ScalarType Dtype { get; }

    /// <summary>The order in which the trace first saw this site; -1 until then.</summary>
    internal int Index { get; set; } = -1;

    /// <summary><c>path(line,col)</c>, the path relative to the working directory when it is under it.</summary>
    public string Location
    {
        get
        {
            var path = File;
            if (Path.IsPathFullyQualified(path))
            {
                var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
                if (!relative.StartsWith("..", System.StringComparison.Ordinal)) path = relative;
            }
            return path.Replace('\\', '/') + "(" + Line + "," + Column + ")";
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Location + " " + Op;
}
