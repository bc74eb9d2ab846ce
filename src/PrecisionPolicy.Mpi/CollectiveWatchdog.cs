using System;
using System.Globalization;
using System.Threading;

namespace PrecisionPolicy.Mpi;

/// <summary>
/// Bounds how long a rank waits in a collective. MPI's own answer to a failed rank is to end the job
/// (Hydra kills every rank when one is killed or crashes), but a rank that leaves the training loop
/// early or hangs leaves the others blocked in a collective forever: a timer thread then aborts the job
/// (<c>MPI_Abort</c>) with a message naming the collective.
/// </summary>
internal sealed class CollectiveWatchdog
{
    /// <summary>The environment variable that sets the timeout in seconds.</summary>
    public const string TimeoutVariable = "PRECISIONPOLICY_MPI_TIMEOUT_SECONDS";

    private readonly Action<string, TimeSpan> expire;
    private readonly Timer timer;
    private string? call;
    private long deadline; // Environment.TickCount64 at which the current collective expires

    public CollectiveWatchdog(TimeSpan timeout, int rank, Action<string, TimeSpan> expire)
    {
        Timeout = timeout;
        this.expire = (c, t) => expire($"rank {rank}: {c}", t);
        timer = new Timer(_ => Check(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public TimeSpan Timeout { get; }

    /// <summary>30 minutes (PyTorch's default process-group timeout), or the variable's seconds.</summary>
    public static TimeSpan TimeoutFromEnvironment() =>
        Environment.GetEnvironmentVariable(TimeoutVariable) is { Length: > 0 } v && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(30);

    public void Enter(string name)
    {
        Volatile.Write(ref call, name);
        Volatile.Write(ref deadline, Environment.TickCount64 + (long)Timeout.TotalMilliseconds);
    }

    public void Leave() => Volatile.Write(ref call, null);

    private void Check()
    {
        var current = Volatile.Read(ref call);
        if (current is not null && Environment.TickCount64 > Volatile.Read(ref deadline))
        {
            timer.Dispose();
            expire(current, Timeout);
        }
    }
}
