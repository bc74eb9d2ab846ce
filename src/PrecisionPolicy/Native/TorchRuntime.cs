using System;
using TorchSharp;

namespace PrecisionPolicy.Native;

/// <summary>
/// Loads libtorch once and turns a load failure into a message that names the cause and the fix,
/// instead of a bare <see cref="TypeInitializationException"/> from deep inside TorchSharp.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad);

    /// <summary>Throws <see cref="TorchUnavailableException"/> when libtorch cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure) throw new TorchUnavailableException(Explain(failure), failure);
    }

    private static Exception? TryLoad()
    {
        try
        {
            using var probe = torch.zeros(1);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or BadImageFormatException)
        {
            return e;
        }
    }

    internal static string Explain(Exception failure)
    {
        var root = failure;
        while (root.InnerException is not null) root = root.InnerException;
        var detail = root.Message;
        var cause = detail.Contains("GLIBCXX", StringComparison.Ordinal)
            ? "libLibTorchSharp.so needs GLIBCXX_3.4.32, which this system's libstdc++ (e.g. Debian 12, Ubuntu 22.04) lacks. " +
              "Build through PrecisionPolicy's build targets (build/PrecisionPolicy.targets), which mark that version need weak in the output folder's copy; " +
              "do not set PrecisionPolicyPatchTorchSharpNative=false."
            : detail.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || root is DllNotFoundException
                ? "the native libtorch backend is missing: reference a backend package from the app or test project " +
                  "(in this repository set UsesTorchBackend=true and TorchBackend=cpu|cuda)."
                : "see the inner exception.";
        return $"TorchSharp could not load its native library: {cause} Loader said: {detail}";
    }
}

/// <summary>libtorch could not be loaded; the message says why and what to do.</summary>
public sealed class TorchUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TorchUnavailableException(string message, Exception inner) : base(message, inner) { }
}
