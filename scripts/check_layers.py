#!/usr/bin/env python3
"""Check that diffvi's folders include only what DESIGN.md allows.

Usage: check_layers.py [--self-test] [REPO_ROOT]

First level (DESIGN.md, "Layers"): every #include in diffvi/<layer>/** that names a diffvi header
("diffvi/<layer>/...", or a relative path that resolves inside diffvi/) must point into a layer
allowed for the including folder (ALLOWED).

Second level (DESIGN.md, "Layout of the method libraries"): inside the method libraries vi/ and
diffusion/, every subfolder is either shared or a method folder (SUBFOLDERS):
  - vi/: model, distributions, transforms, infer, guides, mcmc, metrics are shared; each
    vi/methods/<m>/ is a method folder (one per paper method: dmvi, later ddvi, sivi, hsivi).
  - diffusion/: schedules, process, problems are shared; vdm/ is a method folder (when it lands).
A method folder may include the shared folders (and the lower layers), never another method
folder, in its own library or another; a shared folder, and every other layer (solvers/, ...),
never includes a method folder; no folder includes its library's top-level files (vi/vi.h,
the umbrella). The top-level files of a library (vi/vi.h, vi/builtin_methods.cpp, the one list
of built-in methods) sit above its folders and may include any of them. A subfolder missing from
SUBFOLDERS is itself a violation, so a new folder is classified when it is added.

Exit status 1 lists every violation as file:line.
"""
import functools
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
# Second level: library -> (shared subfolders, method subfolders). "methods/*" means every folder
# under methods/ is a method folder of its own.
SUBFOLDERS = {
    "vi": ({"model", "distributions", "transforms", "infer", "guides", "mcmc", "metrics"},
           {"methods/*"}),
    "diffusion": ({"schedules", "process", "problems"}, {"vdm"}),
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


def target_parts(src_dir, diffvi_dir, delim, path):
    """The include's path under diffvi/ as a list of parts, or None if not a diffvi header."""
    if path.startswith("diffvi/"):
        return path.split("/")[1:]
    if delim == '"':
        resolved = os.path.normpath(os.path.join(src_dir, path))
        rel = os.path.relpath(resolved, diffvi_dir)
        if not rel.startswith(".."):
            return rel.split(os.sep)
    return None


def unit(parts):
    """Second-level unit of a path under diffvi/ (parts, file name last).

    Returns (kind, name) with kind "top" (a library's top-level file), "shared", "method",
    "unknown" (a subfolder not in SUBFOLDERS), or None outside the method libraries.
    """
    if not parts or parts[0] not in SUBFOLDERS:
        return None
    lib = parts[0]
    shared, methods = SUBFOLDERS[lib]
    if len(parts) == 2:
        return ("top", lib)
    sub = parts[1]
    if sub in shared:
        return ("shared", f"{lib}/{sub}")
    if sub in methods:
        return ("method", f"{lib}/{sub}")
    if f"{sub}/*" in methods:
        if len(parts) >= 4:
            return ("method", f"{lib}/{sub}/{parts[2]}")
        return ("unknown", f"{lib}/{sub}")  # a file directly in methods/
    return ("unknown", f"{lib}/{sub}")


def second_level_error(src_parts, target):
    """Why an include from src_parts (under diffvi/) of target (parts) breaks the second-level
    rule, or None."""
    src, dst = unit(src_parts), unit(target)
    if src is not None and src[0] == "top":
        return None  # a library's top-level files may include all of its folders
    if dst is None:
        return None
    if dst[0] == "top" and target[0] == src_parts[0]:
        return f"{src[1]}/ may not include its library's top-level {'/'.join(target)}"
    if dst[0] != "method":
        return None
    if src is not None and src[0] == "method":
        if src[1] == dst[1]:
            return None
        return f"method folder {src[1]}/ may not include another method folder, {dst[1]}/"
    where = src[1] if src is not None else src_parts[0]
    return f"{where}/ is shared and may not include the method folder {dst[1]}/"


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
                src_parts = os.path.relpath(src, diffvi_dir).split(os.sep)
                own = unit(src_parts)
                if own is not None and own[0] == "unknown":
                    errors.append(f"{shown}: folder diffvi/{own[1]}/ is neither shared nor a "
                                  f"method folder (SUBFOLDERS in {os.path.basename(__file__)})")
                    continue
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
                            continue
                        parts = target_parts(dirpath, diffvi_dir, m.group(1), m.group(2))
                        why = second_level_error(src_parts, parts) if parts else None
                        if why:
                            errors.append(f"{shown}:{lineno}: {why} ({m.group(2)})")
    return errors, files


def write_file(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def self_test():
    """The checker must catch a violation, a relative-path escape, and accept allowed includes."""
    with tempfile.TemporaryDirectory() as root:
        write = functools.partial(write_file, root)
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
    # Second level: method folders and shared folders inside vi/ and diffusion/.
    with tempfile.TemporaryDirectory() as root:
        write = functools.partial(write_file, root)
        write("diffvi/vi/infer/fit.h", '#include "diffvi/vi/model/model.h"\n')
        write("diffvi/vi/methods/a/a.cpp",
              '#include "diffvi/vi/infer/fit.h"\n#include "diffvi/vi/methods/a/a.h"\n'
              '#include "a.h"\n#include "diffvi/diffusion/schedules/s.h"\n')
        write("diffvi/vi/vi.h", '#include "diffvi/vi/methods/a/a.h"\n')
        write("diffvi/vi/builtin_methods.cpp", '#include "methods/a/register.h"\n')
        write("diffvi/diffusion/vdm/loss.cpp", '#include "diffvi/diffusion/process/p.h"\n')
        errors, _ = check(root)
        assert not errors, errors
        write("diffvi/vi/methods/b/bad1.cpp", '#include "diffvi/vi/methods/a/a.h"\n')
        write("diffvi/vi/methods/b/bad2.cpp", '#include "../a/a.h"\n')
        write("diffvi/vi/infer/bad3.cpp", '#include "diffvi/vi/methods/a/a.h"\n')
        write("diffvi/vi/guides/bad4.cpp", '#include "../methods/a/a.h"\n')
        write("diffvi/vi/mcmc/bad5.cpp", '#include "diffvi/vi/vi.h"\n')
        write("diffvi/diffusion/schedules/bad6.cpp", '#include "diffvi/diffusion/vdm/loss.h"\n')
        write("diffvi/solvers/bad7.cpp", '#include "diffvi/diffusion/vdm/loss.h"\n')
        write("diffvi/vi/methods/b/bad8.cpp", '#include "diffvi/diffusion/vdm/loss.h"\n')
        write("diffvi/vi/newfolder/bad9.h", '#include <vector>\n')
        write("diffvi/vi/methods/bad10.h", '#include <vector>\n')
        errors, _ = check(root)
        assert len(errors) == 10 and all("bad" in e for e in errors), errors
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
