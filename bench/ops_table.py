#!/usr/bin/python3
"""Turns bench_ops' JSON (--benchmark_format=json, with repetitions and aggregates) into the
markdown tables of BENCHMARKS.md: one row per op, shape and implementation, median time and
rate at 1 and 2 threads.
Usage: build/bin/bench_ops --benchmark_repetitions=3 --benchmark_format=json > ops.json
       bench/ops_table.py ops.json"""
import json
import re
import sys


def main():
    data = json.load(open(sys.argv[1]))
    rows = {}  # (family, label) -> {threads: (time_us, rate_str)}
    order = []
    aggregated = any(b.get("run_type") == "aggregate" for b in data["benchmarks"])
    for b in data["benchmarks"]:
        if aggregated and b.get("aggregate_name") != "median":
            continue
        family = re.match(r"BM_(\w+)", b["name"]).group(1)
        threads = int(round(b.get("omp_threads", 1)))
        label = b.get("label", "")
        if "GFLOP/s" in b:
            rate = f"{b['GFLOP/s']:.1f} GFLOP/s"
        elif "bytes" in b:
            rate = f"{b['bytes'] / 2**30:.1f} GiB/s"
        else:
            rate = ""
        key = (family, label)
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key][threads] = (b["real_time"], rate)
    family = None
    for key in order:
        if key[0] != family:
            family = key[0]
            print(f"\n**{family}**\n")
            print("| kernel | 1 thread | 2 threads |")
            print("|---|---|---|")
        cells = []
        for t in (1, 2):
            if t in rows[key]:
                us, rate = rows[key][t]
                cells.append(f"{us:.1f} us ({rate})")
            else:
                cells.append("")
        print(f"| {key[1]} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
