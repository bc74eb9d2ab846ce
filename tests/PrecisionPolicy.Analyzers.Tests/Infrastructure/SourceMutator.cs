using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>
/// Deterministic damage to source text, the kind an editor shows an analyzer while the user types:
/// truncation, deleted tokens, deleted or duplicated lines, one to three at a time.
/// </summary>
internal static class SourceMutator
{
    public static IEnumerable<string> Variants(IReadOnlyList<(string Path, string Text)> sources, int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var text = sources[i % sources.Count].Text;
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations && text.Length > 0; m++)
            {
                text = random.Next(4) switch
                {
                    0 => text.Substring(0, random.Next(text.Length)),
                    1 => DeleteToken(text, random),
                    2 => EditLines(text, random, duplicate: false),
                    _ => EditLines(text, random, duplicate: true),
                };
            }

            yield return text;
        }
    }

    private static string DeleteToken(string text, Random random)
    {
        var tokens = SyntaxFactory.ParseTokens(text).Where(static t => t.Span.Length > 0).ToList();
        if (tokens.Count == 0)
        {
            return text;
        }

        var span = tokens[random.Next(tokens.Count)].Span;
        return text.Remove(span.Start, span.Length);
    }

    private static string EditLines(string text, Random random, bool duplicate)
    {
        var lines = text.Split('\n').ToList();
        var index = random.Next(lines.Count);
        if (duplicate)
        {
            lines.Insert(index, lines[index]);
        }
        else
        {
            lines.RemoveRange(index, Math.Min(random.Next(1, 4), lines.Count - index));
        }

        return string.Join("\n", lines);
    }
}
