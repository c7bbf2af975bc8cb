#!/usr/bin/env python3
"""Smoke check for repro-dmvi: results.json has the issue's schema, one row per model, N and
method, and wherever the exact log p(y) is known DMVI's bound is below it (within 3 MC se).

    repro/dmvi/check_results.py DIR [DIR ...]
"""
import json
import math
import os
import sys

FIELDS = {"model": str, "n": int, "method": str, "mse_mean": float, "mse_sd": float,
          "post_mean_err": float, "post_sd_err": float, "train_s": float, "sample_s": float,
          "n_params": int}
METHODS = {"dmvi", "advi", "nfvi", "nuts"}

ok = True
for d in sys.argv[1:]:
    rows = json.load(open(os.path.join(d, "results.json")))["rows"]
    if not rows:
        print(f"{d}: no rows")
        ok = False
    keys = set()
    for r in rows:
        for k, t in FIELDS.items():
            v = r.get(k)
            good = isinstance(v, t) or (t is float and isinstance(v, int))
            if not good or (t is float and not math.isfinite(v)):
                print(f"{d}: row {r.get('model')}/{r.get('n')}/{r.get('method')}: bad {k} = {v!r}")
                ok = False
        if r.get("method") not in METHODS:
            print(f"{d}: unknown method {r.get('method')!r}")
            ok = False
        key = (r.get("model"), r.get("n"), r.get("method"))
        if key in keys:
            print(f"{d}: duplicate row {key}")
            ok = False
        keys.add(key)
    for b in json.load(open(os.path.join(d, "bounds.json")))["bounds"]:
        if "exact_log_evidence" in b:
            gap = b["exact_log_evidence"] - b["bound"]
            good = gap > -3 * b["bound_se"] - 1e-9
            print(f"{d}: {b['model']} N={b['n']}: exact log p(y) - bound = {gap:.4f} "
                  f"{'ok' if good else 'ABOVE THE EVIDENCE'}")
            ok = ok and good
    print(f"{d}: {len(rows)} rows {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
