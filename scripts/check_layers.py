#!/usr/bin/env python3
"""Check that diffvi's folders include only what DESIGN.md ("Layers") allows.

Usage: check_layers.py [--self-test] [REPO_ROOT]

Every #include in diffvi/<layer>/** that names a diffvi header ("diffvi/<layer>/...", or a
relative path that resolves inside diffvi/) must point into a layer allowed for the including
folder. Exit status 1 lists every violation as file:line.
"""
import os
import re
import sys
import tempfile

# DESIGN.md, "Layers": folder -> folders it may include from.
ALLOWED = {
    "tensor": {"tensor"},
    "backends": {"tensor", "backends"},
    "autograd": {"tensor", "autograd"},
    "nn": {"tensor", "autograd", "nn"},
    "data": {"tensor", "data"},
    "diffusion": {"tensor", "autograd", "nn", "diffusion"},
    "solvers": {"tensor", "autograd", "nn", "diffusion", "solvers"},
    "vi": {"tensor", "autograd", "nn", "data", "diffusion", "solvers", "vi"},
}
EXTENSIONS = (".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".inl", ".ipp")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def target_layer(src_dir, diffvi_dir, delim, path):
    """The layer an include points into, or None if it is not a diffvi header."""
    if path.startswith("diffvi/"):
        parts = path.split("/")
        return parts[1] if len(parts) > 2 else "<top>"
    if delim == '"':
        # A relative include ("x.h", "../nn/x.h") resolves against the including file first.
        resolved = os.path.normpath(os.path.join(src_dir, path))
        rel = os.path.relpath(resolved, diffvi_dir)
        if not rel.startswith(".."):
            parts = rel.split(os.sep)
            return parts[0] if len(parts) > 1 else "<top>"
    return None


def check(root):
    diffvi_dir = os.path.join(root, "diffvi")
    if not os.path.isdir(diffvi_dir):
        return [f"{diffvi_dir}: no such directory"], 0
    errors, files = [], 0
    for layer in sorted(os.listdir(diffvi_dir)):
        layer_dir = os.path.join(diffvi_dir, layer)
        if not os.path.isdir(layer_dir):
            continue
        allowed = ALLOWED.get(layer)
        for dirpath, _, names in os.walk(layer_dir):
            for name in sorted(names):
                if not name.endswith(EXTENSIONS):
                    continue
                src = os.path.join(dirpath, name)
                shown = os.path.relpath(src, root)
                files += 1
                if allowed is None:
                    errors.append(f"{shown}: folder diffvi/{layer}/ is not in the layer table")
                    break
                with open(src, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE_RE.match(line)
                        if not m:
                            continue
                        target = target_layer(dirpath, diffvi_dir, m.group(1), m.group(2))
                        if target is not None and target not in allowed:
                            errors.append(
                                f"{shown}:{lineno}: {layer}/ may not include {target}/ "
                                f"({m.group(2)}); allowed: {', '.join(sorted(allowed))}")
    return errors, files


def self_test():
    """The checker must catch a violation, a relative-path escape, and accept allowed includes."""
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        write("diffvi/tensor/a.h", '#include "diffvi/tensor/b.h"\n#include <vector>\n')
        write("diffvi/backends/cpu/k.cpp",
              '#include "diffvi/tensor/a.h"\n#include "diffvi/backends/reference/r.h"\n')
        write("diffvi/nn/m.cpp", '#include "diffvi/autograd/x.h"\n')
        errors, _ = check(root)
        assert not errors, errors
        write("diffvi/tensor/bad.cpp", '#include "diffvi/backends/cpu/k.h"\n')
        write("diffvi/autograd/bad.h", '  # include "../nn/m.h"\n')
        write("diffvi/data/bad.cpp", '#include <diffvi/nn/m.h>\n')
        errors, _ = check(root)
        assert len(errors) == 3 and all("bad" in e for e in errors), errors
    print("check_layers: self-test passed")


def main(argv):
    args = [a for a in argv if a != "--self-test"]
    if len(args) != len(argv):
        self_test()
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    errors, files = check(root)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_layers: {len(errors)} layering violation(s) in {files} files",
              file=sys.stderr)
        return 1
    print(f"check_layers: {files} files under diffvi/ respect the layer table")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
