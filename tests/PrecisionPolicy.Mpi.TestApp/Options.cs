using System;
using System.Collections.Generic;
using System.Globalization;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>key=value arguments.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> values = new();

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options();
        foreach (var a in args)
        {
            var i = a.IndexOf('=');
            if (i > 0) o.values[a[..i]] = a[(i + 1)..];
        }
        return o;
    }

    public string Get(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;

    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
