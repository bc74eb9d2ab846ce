using System;
using System.Threading;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Ctrl+C while training: the first press stops after the current step, so the runs so far are
/// still reported and written; a second press ends the process at once, as usual.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource source = new();

    public Interruption() => Console.CancelKeyPress += OnCancelKeyPress;

    /// <summary>Cancelled at the first Ctrl+C.</summary>
    public CancellationToken Token => source.Token;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (source.IsCancellationRequested) return;
        e.Cancel = true;
        source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        source.Dispose();
    }
}
