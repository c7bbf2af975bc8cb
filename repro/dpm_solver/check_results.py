#!/usr/bin/env python3
"""Smoke check for repro-dpm-solver: every solver in each results file has the schema's fields and
a measured order of at least its nominal order - 0.25."""
import json
import sys

NAMES = {"ddim", "dpmsolver-2", "dpmsolver-3", "dpmsolver-2m", "dpmsolver-3m", "dpmsolver++2s",
         "dpmsolver++3s", "dpmsolver++2m", "dpmsolver++3m"}
ok = True
for path in sys.argv[1:]:
    solvers = json.load(open(path))["solvers"]
    missing = NAMES - {s["name"] for s in solvers}
    if missing:
        print(f"{path}: missing solvers {sorted(missing)}")
        ok = False
    for s in solvers:
        assert isinstance(s["nominal_order"], int) and s["errors"], s["name"]
        for e in s["errors"]:
            assert isinstance(e["nfe"], int) and isinstance(e["error"], float)
        good = s["measured_order"] >= s["nominal_order"] - 0.25
        print(f"{path}: {s['name']:14s} nominal {s['nominal_order']} "
              f"measured {s['measured_order']:.2f} {'ok' if good else 'FAIL'}")
        ok = ok and good
sys.exit(0 if ok else 1)
