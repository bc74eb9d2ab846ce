using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;
using PrecisionPolicy.Generators.Model;

namespace PrecisionPolicy.Generators;

public sealed partial class AutocastGenerator
{
    internal static partial class Emitter
    {
        private static void EmitInterceptors(IndentedWriter w, PolicySpec spec) =>
            EmitInterceptors(w, spec.TypeName + "PrecisionInterceptors", spec.TypeName, spec.Interceptors);

        private static void EmitInterceptors(IndentedWriter w, string className, string where, EquatableArray<InterceptorSpec> interceptors)
        {
            w.Open("namespace PrecisionPolicy.Generated");
            w.Line("/// <summary>Interceptors of the catalogued TorchSharp calls in " + where + " (" + DocLinks.CastPolicy + ").</summary>");
            w.Line(GeneratedCode);
            w.Open("file static class " + className);
            for (var i = 0; i < interceptors.Count; i++)
            {
                if (i > 0) w.Line();
                var obsolete = interceptors[i].CallsObsolete;
                if (obsolete) w.Line("#pragma warning disable CS0618 // calls the [Obsolete] op the intercepted code calls");
                EmitInterceptor(w, interceptors[i], i);
                if (obsolete) w.Line("#pragma warning restore CS0618");
            }
            w.Close();
            w.Close();
        }

        private static void EmitInterceptor(IndentedWriter w, InterceptorSpec spec, int index)
        {
            var name = SafeMethodName(spec.MethodName) + "_" + index.ToString(CultureInfo.InvariantCulture);
            var parameters = new List<string>();
            if (spec.ThisType.Length > 0) parameters.Add("this " + spec.ThisType + " self");
            foreach (var p in spec.Parameters)
                parameters.Add((p.IsParams ? "params " : "") + (spec.ExtensionForm && parameters.Count == 0 ? "this " : "") + p.Type + " " + p.Name);
            var signature = "(" + string.Join(", ", parameters) + ")";

            if (spec.Ambient || (!HasCasts(spec) && !spec.RuntimeForward))
            {
                // Casts decided at run time, a region entered or the output policy applied: one method for every site,
                // no numerics-trace site of its own (the ops it reaches are traced where they are cast).
                w.Line("// " + spec.Row + " (" + Describe(spec) + ") in " + spec.Reason);
                foreach (var location in spec.Locations)
                    w.Line("[global::System.Runtime.CompilerServices.InterceptsLocation(" + location.Version.ToString(CultureInfo.InvariantCulture) + ", \"" + location.Data + "\")] // " + location.Display);
                w.Open("public static " + spec.ReturnType + " " + name + signature);
                EmitCasts(w, spec);
                w.Close();
                return;
            }

            w.Line("// " + spec.Row + " (" + Describe(spec) + ") in " + spec.Reason + ": the casts of the sites below");
            w.Open("private static " + spec.ReturnType + " " + name + signature);
            EmitCasts(w, spec);
            w.Close();
            for (var i = 0; i < spec.Locations.Count; i++)
            {
                w.Line();
                EmitSite(w, spec, name, signature, spec.Locations[i], i);
            }
        }

        /// <summary>
        /// One call site: its numerics-trace descriptor and its interceptor. With the trace off (the default) the
        /// interceptor costs one static bool check on top of the casts; on, it reports the inputs before their
        /// casts and the output (NumericsTrace).
        /// </summary>
        private static void EmitSite(IndentedWriter w, InterceptorSpec spec, string name, string signature, InterceptLocationSpec location, int ordinal)
        {
            var site = name + "_Site" + ordinal.ToString(CultureInfo.InvariantCulture);
            w.Line("private static readonly " + NumericsSite + " " + site + " = new(" + Literal(location.FilePath) + ", "
                + location.Line.ToString(CultureInfo.InvariantCulture) + ", " + location.Column.ToString(CultureInfo.InvariantCulture) + ", "
                + Literal(spec.Row) + ", " + Literal(spec.Reason) + ", " + ScalarType + "." + SiteDtype(spec) + ");");
            w.Line("[global::System.Runtime.CompilerServices.InterceptsLocation(" + location.Version.ToString(CultureInfo.InvariantCulture) + ", \"" + location.Data + "\")] // " + location.Display);
            w.Open("public static " + spec.ReturnType + " " + name + "_" + ordinal.ToString(CultureInfo.InvariantCulture) + signature);

            var arguments = new List<string>();
            if (spec.ThisType.Length > 0) arguments.Add("self");
            arguments.AddRange(spec.Parameters.Select(static p => p.Name));
            var call = name + "(" + string.Join(", ", arguments) + ")";
            w.Line("if (!" + NumericsTrace + ".IsOn) return " + call + ";");
            var traced = new List<string> { site };
            if (spec.ThisType.Length > 0 && spec.ThisCast != ArgumentCast.None) traced.Add("self");
            traced.AddRange(spec.Parameters.Where(static p => p.Cast != ArgumentCast.None && IsTensor(p.Type)).Select(static p => p.Name));
            w.Line(TracedCalls + ".Inputs(" + string.Join(", ", traced) + ");");
            w.Line(spec.ReturnType == Tensor ? "return " + TracedCalls + ".Output(" + site + ", " + call + ");" : "return " + call + ";");
            w.Close();
        }

