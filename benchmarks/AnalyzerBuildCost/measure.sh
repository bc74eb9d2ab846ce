#!/usr/bin/env bash
# The build cost of the PrecisionPolicy analyzers on a generated 100-file TorchSharp project.
#   benchmarks/AnalyzerBuildCost/measure.sh [OUT_DIR] [REPETITIONS]
# Generates the project (generate.sh), builds it and its references once in Release (the analyzers as
# the package ships them: optimized), then recompiles only it
# REPETITIONS times (default 5) with -p:ReportAnalyzer=true and as many times without the analyzers.
# Prints, as medians over the repetitions: the analyzers' execution time and each rule's (summed over
# threads, as the compiler reports it, so an upper bound on what they add), the Csc task time, the
# build's elapsed time, and the analyzers' share of each. The first recompile of each kind is a warm-up
# and is not counted.
# The compiler: as the environment says (UseSharedCompilation=false, as on the shared development
# machine, runs a new compiler process per recompile, which JIT-compiles the analyzers every time);
# COMPILER_SERVER=1 uses the compiler server, as dotnet build does by default (the server then stays up
# until it has been idle for a while). The output names the one used.
# The analyzers: as the package gives them to a compiler running on .NET 10 or later on Linux x64, compiled
# ahead of time (build/PrecisionPolicy.ReadyToRun, published here); IL=1 measures the IL copy, which every
# other host gets.
# The times are wall-clock times (the compiler's): on a shared machine they grow with the load, so the
# CPU and the load averages at the start and end are printed with them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/precisionpolicy-analyzer-cost}
reps=${2:-5}
"$here/generate.sh" "$out" 100 >/dev/null
cd "$out"
dotnet build -c Release -v:q -nologo >/dev/null

server=()
[ "${COMPILER_SERVER:-0}" = 1 ] && server=(-p:UseSharedCompilation=true)

analyzers=()
if [ "${IL:-0}" != 1 ]; then
  image=$(dotnet msbuild "$here/../../build/PrecisionPolicy.ReadyToRun" -restore -t:GetReadyToRunImages -p:Configuration=Release \
    -getTargetResult:GetReadyToRunImages | python3 -c 'import json, sys; print(next(i["FullPath"] for i in json.load(sys.stdin)["TargetResults"]["GetReadyToRunImages"]["Items"] if i["Filename"] == "PrecisionPolicy.Analyzers"))')
  analyzers=(-p:PrecisionPolicyAnalyzerPath="$image")
fi

compile() { # $1 log file, $2.. extra msbuild arguments
  local log=$1
  shift
  dotnet build -c Release --no-restore --no-dependencies --no-incremental -nologo -v:d -clp:PerformanceSummary "${server[@]}" "$@" >"$log" 2>&1
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p logs
for kind in with without; do
  for ((i = 0; i <= reps; i++)); do
    if [ "$kind" = with ]; then
      compile "logs/$kind-$i.log" -p:ReportAnalyzer=true "${analyzers[@]}"
    else
      compile "logs/$kind-$i.log" -p:WithPrecisionPolicyAnalyzers=false
    fi
  done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
if [ "${IL:-0}" != 1 ]; then echo "analyzers: compiled ahead of time, as the package gives them to the compiler on .NET on Linux x64"; else echo "analyzers: IL (IL=1)"; fi
python3 - "$reps" "$load_before" "$load_after" "$cpu ($(nproc) cores)" <<'EOF'
import re, statistics, sys
reps = int(sys.argv[1])
print(f"cpu: {sys.argv[4]}; load average (1, 5, 15 min): {sys.argv[2]} at the start, {sys.argv[3]} at the end")
mode = re.search(r"CompilerServer: (\w+)", open(f"logs/with-{reps}.log").read())
print(f"compiler: {'compiler server' if mode and mode.group(1) == 'server' else 'a new compiler process per build'}")

def parse(path):
    text = open(path).read()
    csc = float(re.search(r"^\s*(\d+) ms\s+Csc\s", text, re.M).group(1)) / 1000
    h, m, s = re.search(r"Time Elapsed (\d+):(\d+):([\d.]+)", text).groups()
    elapsed = int(h) * 3600 + int(m) * 60 + float(s)
    ours, rules = 0.0, {}
    block = re.search(r"Total analyzer execution time.*?\n(.*?)Total generator", text, re.S)
    if block:
        in_ours = False
        for line in block.group(1).splitlines():
            assembly = re.match(r"\s*([\d.<]+)\s+\S+\s+(\S+), Version=", line)
            if assembly:
                in_ours = assembly.group(2) == "PrecisionPolicy.Analyzers"
                if in_ours:
                    ours = float(assembly.group(1).lstrip("<"))
                continue
            rule = re.match(r"\s*([\d.<]+)\s+\S+\s+PrecisionPolicy\.Analyzers\.Rules\.(\w+) \((\w+)", line)
            if rule and in_ours:
                rules[f"{rule.group(3)} {rule.group(2)}"] = float(rule.group(1).lstrip("<"))
    return csc, elapsed, ours, rules

def runs(kind):
    return [parse(f"logs/{kind}-{i}.log") for i in range(1, reps + 1)]

med = statistics.median
with_runs, without_runs = runs("with"), runs("without")
ours = med(r[2] for r in with_runs)
csc = med(r[0] for r in with_runs)
elapsed = med(r[1] for r in with_runs)
csc_without = med(r[0] for r in without_runs)
elapsed_without = med(r[1] for r in without_runs)
print(f"repetitions: {reps} (medians)")
print(f"PrecisionPolicy.Analyzers execution time: {ours:.3f} s")
print(f"Csc task: {csc:.3f} s with the analyzers, {csc_without:.3f} s without")
print(f"build elapsed: {elapsed:.3f} s with the analyzers, {elapsed_without:.3f} s without")
print(f"analyzers / build elapsed: {100 * ours / elapsed:.1f}%   analyzers / Csc: {100 * ours / csc:.1f}%")
print("per rule (s):")
names = sorted({n for r in with_runs for n in r[3]})
for name in sorted(names, key=lambda n: -med(r[3].get(n, 0.0) for r in with_runs)):
    print(f"  {med(r[3].get(name, 0.0) for r in with_runs):7.3f}  {name}")
EOF
