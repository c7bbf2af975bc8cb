#!/usr/bin/env python3
"""Compares DMVI rows of a DMVI-only run with the other methods' rows of a full run.

The other methods' rows depend only on the seed, the data and their own code, so after a change
to DMVI alone a `repro-dmvi --methods dmvi` run (same seeds) can be judged against an earlier
full run's ADVI, NFVI and NUTS rows without repeating them. Prints, per model and N: DMVI's
posterior mean / sd errors (new, and the full run's), their ratios to ADVI's, whether both are
<= NFVI's, DMVI's MSE over the NUTS draws' MSE, and fit / draw seconds.

    repro/dmvi/compare_dmvi.py FULL_RUN_DIR DMVI_RUN_DIR [DMVI_RUN_DIR ...]
"""
import json
import os
import sys


def rows(run):
    with open(os.path.join(run, "results.json")) as f:
        return json.load(f)["rows"]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    base = {(r["model"], r["n"], r["method"]): r for r in rows(argv[1])}
    print("model n | dmvi mean/sd err (full run) | / advi | <= nfvi | mse / nuts (full run)"
          " | fit s | draws s")
    for run in argv[2:]:
        for r in rows(run):
            if r["method"] != "dmvi":
                continue
            key = (r["model"], r["n"])
            if key + ("dmvi",) not in base:
                sys.exit(f"compare_dmvi.py: {argv[1]} has no dmvi row for {key}")
            old = base[key + ("dmvi",)]
            advi, nfvi, nuts = (base.get(key + (m,)) for m in ("advi", "nfvi", "nuts"))
            me, se = r["post_mean_err"], r["post_sd_err"]
            old_me, old_se = old["post_mean_err"], old["post_sd_err"]
            line = f"{key[0]} {key[1]} | {me:.3f}/{se:.3f} ({old_me:.3f}/{old_se:.3f})"
            if advi:
                line += f" | {me / advi['post_mean_err']:.2f}/{se / advi['post_sd_err']:.2f}"
            else:
                line += " | -"
            if nfvi:
                line += f" | {me <= nfvi['post_mean_err'] and se <= nfvi['post_sd_err']}"
            else:
                line += " | -"
            if nuts:
                ratio = r["mse_mean"] / nuts["mse_mean"]
                old_ratio = old["mse_mean"] / nuts["mse_mean"]
                line += f" | {ratio:.3f} ({old_ratio:.3f})"
            else:
                line += " | -"
            line += f" | {r['train_s']:.1f} | {r['sample_s']:.2f}"
            print(line)


if __name__ == "__main__":
    main(sys.argv)
