using System;
using System.ComponentModel;
using System.Linq;
using System.Reflection;
using Xunit;

namespace PrecisionPolicy.Tests.Surface;

/// <summary>
/// The split of the public surface: what users call lives in <c>PrecisionPolicy</c> and the namespaces of
/// its folders (<see cref="FolderNamespaceTests"/>); what only generated code calls lives in
/// <c>PrecisionPolicy.CompilerServices</c> and is hidden from IntelliSense. (The exact list of public
/// symbols is pinned by src/PrecisionPolicy/PublicAPI.*.txt.)
/// </summary>
public sealed class PublicSurfaceTests
{
    private const string UserNamespace = "PrecisionPolicy";
    private const string CompilerServicesNamespace = "PrecisionPolicy.CompilerServices";

    private static readonly Type[] PublicTypes = typeof(AutocastAttribute).Assembly.GetExportedTypes();

    // The namespaces users write: the root and every folder's but CompilerServices.
    private static readonly string[] UserNamespaces = PublicTypes.Select(static t => t.Namespace!).Where(static ns => ns != CompilerServicesNamespace).Distinct().ToArray();

    [Fact]
    public void Public_types_live_under_the_root_namespace()
    {
        var elsewhere = PublicTypes.Where(static t => t.Namespace != UserNamespace && t.Namespace?.StartsWith(UserNamespace + ".", StringComparison.Ordinal) != true).Select(static t => t.FullName);
        Assert.Empty(elsewhere);
        Assert.Contains(UserNamespace, UserNamespaces);
        Assert.Contains("PrecisionPolicy.Optimization", UserNamespaces);
    }

    [Fact]
    public void Compiler_services_types_are_hidden_from_the_editor()
    {
        var services = PublicTypes.Where(static t => t.Namespace == CompilerServicesNamespace).ToList();
        Assert.Contains(services, static t => t.Name == "Autocast");
        Assert.Empty(services.Where(static t => !IsHidden(t)).Select(static t => t.FullName));
    }

    [Fact]
    public void User_types_are_visible_in_the_editor()
    {
        var hidden = PublicTypes.Where(static t => UserNamespaces.Contains(t.Namespace) && IsHidden(t)).Select(static t => t.FullName);
        Assert.Empty(hidden);
    }

    [Fact]
    public void User_members_that_take_or_return_compiler_services_types_are_hidden()
    {
        var leaks =
            from type in PublicTypes.Where(static t => UserNamespaces.Contains(t.Namespace))
            from member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            where SignatureTypes(member).Any(static t => t.Namespace == CompilerServicesNamespace) && !IsHidden(member)
            select type.Name + "." + member.Name;
        Assert.Empty(leaks);
    }

    private static bool IsHidden(MemberInfo member) =>
        member.GetCustomAttribute<EditorBrowsableAttribute>() is { State: EditorBrowsableState.Never };

    private static Type[] SignatureTypes(MemberInfo member) => member switch
    {
        MethodBase method => method.GetParameters().Select(static p => p.ParameterType)
            .Concat(method is MethodInfo m ? new[] { m.ReturnType } : Array.Empty<Type>()).Select(Element).ToArray(),
        PropertyInfo property => new[] { Element(property.PropertyType) },
        FieldInfo field => new[] { Element(field.FieldType) },
        _ => Array.Empty<Type>(),
    };

    private static Type Element(Type type) => type.HasElementType ? Element(type.GetElementType()!) : type;
}
