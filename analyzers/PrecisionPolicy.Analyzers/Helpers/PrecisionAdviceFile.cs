using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>One finding of the numerics trace at one call site (precision-advice.json, written by NumericsTrace.WriteAdvice).</summary>
internal sealed record AdviceEntry(string File, int Line, int Column, string Op, string Finding, string Dtype, string Amax, double Fraction);

/// <summary>
/// Reads precision-advice.json: <c>{ "version": 1, "sites": [ { "file", "line", "column", "op", "finding", "dtype", "amax", "fraction" } ] }</c>.
/// A small JSON reader of its own: an analyzer cannot count on System.Text.Json being loadable in every host.
/// Never throws: a file it cannot read gives an error and its position.
/// </summary>
internal static class PrecisionAdviceFile
{
    public const string FileName = "precision-advice.json";

    public static (ImmutableArray<AdviceEntry> Entries, string? Error, int ErrorPosition) Parse(string text)
    {
        var reader = new Reader(text);
        try
        {
            var root = reader.ReadDocument();
            if (root is not Dictionary<string, object?> document)
                return Fail("the top level is not an object", 0);
            if (!document.TryGetValue("sites", out var sitesValue) || sitesValue is not List<object?> sites)
                return Fail("it has no \"sites\" array", 0);
            var entries = ImmutableArray.CreateBuilder<AdviceEntry>(sites.Count);
            for (var i = 0; i < sites.Count; i++)
            {
                if (sites[i] is not Dictionary<string, object?> site ||
                    Text(site, "file") is not { } file || Integer(site, "line") is not { } line || Integer(site, "column") is not { } column ||
                    Text(site, "op") is not { } op || Text(site, "finding") is not { } finding)
                {
                    return Fail("site " + i.ToString(CultureInfo.InvariantCulture) + " lacks a file, line, column, op or finding", 0);
                }
                entries.Add(new AdviceEntry(file, line, column, op, finding, Text(site, "dtype") ?? "FP16", Text(site, "amax") ?? "?", Number(site, "fraction") ?? 0));
            }
            return (entries.MoveToImmutable(), null, 0);
        }
        catch (FormatException e)
        {
            return Fail(e.Message, reader.Position);
        }

        static (ImmutableArray<AdviceEntry>, string?, int) Fail(string error, int position) => (ImmutableArray<AdviceEntry>.Empty, error, position);
    }

    private static string? Text(Dictionary<string, object?> o, string key) => o.TryGetValue(key, out var v) ? v as string : null;

    private static double? Number(Dictionary<string, object?> o, string key) => o.TryGetValue(key, out var v) && v is double d ? d : null;

    private static int? Integer(Dictionary<string, object?> o, string key) =>
        Number(o, key) is { } d && d >= 1 && d <= int.MaxValue && d == Math.Floor(d) ? (int)d : null;

    /// <summary>Objects become dictionaries, arrays lists, numbers doubles; malformed text throws <see cref="FormatException"/>, caught by Parse.</summary>
    private sealed class Reader
    {
        private const int MaxDepth = 64;
        private readonly string text;
        private int depth;

        public Reader(string text) => this.text = text;

        public int Position { get; private set; }

        public object? ReadDocument()
        {
            var value = ReadValue();
            SkipWhitespace();
            if (Position != text.Length) throw new FormatException("unexpected text after the document");
            return value;
        }

        private object? ReadValue()
        {
            SkipWhitespace();
            if (Position >= text.Length) throw new FormatException("unexpected end of file");
            switch (text[Position])
            {
                case '{': return ReadObject();
                case '[': return ReadArray();
                case '"': return ReadString();
                case 't': Expect("true"); return true;
                case 'f': Expect("false"); return false;
                case 'n': Expect("null"); return null;
                default: return ReadNumber();
            }
        }

        private Dictionary<string, object?> ReadObject()
        {
            Enter();
            Position++;
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            SkipWhitespace();
            if (Peek() == '}') { Position++; depth--; return result; }
            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"') throw new FormatException("expected a property name");
                var key = ReadString();
                SkipWhitespace();
                if (Peek() != ':') throw new FormatException("expected ':'");
                Position++;
                result[key] = ReadValue();
                SkipWhitespace();
                var c = Peek();
                Position++;
                if (c == '}') { depth--; return result; }
                if (c != ',') throw new FormatException("expected ',' or '}'");
            }
        }

        private List<object?> ReadArray()
        {
            Enter();
            Position++;
            var result = new List<object?>();
            SkipWhitespace();
            if (Peek() == ']') { Position++; depth--; return result; }
            while (true)
            {
                result.Add(ReadValue());
                SkipWhitespace();
                var c = Peek();
                Position++;
                if (c == ']') { depth--; return result; }
                if (c != ',') throw new FormatException("expected ',' or ']'");
            }
        }

        private string ReadString()
        {
            Position++;
            var builder = new StringBuilder();
            while (true)
            {
                if (Position >= text.Length) throw new FormatException("unterminated string");
                var c = text[Position++];
                if (c == '"') return builder.ToString();
                if (c != '\\') { builder.Append(c); continue; }
                if (Position >= text.Length) throw new FormatException("unterminated string");
                var escape = text[Position++];
                switch (escape)
                {
                    case '"' or '\\' or '/': builder.Append(escape); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u' when Position + 4 <= text.Length &&
                        int.TryParse(text.Substring(Position, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                        builder.Append((char)code);
                        Position += 4;
                        break;
                    default: throw new FormatException("bad escape in a string");
                }
            }
        }

        private double ReadNumber()
        {
            var start = Position;
            while (Position < text.Length && "+-0123456789.eE".IndexOf(text[Position]) >= 0) Position++;
            if (Position == start || !double.TryParse(text.Substring(start, Position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                Position = start;
                throw new FormatException("expected a value");
            }
            return value;
        }

        private void Expect(string word)
        {
            if (string.CompareOrdinal(text, Position, word, 0, word.Length) != 0) throw new FormatException("expected a value");
            Position += word.Length;
        }

        private void Enter()
        {
            if (++depth > MaxDepth) throw new FormatException("nested too deeply");
        }

        private char Peek() => Position < text.Length ? text[Position] : '\0';

        private void SkipWhitespace()
        {
            while (Position < text.Length && char.IsWhiteSpace(text[Position])) Position++;
        }
    }
}
