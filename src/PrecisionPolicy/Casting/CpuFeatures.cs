using System.Collections.Generic;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace PrecisionPolicy.Casting;

/// <summary>
/// What the runtime itself says about the CPU, on any OS. <c>IsSupported</c> of an intrinsics class
/// answers for the CPU and the OS together (AVX-512 counts only when the OS saves its registers). For the
/// GEMM extensions .NET has no class for (AVX512-VNNI/BF16/FP16, AMX) the CPUID bits are read with
/// <see cref="X86Base.CpuId"/> (Intel SDM vol. 2A, CPUID leaf 07H), and counted only when the OS enables
/// AVX-512 state: every AMX CPU has AVX-512, and .NET cannot read XCR0 to see the tile state itself.
/// </summary>
internal static class CpuFeatures
{
    /// <summary>The flags (in /proc/cpuinfo spelling) the runtime can answer on this architecture, each with its answer.</summary>
    public static IReadOnlyDictionary<string, bool> Detect()
    {
        var flags = new Dictionary<string, bool>();
        if (X86Base.IsSupported)
        {
            flags["avx2"] = Avx2.IsSupported;
            flags["fma"] = Fma.IsSupported;
            flags["avx512f"] = Avx512F.IsSupported;
            var (ecx7, edx7, eax71) = Leaf7();
#if NET9_0_OR_GREATER
            flags["avx_vnni"] = AvxVnni.IsSupported;
#else // AvxVnni is a preview API before .NET 9: its CPUID bit (leaf 7 sub-leaf 1 EAX bit 4), with the OS saving YMM state
            flags["avx_vnni"] = Avx2.IsSupported && Bit(eax71, 4);
#endif
            var avx512State = Avx512F.IsSupported;
            flags["avx512_vnni"] = avx512State && Bit(ecx7, 11);
            flags["avx512_bf16"] = avx512State && Bit(eax71, 5);
            flags["avx512_fp16"] = avx512State && Bit(edx7, 23);
            flags["amx_bf16"] = avx512State && Bit(edx7, 22);
            flags["amx_tile"] = avx512State && Bit(edx7, 24);
            flags["amx_fp16"] = avx512State && Bit(eax71, 21);
        }
        else if (ArmBase.IsSupported)
        {
            flags["asimd"] = AdvSimd.IsSupported;
        }
        return flags;
    }

    /// <summary>The processor brand string (CPUID leaves 8000_0002H–8000_0004H), or null where there is none.</summary>
    public static string? BrandString()
    {
        if (!X86Base.IsSupported || (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000004) return null;
        var text = new StringBuilder(48);
        for (var leaf = 0x80000002; leaf <= 0x80000004; leaf++)
        {
            var (eax, ebx, ecx, edx) = X86Base.CpuId(unchecked((int)leaf), 0);
            foreach (var register in new[] { eax, ebx, ecx, edx })
                for (var b = 0; b < 4; b++)
                {
                    var c = (char)((register >> (8 * b)) & 0xFF);
                    if (c != '\0') text.Append(c);
                }
        }
        var brand = text.ToString().Trim();
        return brand.Length == 0 ? null : brand;
    }

    // Leaf 7 sub-leaf 0 (ECX, EDX) and sub-leaf 1 (EAX); zeros where the CPU has no such leaf.
    private static (int Ecx, int Edx, int Eax1) Leaf7()
    {
        if (X86Base.CpuId(0, 0).Eax < 7) return (0, 0, 0);
        var (maxSubLeaf, _, ecx, edx) = X86Base.CpuId(7, 0);
        var eax1 = maxSubLeaf >= 1 ? X86Base.CpuId(7, 1).Eax : 0;
        return (ecx, edx, eax1);
    }

    private static bool Bit(int register, int bit) => (register & (1 << bit)) != 0;
}
