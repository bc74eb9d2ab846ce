#!/usr/bin/env python3
"""PyTorch half of the BF16 fidelity comparison (see README.md).

Reads the seed-*.safetensors files the C# command wrote (weights, batch, and the C# gradients in FP32
and under the BF16 policy in both GEMM modes), loads the same weights into an equivalent torch.nn
module, computes FP32 and torch.autocast('cpu', dtype=torch.bfloat16) gradients, checks that the two
FP32 references agree, and compares the relative gradient errors per parameter tensor:
    error = ||g_bf16 - g_fp32|| / ||g_fp32||,   ratio = ours / PyTorch's.
Prints markdown tables and writes results.json beside this script (or to --results).
"""
import argparse
import glob
import json
import math
import os
import platform
import statistics
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


class TorchOps:
    """The ops the block's precision depends on, as plain torch calls: FP32, or dtype-cast by torch.autocast."""

    def linear(self, layer, x):
        return layer(x)

    def matmul(self, a, b):
        return torch.matmul(a, b)

    def softmax(self, x, dim):
        return F.softmax(x, dim)

    def loss_input(self, logits):
        return logits


def bf16(t):
    """Rounded to bfloat16 and widened back, so autograd rounds the gradient flowing back to bfloat16."""
    return t.bfloat16().float()


class EmulatedAutocastOps(TorchOps):
    """Autocast's casts written out, with GEMMs that take BF16 inputs, accumulate in FP32 and round the
    result to BF16 (a tensor core's or oneDNN's AVX512-BF16 numerics; this Debian PyTorch 1.13 build
    accumulates BF16 GEMMs in BF16 on AVX2). Everything else runs in its input dtype, as autocast leaves
    it; cpu_lists=False adds the CUDA fp32 list's softmax (LayerNorm and the loss see FP32 either way)."""

    def __init__(self, cpu_lists):
        self.cpu_lists = cpu_lists

    def linear(self, layer, x):
        return F.linear(bf16(x), bf16(layer.weight), bf16(layer.bias)).bfloat16()

    def matmul(self, a, b):
        return torch.matmul(bf16(a), bf16(b)).bfloat16()

    def softmax(self, x, dim):
        return F.softmax(x if self.cpu_lists else x.float(), dim)

    def loss_input(self, logits):
        return logits.float()  # cross_entropy is in both fp32 lists


class FidelityBlock(nn.Module):
    """benchmarks/PrecisionPolicy.Benchmarks/Fidelity/FidelityBlock.cs, op for op; attribute names are its field names."""

    def __init__(self, vocabulary, width, heads, length):
        super().__init__()
        self.width, self.heads = width, heads
        self.ops = TorchOps()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Embedding(length, width)
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)
        self.finalNorm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, ids):
        ops = self.ops
        batch, length = ids.shape
        head_width = self.width // self.heads
        x = self.tokens(ids) + self.positions(torch.arange(length, device=ids.device))

        split = ops.linear(self.qkv, self.norm1(x)).view(batch, length, 3, self.heads, head_width).permute(2, 0, 3, 1, 4)
        q, k, v = split[0], split[1], split[2]
        scores = ops.matmul(q, k.transpose(-2, -1)) / math.sqrt(head_width)
        causal = torch.ones(length, length, dtype=torch.bool, device=ids.device).triu(1)
        attention = ops.softmax(scores.masked_fill(causal, float("-inf")), -1)
        x = x + ops.linear(self.projection, ops.matmul(attention, v).transpose(1, 2).reshape(batch, length, self.width))

        x = x + ops.linear(self.fc2, F.gelu(ops.linear(self.fc1, self.norm2(x))))
        return ops.loss_input(ops.linear(self.head, self.finalNorm(x)))


REFERENCES = {
    # key: (description, ops, run under torch.autocast)
    "torch-autocast": ("torch.autocast('cpu', dtype=torch.bfloat16), this PyTorch build's kernels", TorchOps, True),
    "emulated-cpu-lists": ("autocast's CPU lists emulated, BF16 GEMMs accumulating in FP32", lambda: EmulatedAutocastOps(cpu_lists=True), False),
    "emulated-cuda-lists": ("autocast's CUDA lists emulated (softmax FP32 too), BF16 GEMMs accumulating in FP32", lambda: EmulatedAutocastOps(cpu_lists=False), False),
}


