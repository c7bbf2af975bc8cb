#!/usr/bin/python3
"""Aggregates the JSON lines of bench/peer.sh into medians and ratios; writes the result file
and prints a table. Usage: aggregate.py SPEC RAW_LINES THREADS OUT_JSON"""
import json
import statistics
import sys


def train_flops(w):
    # Matmul FLOPs of one train step: forward 2*B*in*out per Linear, backward twice that
    # (input and weight gradients). Elementwise work is not counted.
    dims = [w["din"] + 1] + [w["width"]] * w["depth"] + [w["din"]]
    fwd = sum(2 * w["batch"] * a * b for a, b in zip(dims[:-1], dims[1:]))
    return 3 * fwd


def main():
    spec_path, raw_path, threads, out_path = sys.argv[1:5]
    spec = json.load(open(spec_path))
    runs = {}  # contender -> workload -> key -> [values]
    sgemm = []
    for line in open(raw_path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if "sgemm_gflops" in r:
            sgemm.append(r["sgemm_gflops"])
        for name, vals in r["workloads"].items():
            for key, v in vals.items():
                runs.setdefault(r["contender"], {}).setdefault(name, {}).setdefault(key, []).append(v)

    def med(c, name, key):
        return statistics.median(runs[c][name][key])

    out = {"threads": int(threads), "sgemm_gflops": statistics.median(sgemm) if sgemm else None,
           "workloads": []}
    print(f"threads={threads}  diffvi sgemm 2048^3: {out['sgemm_gflops']:.1f} GFLOP/s")
    print(f"{'':4} {'train ms (diffvi / torch / libtorch)':>40} {'sample ms (diffvi / torch / libtorch)':>42}"
          f" {'train x':>8} {'sample x':>9} {'GFLOP/s':>8}")
    for w in spec["workloads"]:
        n = w["name"]
        row = {"name": n}
        for c in ("diffvi", "torch", "libtorch"):
            for k in ("train", "sample"):
                row[f"{c}_{k}_ms"] = med(c, n, f"{k}_ms")
        row["train_speedup_vs_torch"] = row["torch_train_ms"] / row["diffvi_train_ms"]
        row["sample_speedup_vs_torch"] = row["torch_sample_ms"] / row["diffvi_sample_ms"]
        row["train_speedup_vs_libtorch"] = row["libtorch_train_ms"] / row["diffvi_train_ms"]
        row["sample_speedup_vs_libtorch"] = row["libtorch_sample_ms"] / row["diffvi_sample_ms"]
        row["train_gflops"] = train_flops(w) / (row["diffvi_train_ms"] * 1e-3) / 1e9
        out["workloads"].append(row)
        print(f"{n:4} {row['diffvi_train_ms']:12.3f} / {row['torch_train_ms']:9.3f} / {row['libtorch_train_ms']:9.3f}"
              f"      {row['diffvi_sample_ms']:12.3f} / {row['torch_sample_ms']:9.3f} / {row['libtorch_sample_ms']:9.3f}"
              f"  {row['train_speedup_vs_torch']:8.2f} {row['sample_speedup_vs_torch']:9.2f} {row['train_gflops']:8.1f}")
    json.dump(out, open(out_path, "w"), indent=2)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
