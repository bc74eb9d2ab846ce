using Microsoft.CodeAnalysis;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>The runtime's NF4 and LoRA types PP0020 looks for, resolved once per compilation.</summary>
internal sealed class LoraTypes
{
    private LoraTypes(INamedTypeSymbol nf4Linear, INamedTypeSymbol? nf4Tensor, INamedTypeSymbol? loraLayer, INamedTypeSymbol? loraExtensions)
    {
        Nf4Linear = nf4Linear;
        Nf4Tensor = nf4Tensor;
        LoraLayer = loraLayer;
        LoraExtensions = loraExtensions;
    }

    public INamedTypeSymbol Nf4Linear { get; }

    public INamedTypeSymbol? Nf4Tensor { get; }

    public INamedTypeSymbol? LoraLayer { get; }

    public INamedTypeSymbol? LoraExtensions { get; }

    /// <summary>The types, or null when the compilation does not reference the runtime library's quantization.</summary>
    public static LoraTypes? From(Compilation compilation) =>
        compilation.GetTypeByMetadataName("PrecisionPolicy.Quantization.Nf4Linear") is { } nf4Linear
            ? new LoraTypes(
                nf4Linear,
                compilation.GetTypeByMetadataName("PrecisionPolicy.Quantization.Nf4Tensor"),
                compilation.GetTypeByMetadataName("PrecisionPolicy.Lora.LoraLayer"),
                compilation.GetTypeByMetadataName("PrecisionPolicy.Lora.LoraExtensions"))
            : null;

    /// <summary>An NF4 layer or weight (the frozen 4-bit base).</summary>
    public bool IsNf4(ITypeSymbol? type) => TorchSymbols.Derives(type, Nf4Linear) || TorchSymbols.Derives(type, Nf4Tensor);

    /// <summary><c>model.AttachLora(options)</c>.</summary>
    public bool IsAttachLora(IMethodSymbol method) =>
        method.Name == "AttachLora" && SymbolEqualityComparer.Default.Equals(method.ContainingType, LoraExtensions);
}