def torch_gradients(model, ids, targets, vocabulary, ops, autocast):
    model.ops = ops
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, vocabulary), targets.reshape(-1))
    loss.backward()
    return {"loss": float(loss), "logits_dtype": str(logits.dtype), "loss_dtype": str(loss.dtype)}, \
        {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def relative(a, b):
    """||a - b|| / ||b|| in float64."""
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def median(values):
    return statistics.median(values)


def compare_seed(path, tolerance):
    tensors, meta = read_safetensors(path)
    vocabulary, width, heads, length = (int(meta[k]) for k in ("vocabulary", "width", "heads", "length"))
    model = FidelityBlock(vocabulary, width, heads, length)
    model.load_state_dict({n[len("weight/"):]: t for n, t in tensors.items() if n.startswith("weight/")}, strict=True)
    ids, targets = tensors["input/ids"], tensors["input/targets"]
    names = [n for n, _ in model.named_parameters()]

    fp32_info, torch_fp32 = torch_gradients(model, ids, targets, vocabulary, TorchOps(), autocast=False)
    ours_fp32 = {n: tensors[f"grad/fp32/{n}"] for n in names}
    agreement = {n: relative(ours_fp32[n], torch_fp32[n]) for n in names}
    worst = max(agreement, key=agreement.get)
    disagreement = f"seed {meta['seed']}: {worst} differs by {agreement[worst]:.2e}" if agreement[worst] > tolerance else None

    references = {}
    for key, (description, make_ops, autocast) in REFERENCES.items():
        info, grads = torch_gradients(model, ids, targets, vocabulary, make_ops(), autocast)
        error = {n: relative(grads[n], torch_fp32[n]) for n in names}
        references[key] = dict(info, description=description, error=error, median_error=median(error.values()))

    ours = {}
    for run in meta["runs"].split(","):
        if run == "fp32":
            continue
        error = {n: relative(tensors[f"grad/{run}/{n}"], ours_fp32[n]) for n in names}
        versus = {}
        for key, reference in references.items():
            ratio = {n: error[n] / reference["error"][n] for n in names}
            worst_ratio = max(ratio, key=ratio.get)
            versus[key] = {"ratio": ratio, "median_ratio": median(ratio.values()),
                           "max_ratio": ratio[worst_ratio], "max_ratio_tensor": worst_ratio}
        ours[run] = {"loss": float(meta[f"loss/{run}"]), "loss_dtype": meta[f"loss_dtype/{run}"],
                     "error": error, "median_error": median(error.values()), "versus": versus}
    return {
        "seed": int(meta["seed"]),
        "shape": {k: int(meta[k]) for k in ("vocabulary", "width", "heads", "length", "batch")},
        "libtorch_csharp": meta["libtorch"],
        "fp32_agreement": {"max": agreement[worst], "tensor": worst, "per_tensor": agreement,
                           "loss_csharp": float(meta["loss/fp32"]), "loss_torch": fp32_info["loss"]},
        "torch": references, "ours": ours,
    }, disagreement


def print_tables(seeds, tolerance):
    modes, refs = list(seeds[0]["ours"]), list(REFERENCES)
    print(f"FP32 references agree: largest relative difference C# vs PyTorch {max(s['fp32_agreement']['max'] for s in seeds):.2e} "
          f"(tolerance {tolerance:g})\n")
    for key in refs:
        print(f"- {key}: {REFERENCES[key][0]}")
    print("\nRatio = our BF16 gradient error / the PyTorch reference's, per parameter tensor; median and max over the tensors (< 1: ours closer to FP32)\n")
    print("seed | our run | our median error | " + " | ".join(f"vs {r}: median | max (tensor)" for r in refs))
    print("---|---|---" + "|---|---" * len(refs))
    for s in seeds:
        for m in modes:
            o = s["ours"][m]
            cells = []
            for r in refs:
                v = o["versus"][r]
                cells += [f"{v['median_ratio']:.3f}", f"{v['max_ratio']:.3f} ({v['max_ratio_tensor']})"]
            print(f"{s['seed']} | {m} | {o['median_error']:.2e} | " + " | ".join(cells))
    print("\nreference | median error (median over seeds)")
    print("---|---")
    for r in refs:
        print(f"{r} | {median([s['torch'][r]['median_error'] for s in seeds]):.2e}")
    for m in modes:
        print(f"ours, {m} | {median([s['ours'][m]['median_error'] for s in seeds]):.2e}")

    names = list(seeds[0]["torch"][refs[0]]["error"])
    print("\nPer tensor, median over seeds of the relative error\n")
    print("tensor | " + " | ".join(refs + [f"ours {m}" for m in modes]))
    print("---" + "|---" * (len(refs) + len(modes)))
    for n in names:
        cells = [median([s["torch"][r]["error"][n] for s in seeds]) for r in refs]
        cells += [median([s["ours"][m]["error"][n] for s in seeds]) for m in modes]
        print(f"{n} | " + " | ".join(f"{c:.2e}" for c in cells))


def gemm_accumulation():
    """How far this build's BF16 matmul is from the exact product of its BF16 inputs, against the rounding floor.

    An FP32-accumulating GEMM stays near the floor (one rounding of the result) for any K; a BF16-accumulating
    one drifts away as K grows."""
    generator = torch.Generator().manual_seed(0)
    probe = {}
    for k in (16, 64, 256, 4096):
        a = torch.randn(64, k, generator=generator).bfloat16()
        b = torch.randn(k, 64, generator=generator).bfloat16()
        exact = a.double() @ b.double()
        probe[k] = {"bf16_matmul": relative((a @ b).double(), exact), "rounding_floor": relative(exact.bfloat16().double(), exact)}
    return probe


def summarize(seeds):
    summary = {}
    for m in seeds[0]["ours"]:
        summary[m] = {}
        for r in REFERENCES:
            medians = [s["ours"][m]["versus"][r]["median_ratio"] for s in seeds]
            maxima = [s["ours"][m]["versus"][r]["max_ratio"] for s in seeds]
            summary[m][r] = {"median_of_median_ratios": median(medians), "worst_seed_median_ratio": max(medians),
                             "worst_max_ratio": max(maxima)}
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="the directory the C# fidelity command wrote")
    parser.add_argument("--results", help="where to write the results JSON (default: results.json beside this script)")
    parser.add_argument("--fp32-tolerance", type=float, default=1e-5,
                        help="largest relative difference allowed between the C# and PyTorch FP32 gradients")
    args = parser.parse_args()
    torch.set_num_threads(1)

    paths = sorted(glob.glob(os.path.join(args.directory, "seed-*.safetensors")),
                   key=lambda p: int(os.path.basename(p)[len("seed-"):-len(".safetensors")]))
    if not paths:
        sys.exit(f"no seed-*.safetensors in {args.directory}: run the C# fidelity command first (README.md)")
    compared = [compare_seed(p, args.fp32_tolerance) for p in paths]
    disagreements = [d for _, d in compared if d]
    if disagreements:
        sys.exit("The C# and PyTorch FP32 gradients disagree, so the two blocks differ; fix that before comparing:\n  "
                 + "\n  ".join(disagreements))
    seeds = [s for s, _ in compared]
    print_tables(seeds, args.fp32_tolerance)
    probe = gemm_accumulation()
    print("\nThis PyTorch's BF16 matmul (64xK @ Kx64) against the exact product of its inputs: "
          + ", ".join(f"K={k} {v['bf16_matmul']:.2%} (floor {v['rounding_floor']:.2%})" for k, v in probe.items()))

    results = {
        "description": "relative gradient error ||g_bf16 - g_fp32|| / ||g_fp32|| per parameter tensor, each side against its own FP32 "
                       "gradients; ratio = ours / the PyTorch reference's",
        "torch": torch.__version__, "host": platform.machine(),
        "references": {k: v[0] for k, v in REFERENCES.items()},
        "bf16_matmul_error_by_k": probe, "summary": summarize(seeds), "seeds": seeds,
    }
    out = args.results or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
