using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace PrecisionPolicy.Tests.Telemetry;

/// <summary>
/// A meter factory whose meters only this test listens to (so tests running in parallel do not mix their
/// measurements), with a listener that records every measurement of them.
/// </summary>
internal sealed class TelemetryRecorder : IMeterFactory
{
    private readonly List<Meter> meters = new();
    private readonly MeterListener listener = new();

    public TelemetryRecorder()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            lock (meters)
                if (meters.Contains(instrument.Meter))
                {
                    Instruments.Add(instrument);
                    l.EnableMeasurementEvents(instrument);
                }
        };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        listener.Start();
    }

    public List<Instrument> Instruments { get; } = new();

    public List<(string Name, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

    public IEnumerable<double> Values(string name) => Measurements.Where(m => m.Name == name).Select(m => m.Value);

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (meters) meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        listener.Dispose();
        foreach (var m in meters) m.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var t in tags) copy[t.Key] = t.Value;
        lock (Measurements) Measurements.Add((instrument.Name, value, copy));
    }
}

/// <summary>An <see cref="ILogger"/> that keeps what it is given.</summary>
internal sealed class CapturingLogger : ILogger
{
    public List<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, eventId, formatter(state, exception), exception));
}
