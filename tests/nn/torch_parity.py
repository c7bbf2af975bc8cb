"""PyTorch side of tests/nn/torch_parity_test.cpp.

usage: torch_parity.py IN.safetensors OUT.safetensors

Reads the weights, inputs and output seeds diffvi wrote, runs torch.nn.Linear, LayerNorm, GELU,
Conv2d (forward, then backward of sum(y * seed)) and a few torch.optim.AdamW steps, and writes the
outputs and gradients back. safetensors is parsed and written here with struct/json/numpy (the
safetensors package is not assumed to be installed).
"""
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        arr = np.frombuffer(data[base + lo:base + hi], dtype=DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return tensors, meta


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().contiguous().numpy().astype(np.float32)
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def run_module(prefix, module, t, out):
    """Loads prefix.weight/bias (when present), runs on prefix.x, backprops prefix.seed."""
    with torch.no_grad():
        for pname, p in module.named_parameters():
            p.copy_(t[prefix + "." + pname])
    x = t[prefix + ".x"].clone().requires_grad_(True)
    y = module(x)
    (y * t[prefix + ".seed"]).sum().backward()
    out[prefix + ".y"] = y
    out[prefix + ".dx"] = x.grad
    for pname, p in module.named_parameters():
        out[prefix + ".d" + pname] = p.grad


def main():
    torch.set_num_threads(1)
    t, meta = read_safetensors(sys.argv[1])
    out = {}
    lw = t["linear.weight"]
    run_module("linear", torch.nn.Linear(lw.shape[1], lw.shape[0]), t, out)
    run_module("ln", torch.nn.LayerNorm(t["ln.weight"].shape[0]), t, out)
    run_module("gelu", torch.nn.GELU(), t, out)
    cw = t["conv.weight"]
    conv = torch.nn.Conv2d(cw.shape[1], cw.shape[0], cw.shape[2],
                           stride=int(meta["conv.stride"]), padding=int(meta["conv.padding"]))
    run_module("conv", conv, t, out)

    p = t["adamw.param"].clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=float(meta["adamw.lr"]),
                            weight_decay=float(meta["adamw.weight_decay"]))
    for k in range(int(meta["adamw.steps"])):
        p.grad = t["adamw.grad.%d" % k].clone()
        opt.step()
    out["adamw.param"] = p
    out["adamw.exp_avg"] = opt.state[p]["exp_avg"]
    out["adamw.exp_avg_sq"] = opt.state[p]["exp_avg_sq"]
    write_safetensors(sys.argv[2], out)


if __name__ == "__main__":
    main()
