using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// The <c>AttachLora</c> and <c>ApplyPrecisionPolicy()</c> calls of one operation tree (a method body), or of
/// every declaration of a type: all partial parts, constructors, methods, accessors, field and property
/// initializers. PP0020 matches them, by symbol, against the model whose parameters an optimizer is given.
/// </summary>
internal sealed class LoraCalls
{
    private readonly List<IInvocationOperation> attaches = [];
    private readonly List<IInvocationOperation> applies = [];

    private LoraCalls()
    {
    }

    /// <summary><c>x.AttachLora(options)</c> calls of the runtime's <c>LoraExtensions</c>.</summary>
    public IReadOnlyList<IInvocationOperation> Attaches => attaches;

    /// <summary><c>x.ApplyPrecisionPolicy()</c> calls (the generated method, whatever its module type).</summary>
    public IReadOnlyList<IInvocationOperation> Applies => applies;

    /// <summary>The calls of one operation tree.</summary>
    public static LoraCalls In(IOperation root, LoraTypes types, CancellationToken cancellationToken)
    {
        var calls = new LoraCalls();
        calls.Add(root, types, cancellationToken);
        return calls;
    }

    /// <summary>
    /// The calls of every member of <paramref name="type"/> declared in source. Only members whose text may name
    /// one of the two methods are bound: a type is scanned once (the caller caches the answer), and a large type
    /// with no LoRA in it costs a text search per member.
    /// </summary>
    public static LoraCalls InType(INamedTypeSymbol type, LoraTypes types, DtypeFlow flow, CancellationToken cancellationToken)
    {
        var calls = new LoraCalls();
        if (type.DeclaringSyntaxReferences.IsEmpty)
        {
            // A library type: its members have no source to scan.
            return calls;
        }

        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Nested types have their own instances; implicit members (but the constructor, which runs field initializers) have no text.
            if (member is INamedTypeSymbol || member.IsImplicitlyDeclared && member is not IMethodSymbol { MethodKind: MethodKind.Constructor })
            {
                continue;
            }

            foreach (var reference in member.DeclaringSyntaxReferences)
            {
                var node = reference.GetSyntax(cancellationToken);
                if (!IdentifierText.MayName(node, "AttachLora", cancellationToken) &&
                    !IdentifierText.MayName(node, "ApplyPrecisionPolicy", cancellationToken))
                {
                    continue;
                }

                foreach (var root in flow.RootsOf(reference, cancellationToken))
                {
                    calls.Add(root, types, cancellationToken);
                }
            }
        }

        return calls;
    }

    private void Add(IOperation root, LoraTypes types, CancellationToken cancellationToken)
    {
        foreach (var operation in root.DescendantsAndSelf())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (operation is not IInvocationOperation invocation)
            {
                continue;
            }

            if (types.IsAttachLora(invocation.TargetMethod))
            {
                attaches.Add(invocation);
            }
            else if (invocation.TargetMethod.Name == "ApplyPrecisionPolicy")
            {
                applies.Add(invocation);
            }
        }
    }
}
