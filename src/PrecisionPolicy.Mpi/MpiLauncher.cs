using System;

namespace PrecisionPolicy.Mpi;

/// <summary>Whether this process was started by an MPI launcher (<c>mpiexec</c>, <c>srun</c> with PMI).</summary>
internal static class MpiLauncher
{
    // Hydra (MPICH's mpiexec) and Slurm's PMI set these in every rank's environment; a process
    // started on its own has none of them and runs as a world of one without loading MPI.
    private static readonly string[] Variables = { "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "PMI_FD" };

    public static bool Started()
    {
        foreach (var v in Variables)
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))) return true;
        return false;
    }
}
