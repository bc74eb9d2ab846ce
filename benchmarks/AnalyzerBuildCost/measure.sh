#!/usr/bin/env bash
# The build cost of the PrecisionPolicy analyzers on a generated 100-file TorchSharp project.
#   benchmarks/AnalyzerBuildCost/measure.sh [OUT_DIR] [REPETITIONS]
# Generates the project (generate.sh), builds it and its references once in Release (the analyzers as
# the package ships them: optimized), then recompiles only it
# REPETITIONS rounds (default 5) of three recompiles, one after another so that the load of the machine
# falls on all three alike: with the analyzers as the package gives them to a compiler on .NET 10 or later
# on Linux x64 (compiled ahead of time: build/PrecisionPolicy.ReadyToRun, published here), with their IL
# copy (what every other host gets), both with -p:ReportAnalyzer=true, and without the analyzers.
# Prints, as medians over the rounds: the analyzers' execution time and each rule's (summed over
# threads, as the compiler reports it, so an upper bound on what they add), the Csc task time, the
# build's elapsed time, and the analyzers' share of each; and in how many rounds the ahead-of-time copy
# took less time than the IL. The first round is a warm-up and is not counted.
# The compiler: as the environment says (UseSharedCompilation=false, as on the shared development
# machine, runs a new compiler process per recompile, which JIT-compiles the analyzers every time);
# COMPILER_SERVER=1 uses the compiler server, as dotnet build does by default (the server then stays up
# until it has been idle for a while). The output names the one used.
# BASELINE_ANALYZERS=path/to/PrecisionPolicy.Analyzers.dll (another build of the analyzers, e.g. main's
# ahead-of-time image, saved before a change) adds a fourth recompile to every round with it, alternately
# before and after the ahead-of-time one, and prints it beside them: a before/after comparison under the
# same load.
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

image=$(dotnet msbuild "$here/../../build/PrecisionPolicy.ReadyToRun" -restore -t:GetReadyToRunImages -p:Configuration=Release \
  -getTargetResult:GetReadyToRunImages | python3 -c 'import json, sys; print(next(i["FullPath"] for i in json.load(sys.stdin)["TargetResults"]["GetReadyToRunImages"]["Items"] if i["Filename"] == "PrecisionPolicy.Analyzers"))')

compile() { # $1 log file, $2.. extra msbuild arguments
  local log=$1
  shift
  dotnet build -c Release --no-restore --no-dependencies --no-incremental -nologo -v:d -clp:PerformanceSummary "${server[@]}" "$@" >"$log" 2>&1
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p logs
baseline=${BASELINE_ANALYZERS:-}
rm -f logs/base-*.log
for ((i = 0; i <= reps; i++)); do
  if [ -n "$baseline" ] && ((i % 2 == 0)); then
    compile "logs/base-$i.log" -p:ReportAnalyzer=true -p:PrecisionPolicyAnalyzerPath="$baseline"
  fi
  compile "logs/with-$i.log" -p:ReportAnalyzer=true -p:PrecisionPolicyAnalyzerPath="$image"
  if [ -n "$baseline" ] && ((i % 2 == 1)); then
    compile "logs/base-$i.log" -p:ReportAnalyzer=true -p:PrecisionPolicyAnalyzerPath="$baseline"
  fi
  compile "logs/il-$i.log" -p:ReportAnalyzer=true
  compile "logs/without-$i.log" -p:WithPrecisionPolicyAnalyzers=false
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
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
with_runs, il_runs, without_runs = runs("with"), runs("il"), runs("without")
print(f"rounds: {reps} (medians)")
print(f"Csc task without the analyzers: {med(r[0] for r in without_runs):.3f} s; build elapsed: {med(r[1] for r in without_runs):.3f} s")
for label, kind_runs in (("compiled ahead of time (as the package gives them on .NET, Linux x64)", with_runs), ("IL", il_runs)):
    ours, csc, elapsed = (med(r[k] for r in kind_runs) for k in (2, 0, 1))
    print(f"analyzers {label}:")
    print(f"  PrecisionPolicy.Analyzers execution time: {ours:.3f} s; Csc task: {csc:.3f} s; build elapsed: {elapsed:.3f} s")
    print(f"  analyzers / build elapsed: {100 * ours / elapsed:.1f}%   analyzers / Csc: {100 * ours / csc:.1f}%")
faster = sum(a[2] < b[2] for a, b in zip(with_runs, il_runs))
print(f"rounds where the ahead-of-time analyzers took less time than the IL: {faster} of {reps}")
import os
base_runs = runs("base") if os.path.exists(f"logs/base-{reps}.log") else None
if base_runs:
    ours, csc, elapsed = (med(r[k] for r in base_runs) for k in (2, 0, 1))
    print("baseline analyzers (BASELINE_ANALYZERS), same rounds:")
    print(f"  PrecisionPolicy.Analyzers execution time: {ours:.3f} s; Csc task: {csc:.3f} s; build elapsed: {elapsed:.3f} s")
    print(f"  analyzers / build elapsed: {100 * ours / elapsed:.1f}%   analyzers / Csc: {100 * ours / csc:.1f}%")
    shares = lambda rs: [r[2] / r[1] for r in rs]
    print(f"  rounds where the ahead-of-time analyzers took a smaller share of the build than the baseline: "
          f"{sum(a < b for a, b in zip(shares(with_runs), shares(base_runs)))} of {reps}")
print("per rule, compiled ahead of time (s)" + (", then the baseline's:" if base_runs else ":"))
names = sorted({n for r in with_runs + (base_runs or []) for n in r[3]})
for name in sorted(names, key=lambda n: -med(r[3].get(n, 0.0) for r in with_runs)):
    extra = f"  {med(r[3].get(name, 0.0) for r in base_runs):7.3f}" if base_runs else ""
    print(f"  {med(r[3].get(name, 0.0) for r in with_runs):7.3f}{extra}  {name}")
EOF
