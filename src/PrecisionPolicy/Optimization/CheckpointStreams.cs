using System;
using System.IO;
using System.Security.Cryptography;

namespace PrecisionPolicy.Optimization;

/// <summary>Write-only stream that passes bytes on to another stream and into a hash, counting them.</summary>
internal sealed class HashingWriteStream(Stream inner, IncrementalHash? hash) : Stream
{
    public long Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash?.AppendData(buffer);
        inner.Write(buffer);
        Written += buffer.Length;
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>A stream that only counts: for sizing a section before writing it.</summary>
    public static HashingWriteStream Counter() => new(Null, null);
}

/// <summary>
/// Read-only view of the next <paramref name="length"/> bytes of a stream: reads past them see the
/// end of the stream, so a damaged section cannot run into the next one. Every byte read goes into
/// <paramref name="hash"/> when one is given.
/// </summary>
internal sealed class SectionReadStream(Stream inner, long length, IncrementalHash? hash) : Stream
{
    private readonly long size = length;

    public long Remaining { get; private set; } = length;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => size;
    public override long Position { get => size - Remaining; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (Remaining == 0 || buffer.Length == 0) return 0;
        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, Remaining)]);
        if (n == 0) throw new EndOfStreamException();
        hash?.AppendData(buffer[..n]);
        Remaining -= n;
        return n;
    }

    /// <summary>Reads (and hashes) whatever the section's reader left unread.</summary>
    public void Drain()
    {
        Span<byte> scratch = stackalloc byte[4096];
        while (Remaining > 0) _ = Read(scratch); // Read throws at a premature end
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