        // The dtype the site's tensor inputs are cast to: underflow and overflow are counted against it.
        private static string SiteDtype(InterceptorSpec spec) =>
            spec.Category is CastCategory.Float32 or CastCategory.ModuleFloat32 ? "Float32" : spec.ComputeDtype;

        private static bool IsTensor(string type) => type == Tensor || type == Tensor + "?";

        private static string Literal(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        private static bool HasCasts(InterceptorSpec spec) =>
            spec.ThisCast != ArgumentCast.None || spec.ResultCast != ResultCast.None || spec.Parameters.Any(static p => p.Cast != ArgumentCast.None);

        private static string Original(InterceptorSpec spec)
        {
            var arguments = spec.Parameters.Select(static p => p.Name);
            var target = spec.ThisType.Length > 0 ? "self." + spec.MethodName : spec.StaticContainingType + "." + spec.MethodName;
            return target + "(" + string.Join(", ", arguments) + ")";
        }

        private static void EmitCasts(IndentedWriter w, InterceptorSpec spec)
        {
            if (spec.EntersRegion)
            {
                var compute = spec.RegionCompute.Length > 0 ? spec.RegionCompute : spec.ComputeDtype;
                w.Line("using var __region = " + PolicyRegion + ".Enter(" + ScalarType + "." + compute + (spec.RegionFloat32 ? ", float32: true" : "") + "); // what this call reaches follows the region");
            }
            if (spec.Ambient)
                w.Line("if (" + PolicyRegion + ".Current is not { } __policy) return " + Original(spec) + "; // outside every policy: untouched");
            if (!HasCasts(spec) && !spec.RuntimeForward)
            {
                if (spec.OutputPolicy)
                    w.Line("return " + PolicyCasts + ".DirectForwardOutput(self, " + Original(spec) + "); // as the output hook of call(...) would");
                else
                    w.Line((spec.ReturnType == "void" ? "" : "return ") + Original(spec) + ";");
                return;
            }

            if (IsGemmModuleCall(spec))
            {
                // A Linear or Conv module's weights are stored in the compute dtype; the runtime picks the
                // module call (native GEMM) or the functional op on FP32-widened operands (GEMM mode). A
                // forward(...) call becomes that module call too: the only hook it adds is the policy's
                // boundary cast, which the input already satisfies.
                w.Line("const " + ScalarType + " compute = " + ScalarType + "." + spec.ComputeDtype + ";");
                w.Line("return " + PolicyCasts + (spec.LinearModule ? ".LinearModule(self, " : ".ConvModule(self, ") + spec.Parameters[0].Name + ", compute); // " + spec.Row);
                return;
            }

            if (GemmOpHelper(spec) is { } helper)
            {
                // matmul and bmm: in Fp32Accumulate mode the runtime makes the op one autograd node that keeps the
                // 16-bit operands for backward (an FP32 op on widened operands would have autograd save the widenings).
                var (left, right) = spec.ThisType.Length > 0 ? ("self", spec.Parameters[0].Name) : (spec.Parameters[0].Name, spec.Parameters[1].Name);
                // An FP8 region's sites also pass their operands' scaling-state ids (used under FP8 only).
                var sites = spec.Fp8Site.Length > 0 ? ", " + SiteId(spec.Fp8Site, left) + ", " + SiteId(spec.Fp8Site, right) : "";
                w.Line("const " + ScalarType + " compute = " + ScalarType + "." + spec.ComputeDtype + ";");
                w.Line("return " + PolicyCasts + "." + (sites.Length > 0 ? "Fp8" : "") + helper + "(" + left + ", " + right + sites + ", compute); // " + spec.Row);
                return;
            }

            if (spec.RuntimeForward)
            {
                // Each argument is cast as the module's own boundary hook would cast it (forward(...) runs no hooks).
                var arguments = spec.Parameters.Select(static p => PolicyCasts + ".ForwardInput(self, " + p.Name + ")");
                w.Line("return self." + spec.MethodName + "(" + string.Join(", ", arguments) + "); // the module's run-time storage dtype");
                return;
            }

            var usesCompute = spec.Fp8Linear || spec.ThisCast is ArgumentCast.LowPrecision or ArgumentCast.Exact
                || spec.Parameters.Any(static p => p.Cast is ArgumentCast.LowPrecision or ArgumentCast.LowPrecisionOptional or ArgumentCast.LowPrecisionAll or ArgumentCast.Exact or ArgumentCast.ExactOptional)
                || spec.ResultCast != ResultCast.None;
            if (usesCompute && !spec.Ambient) w.Line("const " + ScalarType + " compute = " + ScalarType + "." + spec.ComputeDtype + ";");

            var promoted = spec.Parameters.Where(static p => p.Cast is ArgumentCast.Promote or ArgumentCast.PromoteOptional).Select(static p => p.Name).ToList();
            if (spec.ThisCast == ArgumentCast.Promote) promoted.Insert(0, "self");
            var sequence = spec.Parameters.FirstOrDefault(static p => p.Cast == ArgumentCast.PromoteAll);
            if (promoted.Count > 0 || sequence is not null)
            {
                if (sequence is not null)
                {
                    // Enumerate a lazy sequence once: it is read for the widest dtype and again for the casts.
                    var span = sequence.Type.StartsWith("global::System.ReadOnlySpan<", System.StringComparison.Ordinal);
                    w.Line("var " + sequence.Name.TrimStart('@') + "Items = " + PolicyCasts + (span ? ".MaterializeSpan(" : ".Materialize(") + sequence.Name + ");");
                }
                var widest = sequence is null
                    ? Autocast + ".Widest(" + string.Join(", ", promoted) + ")"
                    : PolicyCasts + ".Widest(" + sequence.Name.TrimStart('@') + "Items" + (promoted.Count > 0 ? ", " + string.Join(", ", promoted) : "") + ")";
                w.Line("var widest = " + widest + ";");
            }

            var comment = " // " + spec.Row;
            // A module whose policy was never applied still has float32 weights: a clear error, not libtorch's dtype error.
            if (spec.Category == CastCategory.ModuleLowPrecision && spec.ThisType.Length > 0 && usesCompute && !spec.RuntimeForward && !spec.Ambient)
                w.Line(PolicyCasts + ".RequireApplied(self, compute);");
            if (spec.Fp8Linear)
            {
                // The runtime quantizes input and weight at these sites (or, under another precision's scope, makes that precision's Linear call).
                var input = spec.Parameters[0].Name;
                w.Line("return " + PolicyCasts + ".Fp8LinearModule(self, " + input + "," + comment + " (FP8 input and weight, bias in the compute dtype)");
                w.Line("    " + SiteId(spec.Fp8Site, input) + ", " + SiteId(spec.Fp8Site, "weight") + ", compute);");
                return;
            }
            // An FP32 op's widened inputs are freed once it returns (autograd holds its own reference to what its
            // backward needs): left to the caller's dispose scope, each would cost twice a 16-bit activation's bytes.
            var copies = ReleasesFloat32Copies(spec);
            var selfCopy = copies && spec.ThisCast == ArgumentCast.Float32 && spec.ThisType == Tensor;
            if (selfCopy) w.Line("var selfFp32 = " + CastExpression("self", spec.ThisType, spec.ThisCast, spec.Fp8Site, spec.Ambient) + ";" + comment);
            var copied = copies ? spec.Parameters.Where(IsReleasedFloat32Copy).ToList() : new List<ParameterSpec>();
            foreach (var p in copied) w.Line("var " + CopyName(p.Name) + " = " + CastExpression(p.Name, p.Type, p.Cast, spec.Fp8Site, spec.Ambient) + ";" + comment);

            var target = spec.ThisType.Length > 0
                ? (selfCopy ? "selfFp32" : spec.ThisCast == ArgumentCast.None ? "self" : CastExpression("self", spec.ThisType, spec.ThisCast, spec.Fp8Site, spec.Ambient)) + "." + spec.MethodName
                : spec.StaticContainingType + "." + spec.MethodName;
            var call = spec.ResultCast == ResultCast.LowPrecisionResult || copies ? "var result = " : "return ";
            var targetComment = spec.ThisCast != ArgumentCast.None && !selfCopy ? comment : "";
            if (spec.Parameters.Count == 0)
            {
                w.Line(call + target + "();" + targetComment);
            }
            else
            {
                w.Line(call + target + "(" + targetComment);
                for (var i = 0; i < spec.Parameters.Count; i++)
                {
                    var p = spec.Parameters[i];
                    var end = i == spec.Parameters.Count - 1 ? ");" : ",";
                    w.Line("    " + (copied.Contains(p) ? CopyName(p.Name) + end : CastExpression(p.Name, p.Type, p.Cast, spec.Fp8Site, spec.Ambient) + end + (p.Cast != ArgumentCast.None ? comment : "")));
                }
            }
            if (spec.ResultCast == ResultCast.LowPrecisionResult)
                w.Line("return " + (spec.Ambient ? "__policy.LowPrecisionResult(result)" : Autocast + ".LowPrecisionResult(result, compute)") + "; // GEMM mode: FP32-accumulated result rounded to the compute dtype");
            if (!copies) return;
            const string released = " // the FP32 copy is freed now; autograd keeps what backward needs";
            if (selfCopy) w.Line(Autocast + ".ReleaseFloat32Copy(selfFp32, self, result);" + released);
            foreach (var p in copied) w.Line(Autocast + ".ReleaseFloat32Copy(" + CopyName(p.Name) + ", " + p.Name + ", result);" + released);
            w.Line("return result;");
        }

        // A TorchSharp op (not a module call: a module may keep its input) of an FP32 row returning one tensor, with a
        // tensor input it widens: what its widened copies can be freed for as soon as it returns.
        private static bool ReleasesFloat32Copies(InterceptorSpec spec) =>
            spec.Category == CastCategory.Float32 && spec.ReturnType == Tensor && spec.ResultCast == ResultCast.None
            && ((spec.ThisCast == ArgumentCast.Float32 && spec.ThisType == Tensor) || spec.Parameters.Any(IsReleasedFloat32Copy));

        private static bool IsReleasedFloat32Copy(ParameterSpec p) =>
            !p.IsParams && (p.Cast == ArgumentCast.Float32 || p.Cast == ArgumentCast.Float32Optional) && IsTensor(p.Type);

        private static string CopyName(string parameter) => parameter.TrimStart('@') + "Fp32";

        // The runtime helper of a two-operand matmul or bmm site (PolicyCasts.MatMul/Bmm), or null for any other site.
        private static string? GemmOpHelper(InterceptorSpec spec)
        {
            if (spec.Ambient || spec.Category != CastCategory.LowPrecision || spec.ResultCast != ResultCast.LowPrecisionResult || spec.Fp8Linear) return null;
            var helper = spec.Row switch
            {
                "torch.matmul" or "Tensor.matmul" => "MatMul",
                "torch.bmm" or "Tensor.bmm" => "Bmm",
                _ => null,
            };
            if (helper is null) return null;
            var fp8 = spec.Fp8Site.Length > 0;
            var (required, optional) = fp8 ? (ArgumentCast.Fp8Operand, ArgumentCast.Fp8OperandOptional) : (ArgumentCast.LowPrecision, ArgumentCast.LowPrecisionOptional);
            var instance = spec.ThisType == Tensor && spec.ThisCast == required;
            if (spec.Parameters.Count != (instance ? 1 : 2) || (!instance && (spec.ThisType.Length > 0 || spec.Parameters[0].Type != Tensor))) return null;
            // The left operand is non-null; bmm's helper takes a non-null right operand, matmul's a nullable one (Tensor.matmul declares it so).
            foreach (var p in spec.Parameters)
                if (p.IsParams || (p.Cast != required && p.Cast != optional) || !(p.Type == Tensor || (helper == "MatMul" && p.Type == Tensor + "?")))
                    return null;
            return helper;
        }

        private static bool IsGemmModuleCall(InterceptorSpec spec) =>
            !spec.Ambient && spec.Category == CastCategory.ModuleLowPrecision && (spec.LinearModule || spec.ConvModule) && spec.MethodName is "call" or "forward"
            && spec.Parameters.Count == 1 && spec.ResultCast == ResultCast.None && !spec.Fp8Linear;

        // The FP8 scaling-state id of one operand of a site: stable across builds, so checkpoints find their states.
        private static string SiteId(string site, string operand) => "\"" + site + "#" + operand.TrimStart('@') + "\"";

        private static string CastExpression(string name, string type, ArgumentCast cast, string site, bool ambient = false)
        {
            var span = type.StartsWith("global::System.ReadOnlySpan<", System.StringComparison.Ordinal);
            var id = SiteId(site, name);
            // Outside every policy the region in force decides (float32 in an FP32 region).
            if (ambient && cast is ArgumentCast.LowPrecision or ArgumentCast.LowPrecisionOptional or ArgumentCast.LowPrecisionAll)
            {
                return cast switch
                {
                    ArgumentCast.LowPrecision => "__policy.LowPrecision(" + name + ")",
                    ArgumentCast.LowPrecisionOptional => "__policy.LowPrecisionOptional(" + name + ")",
                    _ => "__policy.LowPrecisionAll(" + name + (span ? ".ToArray())" : ")"),
                };
            }
            return cast switch
            {
                ArgumentCast.LowPrecision => Autocast + ".LowPrecision(" + name + ", compute)",
                ArgumentCast.LowPrecisionOptional => Autocast + ".LowPrecisionOptional(" + name + ", compute)",
                ArgumentCast.LowPrecisionAll => PolicyCasts + (span ? ".LowPrecisionSpan(" : ".LowPrecisionAll(") + name + ", compute)",
                ArgumentCast.Float32 => Autocast + ".Float32(" + name + ")",
                ArgumentCast.Float32Optional => Autocast + ".Float32Optional(" + name + ")",
                ArgumentCast.Float32All => PolicyCasts + (span ? ".Float32Span(" : ".Float32All(") + name + ")",
                ArgumentCast.Promote => Autocast + ".Promote(" + name + ", widest)",
                ArgumentCast.PromoteOptional => PolicyCasts + ".PromoteOptional(" + name + ", widest)",
                ArgumentCast.PromoteAll => PolicyCasts + ".PromoteAll(" + name.TrimStart('@') + "Items, widest)",
                ArgumentCast.Exact => PolicyCasts + ".ModuleInput(" + name + ", compute)",
                ArgumentCast.ExactOptional => PolicyCasts + ".ModuleInputOptional(" + name + ", compute)",
                ArgumentCast.Fp8Operand => CompilerServices + "Fp8Autocast.Operand(" + name + ", " + id + ")",
                ArgumentCast.Fp8OperandOptional => PolicyCasts + ".Fp8OperandOptional(" + name + ", " + id + ")",
                ArgumentCast.Fp8OperandAll => PolicyCasts + (span ? ".Fp8OperandSpan(" : ".Fp8OperandAll(") + name + ", " + id + ")",
                _ => name,
            };
        }

        private static void EmitAttribute(IndentedWriter w)
        {
            w.Open("namespace System.Runtime.CompilerServices");
            w.Line("[global::System.AttributeUsage(global::System.AttributeTargets.Method, AllowMultiple = true)]");
            w.Open("file sealed class InterceptsLocationAttribute : global::System.Attribute");
            w.Open("public InterceptsLocationAttribute(int version, string data)");
            w.Line("_ = version;");
            w.Line("_ = data;");
            w.Close();
            w.Close();
            w.Close();
        }

        private static string Describe(CastCategory category) => category switch
        {
            CastCategory.LowPrecision => "low precision: floating operands to the compute dtype",
            CastCategory.Float32 => "fp32: floating inputs widened to float32",
            CastCategory.Promote => "promote: floating inputs to the widest input dtype",
            CastCategory.ModuleLowPrecision => "module, low precision: inputs to the working-weight dtype",
            _ => "module, fp32: inputs widened to float32",
        };

        private static string Describe(InterceptorSpec spec) =>
            spec.Ambient ? Describe(spec.Category) + ", by the policy in force where it runs"
            : spec.OutputPolicy ? "forward called directly: the output policy of call(...)"
            : spec.EntersRegion && !HasCasts(spec) && !spec.RuntimeForward ? "leaves the region: enters it for the call"
            : spec.Fp8Site.Length > 0 ? "fp8: operands quantized per tensor (E4M3 forward, E5M2 backward) at site " + spec.Fp8Site : Describe(spec.Category);

        private static string SafeMethodName(string name) => name.TrimStart('@');
    }
}
