using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PrecisionPolicy.Distributed;
using TorchSharp;
using static MPI.Unsafe;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi;

/// <summary>
/// The ranks of an MPI job (<c>MPI_COMM_WORLD</c>) as a <see cref="ICommunicator"/>: collectives run on
/// the tensors' own memory (contiguous CPU tensors; nothing is copied to a managed array), gradients
/// travel in the reduce dtype (float32 as <c>MPI_FLOAT</c> with <c>MPI_SUM</c>, bfloat16 and float16 as
/// 2-byte elements summed by a user-defined op that adds in float32 and rounds once per addition).
/// <para>
/// <see cref="World"/> started by <c>mpiexec</c> initializes MPI; started on its own it is a world of
/// one process and loads no MPI library. A gradient all-reduce is a reduce-scatter then an all-gather of
/// the reduced parts, so every rank receives the same bits. MPI's default behaviour on a failed rank
/// is to end the job: Hydra (MPICH's <c>mpiexec</c>) kills every rank when one exits abnormally, and an
/// unhandled exception on a rank calls <c>MPI_Abort</c>, so no rank waits forever in a collective.
/// </para>
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    // MPI_THREAD_MULTIPLE in MPICH's ABI: the watchdog may abort the job while the main thread waits in a collective.
    private const int ThreadMultiple = 3;
    private static readonly object Gate = new();
    private static MpiCommunicator? world;

    private readonly bool usesMpi;
    private readonly int bfloat16Sum;
    private readonly int float16Sum;
    private long bytesSent;

    private MpiCommunicator(bool usesMpi, int rank, int worldSize, int bfloat16Sum, int float16Sum)
    {
        this.usesMpi = usesMpi;
        Rank = rank;
        WorldSize = worldSize;
        this.bfloat16Sum = bfloat16Sum;
        this.float16Sum = float16Sum;
    }

    /// <summary>
    /// The world of this process: all ranks of the MPI job when started by <c>mpiexec</c> (MPI is
    /// initialized on first use and finalized at exit), else one rank.
    /// </summary>
    /// <exception cref="DllNotFoundException">Started by a launcher, but libmpich is not installed (the message names the package).</exception>
    public static MpiCommunicator World
    {
        get
        {
            lock (Gate) return world ??= Create();
        }
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int WorldSize { get; }

    /// <summary>Whether this process is part of an MPI job (false: a world of one, no MPI loaded).</summary>
    public bool UsesMpi => usesMpi;

    /// <inheritdoc />
    public long BytesSent => Interlocked.Read(ref bytesSent);

    private static MpiCommunicator Create()
    {
        if (!MpiLauncher.Started()) return new MpiCommunicator(false, 0, 1, 0, 0);
        MpiLibrary.Load();
        int initialized;
        Check(MPI_Initialized(out initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            var argc = 0;
            byte** argv = null;
            Check(MPI_Init_thread(ref argc, ref argv, ThreadMultiple, out _), "MPI_Init_thread");
            // A rank that exits with an error code ends the job (MPI_Finalize would wait for ranks still stepping).
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                if (Environment.ExitCode == 0) FinalizeOnce();
                else AbortJob($"exit code {Environment.ExitCode}");
            };
            AppDomain.CurrentDomain.UnhandledException += (_, e) => AbortJob(e.ExceptionObject);
        }
        // Errors come back as return codes (thrown here) instead of ending the process silently.
        Check(MPI_Errhandler_set(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Errhandler_set");
        Check(MPI_Comm_rank(MPI_COMM_WORLD, out var rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(MPI_COMM_WORLD, out var size), "MPI_Comm_size");
        // Not commutative: MPICH then combines the ranks' contributions in rank order.
        Check(MPI_Op_create((IntPtr)(delegate* unmanaged[Cdecl]<void*, void*, int*, int*, void>)&SixteenBitSum.BFloat16, 0, out var bf16), "MPI_Op_create");
        Check(MPI_Op_create((IntPtr)(delegate* unmanaged[Cdecl]<void*, void*, int*, int*, void>)&SixteenBitSum.Float16, 0, out var fp16), "MPI_Op_create");
        var communicator = new MpiCommunicator(true, rank, size, bf16, fp16);
        communicator.watchdog = new CollectiveWatchdog(CollectiveWatchdog.TimeoutFromEnvironment(), rank, (call, timeout) =>
            AbortJob($"{call} waited {timeout.TotalSeconds:F0} s for the other ranks: one of them died, hangs or left the training loop early " +
                     $"(set {CollectiveWatchdog.TimeoutVariable} to wait longer)"));
        return communicator;
    }

    private CollectiveWatchdog? watchdog; // null in a world of one

    /// <summary>
    /// How long a collective may wait for the other ranks before the job is aborted (default 30 minutes, as
    /// PyTorch's process groups; the <c>PRECISIONPOLICY_MPI_TIMEOUT_SECONDS</c> environment variable sets it).
    /// </summary>
    public TimeSpan CollectiveTimeout => watchdog?.Timeout ?? CollectiveWatchdog.TimeoutFromEnvironment();

    /// <inheritdoc />
    public void AllReduceSum(Tensor gradient, ScalarType reduceDtype)
    {
        RequireBuffer(gradient, nameof(gradient), ScalarType.Float32);
        var wireType = RequireReduceDtype(reduceDtype);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wire = reduceDtype == ScalarType.Float32 ? gradient : gradient.to(reduceDtype);
        if (WorldSize > 1)
        {
            var parts = Partitions.Of(wire.numel(), WorldSize);
            var part = empty(parts[Rank].Length, reduceDtype);
            ReduceScatterRaw(wire, part, parts, wireType);
            AllGatherRaw(part, wire, parts);
        }
        if (!ReferenceEquals(wire, gradient)) gradient.copy_(wire);
    }

    /// <inheritdoc />
    public void ReduceScatterSum(Tensor input, Tensor output, ScalarType reduceDtype)
    {
        RequireBuffer(input, nameof(input), ScalarType.Float32);
        RequireBuffer(output, nameof(output), ScalarType.Float32);
        var wireType = RequireReduceDtype(reduceDtype);
        var parts = Partitions.Of(input.numel(), WorldSize);
        RequireLength(output, parts[Rank].Length, nameof(output));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wire = reduceDtype == ScalarType.Float32 ? input : input.to(reduceDtype);
        if (WorldSize == 1)
        {
            output.copy_(wire);
            return;
        }
        var part = reduceDtype == ScalarType.Float32 ? output : empty(parts[Rank].Length, reduceDtype);
        ReduceScatterRaw(wire, part, parts, wireType);
        if (!ReferenceEquals(part, output)) output.copy_(part);
    }

    /// <inheritdoc />
    public void AllGather(Tensor part, Tensor output)
    {
        RequireBuffer(part, nameof(part), output.dtype);
        RequireBuffer(output, nameof(output), part.dtype);
        var parts = Partitions.Of(output.numel(), WorldSize);
        RequireLength(part, parts[Rank].Length, nameof(part));
        if (WorldSize == 1)
        {
            using var _ = no_grad();
            output.copy_(part);
            return;
        }
        AllGatherRaw(part, output, parts);
    }

    /// <inheritdoc />
    public void Broadcast(Tensor buffer, int root)
    {
        RequireBuffer(buffer, nameof(buffer), buffer.dtype);
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        if (WorldSize == 1) return;
        var (type, count) = WireOf(buffer);
        if (Rank == root) Interlocked.Add(ref bytesSent, buffer.numel() * buffer.element_size());
        Watched("MPI_Bcast", () => MPI_Bcast(Address(buffer), count, type, root, MPI_COMM_WORLD));
    }

    /// <inheritdoc />
    public double[][] AllGather(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (WorldSize == 1) return new[] { (double[])values.Clone() };
        var all = new double[values.Length * WorldSize];
        Interlocked.Add(ref bytesSent, values.Length * sizeof(double));
        fixed (double* send = values)
        fixed (double* receive = all)
        {
            var (s, r) = ((IntPtr)send, (IntPtr)receive);
            Watched("MPI_Allgather", () => MPI_Allgather(s, values.Length, MPI_DOUBLE, r, values.Length, MPI_DOUBLE, MPI_COMM_WORLD));
        }
        return Enumerable.Range(0, WorldSize).Select(r => all.AsSpan(r * values.Length, values.Length).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public byte[][] AllGatherBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (WorldSize == 1) return new[] { (byte[])bytes.Clone() };
        var lengths = AllGather(new[] { (double)bytes.Length }).Select(l => (int)l[0]).ToArray();
        var displacements = new int[WorldSize];
        for (var r = 1; r < WorldSize; r++) displacements[r] = displacements[r - 1] + lengths[r - 1];
        var all = new byte[lengths.Sum()];
        Interlocked.Add(ref bytesSent, bytes.Length);
        fixed (byte* send = bytes)
        fixed (byte* receive = all)
        {
            var (s, r) = ((IntPtr)send, (IntPtr)receive);
            Watched("MPI_Allgatherv", () => MPI_Allgatherv(s, bytes.Length, MPI_BYTE, r, lengths, displacements, MPI_BYTE, MPI_COMM_WORLD));
        }
        return Enumerable.Range(0, WorldSize).Select(r => all.AsSpan(displacements[r], lengths[r]).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public bool Any(bool flag) => AllGather(new[] { flag ? 1.0 : 0.0 }).Any(v => v[0] != 0.0);

    private void ReduceScatterRaw(Tensor wire, Tensor part, IReadOnlyList<(long Start, long Length)> parts, (int Type, int Op) wireType)
    {
        var counts = Counts(parts);
        Interlocked.Add(ref bytesSent, wire.numel() * wire.element_size());
        Watched("MPI_Reduce_scatter", () => MPI_Reduce_scatter(Address(wire), Address(part), counts, wireType.Type, wireType.Op, MPI_COMM_WORLD));
    }

    private void AllGatherRaw(Tensor part, Tensor output, IReadOnlyList<(long Start, long Length)> parts)
    {
        var (type, _) = WireOf(output);
        var counts = Counts(parts);
        var displacements = parts.Select(p => checked((int)p.Start)).ToArray();
        Interlocked.Add(ref bytesSent, part.numel() * part.element_size());
        // MPI forbids a send buffer inside the receive buffer: a part that already sits at its place in the output
        // (ZeRO gathers the working weights so) is sent as MPI_IN_PLACE.
        var send = Address(part);
        if (part.numel() > 0 && send == Address(output) + (nint)(parts[Rank].Start * output.element_size())) send = InPlace;
        Watched("MPI_Allgatherv", () => MPI_Allgatherv(send, counts[Rank], type, Address(output), counts, displacements, type, MPI_COMM_WORLD));
    }

    private (int Type, int Op) RequireReduceDtype(ScalarType reduceDtype) => reduceDtype switch
    {
        ScalarType.Float32 => (MPI_FLOAT, MPI_SUM),
        ScalarType.BFloat16 => (MPI_UNSIGNED_SHORT, bfloat16Sum),
        ScalarType.Float16 => (MPI_UNSIGNED_SHORT, float16Sum),
        _ => throw new ArgumentOutOfRangeException(nameof(reduceDtype), $"The reduce dtype must be float32, bfloat16 or float16 (was {reduceDtype})."),
    };

    private static (int Type, int Count) WireOf(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => (MPI_FLOAT, checked((int)t.numel())),
        ScalarType.Float64 => (MPI_DOUBLE, checked((int)t.numel())),
        ScalarType.BFloat16 or ScalarType.Float16 => (MPI_UNSIGNED_SHORT, checked((int)t.numel())),
        _ => (MPI_BYTE, checked((int)(t.numel() * t.element_size()))),
    };

    private static int[] Counts(IReadOnlyList<(long Start, long Length)> parts)
    {
        if (parts.Any(p => p.Length > int.MaxValue))
            throw new NotSupportedException($"A rank's part has {parts.Max(p => p.Length)} elements: MPI counts are 32-bit, so at most {int.MaxValue} per rank.");
        return parts.Select(p => (int)p.Length).ToArray();
    }

    private static void RequireBuffer(Tensor t, string name, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.device_type != DeviceType.CPU)
            throw new ArgumentException($"'{name}' lives on {t.device}: MPI collectives here run on CPU memory (a CUDA-aware MPI is not used).", name);
        if (!t.is_contiguous())
            throw new ArgumentException($"'{name}' must be contiguous: collectives run on the tensor's memory in place.", name);
        if (t.dtype != dtype)
            throw new ArgumentException($"'{name}' is {t.dtype}; {dtype} was expected.", name);
    }

    private static void RequireLength(Tensor t, long expected, string name)
    {
        if (t.numel() != expected)
            throw new ArgumentException($"'{name}' has {t.numel()} elements; this rank's part has {expected}.", name);
    }

    // MPI_IN_PLACE in MPICH's (and MS-MPI's) ABI: (void*)-1.
    private static readonly IntPtr InPlace = new(-1);

    // The address of the tensor's first element: a contiguous CPU tensor's storage, from its offset.
    private static IntPtr Address(Tensor t) => t.numel() == 0 ? IntPtr.Zero : (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    // A collective under the watchdog: if the other ranks do not join it in time, the job is aborted.
    private void Watched(string call, Func<int> collective)
    {
        watchdog?.Enter(call);
        try
        {
            Check(collective(), call);
        }
        finally
        {
            watchdog?.Leave();
        }
    }

    private static void Check(int code, string call)
    {
        if (code == 0) return;
        var text = new byte[1024];
        var length = 0;
        var message = MPI_Error_string(code, text, ref length) == 0 ? System.Text.Encoding.ASCII.GetString(text, 0, length) : $"error code {code}";
        throw new InvalidOperationException($"{call} failed: {message}");
    }

    private static int finalized;

    private static void FinalizeOnce()
    {
        if (Interlocked.Exchange(ref finalized, 1) == 0) MPI_Finalize();
    }

    private static void AbortJob(object reason)
    {
        Console.Error.WriteLine($"Aborting the MPI job so that no rank waits forever: {reason}");
        if (Interlocked.Exchange(ref finalized, 1) == 0) MPI_Abort(MPI_COMM_WORLD, 1);
    }
}
