#!/usr/bin/python3
"""Times the canonical workloads (workloads.json) in PyTorch; prints one JSON line.

Usage: torch_workloads.py --threads N --iters K [--warmup W] [--only W1,W2]
Each workload: median milliseconds of a train step and of a 10-step sample, over K timed
iterations after W warm-up iterations.
"""
import argparse
import json
import os
import statistics
import time

import torch


def make_net(din, width, depth):
    layers = []
    fan_in = din + 1
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.LayerNorm(width), torch.nn.GELU()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, din))
    return torch.nn.Sequential(*layers)


def time_workload(w, spec, iters, warmup):
    torch.manual_seed(0)
    din, batch = w["din"], w["batch"]
    net = make_net(din, w["width"], w["depth"])
    opt = torch.optim.AdamW(net.parameters(), lr=spec["lr"])
    x = torch.randn(batch, din)

    def train_step():
        t = torch.rand(batch, 1)
        eps = torch.randn(batch, din)
        z = torch.sqrt(1 - t) * x + torch.sqrt(t) * eps
        loss = torch.mean((net(torch.cat([z, t], dim=1)) - eps) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def sample():
        with torch.no_grad():
            z = torch.randn(batch, din)
            steps = spec["sample_steps"]
            for k in range(steps):
                t = torch.full((batch, 1), 1.0 - k / steps)
                z = z - spec["sample_step_size"] * net(torch.cat([z, t], dim=1))
            return z

    out = {}
    for name, fn in (("train", train_step), ("sample", sample)):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        out[name + "_ms"] = statistics.median(times)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--only", default="")
    p.add_argument("--spec", default=os.path.join(os.path.dirname(__file__), "workloads.json"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    spec = json.load(open(a.spec))
    only = set(filter(None, a.only.split(",")))
    res = {}
    for w in spec["workloads"]:
        if only and w["name"] not in only:
            continue
        res[w["name"]] = time_workload(w, spec, a.iters, a.warmup)
    print(json.dumps({"contender": "torch", "threads": a.threads, "workloads": res}))


if __name__ == "__main__":
    main()
