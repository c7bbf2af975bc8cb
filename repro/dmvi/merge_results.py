#!/usr/bin/env python3
"""Merges the outputs of repro-dmvi runs over disjoint (model, N) sets into one folder.

A full run is several processes on the 2-core box (full_run.sh); this joins their results.json
and bounds.json rows and their results.md tables, under the first run's headers and notes, with
every table's rows (and the per-model bound notes) in model order, then N, as one run would have
written them; and copies the figures.

    repro/dmvi/merge_results.py [--how TEXT] OUT RUN_DIR [RUN_DIR ...]

TEXT says how the runs were made (it goes in results.md's header).
"""
import json
import os
import re
import shutil
import sys

MODELS = ["mean", "mixture"] + [f"hierarchical{i}" for i in range(1, 6)]
NOTE = re.compile(r"^(\w+), N = (\d+): ")


def order(model, n):
    return (MODELS.index(model) if model in MODELS else len(MODELS), model, int(n))


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


def row_key(line):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return order(cells[0], cells[1]) if len(cells) > 1 and cells[1].isdigit() else (len(MODELS) + 1, "", 0)


def main(argv):
    how = None
    if len(argv) > 2 and argv[1] == "--how":
        how, argv = argv[2], [argv[0]] + argv[3:]
    if len(argv) < 3:
        sys.exit(__doc__)
    out, runs = argv[1], argv[2:]
    os.makedirs(out, exist_ok=True)
    for name, key in (("results.json", "rows"), ("bounds.json", "bounds")):
        merged = []
        for run in runs:
            with open(os.path.join(run, name)) as f:
                merged += json.load(f)[key]
        merged.sort(key=lambda r: order(r["model"], r["n"]))  # stable: methods keep their order
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
        merged += first[pos:start + 2]  # text before the table, its header and separator
        rows = []
        for d, b in zip(docs, blocks):
            s, e = b[t]
            rows += d[s + 2:e]
        merged += sorted(rows, key=row_key)
        pos = end
    merged += first[pos:]
    # The per-model bound notes ("<model>, N = <n>: ...") of every run, in order, where the first
    # run has its own.
    notes = [line for d in docs for line in d if NOTE.match(line)]
    notes.sort(key=lambda line: order(*NOTE.match(line).groups()))
    at = next((i for i, line in enumerate(merged) if NOTE.match(line)), None)
    merged = [line for line in merged if not NOTE.match(line)]
    if at is None:
        at = merged.index("## Against the paper's figures") if "## Against the paper's figures" in merged else len(merged)
    # Drop the blank lines the removed notes left, then put the notes back one per paragraph.
    while at < len(merged) and merged[at] == "":
        del merged[at]
    block = []
    for line in notes:
        block += [line, ""]
    merged[at:at] = block
    header = "Merged from " + ", ".join(f"`{r}`" for r in runs) + (f" ({how})" if how else "") + "."
    merged[1:1] = ["", header]
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
