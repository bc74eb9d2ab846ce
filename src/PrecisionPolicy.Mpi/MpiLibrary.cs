using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Mpi;

/// <summary>
/// Points MPI.NET's imports (built for MS-MPI's <c>msmpi.dll</c>, whose ABI is MPICH's: integer handles,
/// the same constants) at MPICH's <c>libmpich.so.12</c>, or at the file named by the
/// <c>PRECISIONPOLICY_MPI_LIBRARY</c> environment variable (another MPICH-ABI library: Intel MPI, Cray
/// MPICH, MVAPICH). OpenMPI's ABI differs (pointer handles) and is not supported.
/// </summary>
internal static class MpiLibrary
{
    /// <summary>The environment variable that names the MPI library file to load instead of libmpich.so.12.</summary>
    public const string PathVariable = "PRECISIONPOLICY_MPI_LIBRARY";

    private const string DefaultName = "libmpich.so.12";
    private static readonly object Gate = new();
    private static IntPtr handle;
    private static bool resolverSet;

    /// <summary>Loads the library (once) and routes MPI.NET's imports to it; a missing library is a clear error.</summary>
    /// <exception cref="DllNotFoundException">The library is not installed; the message names the package.</exception>
    public static void Load()
    {
        lock (Gate)
        {
            if (handle != IntPtr.Zero) return;
            var name = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : DefaultName;
            if (!NativeLibrary.TryLoad(name, out var loaded))
                throw new DllNotFoundException(
                    $"The MPI library '{name}' could not be loaded, so this process cannot join the MPI job it was started in. " +
                    "Install MPICH (Debian/Ubuntu: apt-get install -y mpich; Fedora: dnf install mpich) or point " +
                    $"{PathVariable} at an MPICH-ABI library (Intel MPI, Cray MPICH, MVAPICH).");
            handle = loaded;
            if (!resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(MPI.Unsafe).Assembly, Resolve);
                resolverSet = true;
            }
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) ? handle : IntPtr.Zero;
}
