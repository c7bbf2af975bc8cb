#!/usr/bin/env python3
"""Merges the outputs of repro-dmvi runs over disjoint model lists into one folder.

A full run is two processes on the 2-core box (one thread each, half the models each); this
joins their results.json and bounds.json rows and their results.md tables (rows of the first run,
then the second's, under the first run's headers and notes), and copies the figures.

    repro/dmvi/merge_results.py OUT RUN_DIR [RUN_DIR ...]
"""
import json
import os
import shutil
import sys


def tables(lines):
    """Indices [start, end) of each block of consecutive table lines."""
    blocks, start = [], None
    for i, line in enumerate(lines + [""]):
        if line.startswith("|") and start is None:
            start = i
        elif not line.startswith("|") and start is not None:
            blocks.append((start, i))
            start = None
    return blocks


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out, runs = argv[1], argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, key in (("results.json", "rows"), ("bounds.json", "bounds")):
        merged = []
        for run in runs:
            with open(os.path.join(run, name)) as f:
                merged += json.load(f)[key]
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            json.dump({key: merged}, f, indent=2)
            f.write("\n")
        os.replace(tmp, os.path.join(out, name))

    docs = []
    for run in runs:
        with open(os.path.join(run, "results.md")) as f:
            docs.append(f.read().split("\n"))
    first = docs[0]
    blocks = [tables(d) for d in docs]
    if any(len(b) != len(blocks[0]) for b in blocks):
        sys.exit("merge_results: the runs' results.md have different tables")
    merged, pos = [], 0
    for t, (start, end) in enumerate(blocks[0]):
        merged += first[pos:end]
        for d, b in zip(docs[1:], blocks[1:]):
            s, e = b[t]
            merged += d[s + 2:e]  # rows only: skip the header and separator lines
        pos = end
    merged += first[pos:]
    # Per-model notes after the bound table ("<model>, N = ...") from the other runs.
    for d, b in zip(docs[1:], blocks[1:]):
        if len(b) >= 3:
            tail = d[b[2][1]:]
            notes = [line for line in tail if ", N = " in line]
            at = merged.index("## Against the paper's figures") if "## Against the paper's figures" in merged else len(merged)
            for line in reversed(notes):
                merged[at:at] = [line, ""]
    header = ("Merged from " + ", ".join(f"`{r}`" for r in runs) +
              " (one process each, run side by side on the 2-core box).\n")
    merged.insert(1, "\n" + header)
    tmp = os.path.join(out, "results.md.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(merged))
    os.replace(tmp, os.path.join(out, "results.md"))
    for run in runs:
        for name in os.listdir(run):
            if name.endswith(".png"):
                shutil.copy2(os.path.join(run, name), os.path.join(out, name))


if __name__ == "__main__":
    main(sys.argv)
