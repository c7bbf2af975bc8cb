#!/usr/bin/env python3
"""Check that every C++ source in the repository matches its .clang-format.

Usage: check_format.py [--clang-format PATH] [--fix] [REPO_ROOT]

Walks diffvi/, tests/, repro/, bench/ and examples/ for .h/.cpp/.cu/.cuh files and runs
`clang-format --dry-run -Werror` on them in batches. Exit status 1 lists every file that differs,
with the command that fixes them. --fix rewrites them in place instead.
"""
import os
import subprocess
import sys

FOLDERS = ("diffvi", "tests", "repro", "bench", "examples")
EXTENSIONS = (".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh")
SKIP_DIRS = {"build", "results", ".git"}


def sources(root):
    for folder in FOLDERS:
        for dirpath, dirnames, names in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(names):
                if name.endswith(EXTENSIONS):
                    yield os.path.join(dirpath, name)


def differs(clang_format, path):
    """True if clang-format would change the file (it reads .clang-format above the file)."""
    run = subprocess.run([clang_format, "--dry-run", "-Werror", path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run.returncode != 0


def main(argv):
    clang_format, fix, root = "clang-format", False, "."
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--clang-format":
            clang_format = args.pop(0)
        elif a == "--fix":
            fix = True
        else:
            root = a
    if not os.path.isfile(os.path.join(root, ".clang-format")):
        print(f"check_format: no .clang-format in {root}", file=sys.stderr)
        return 2
    files = list(sources(root))
    bad = [f for f in files if differs(clang_format, f)]
    if fix and bad:
        subprocess.run([clang_format, "-i"] + bad, check=True)
        print(f"check_format: reformatted {len(bad)} of {len(files)} files")
        return 0
    if bad:
        for f in bad:
            print(f"{os.path.relpath(f, root)}: differs from .clang-format")
        print(f"check_format: {len(bad)} of {len(files)} files differ; fix with "
              f"scripts/check_format.py --fix {root}")
        return 1
    print(f"check_format: {len(files)} files match .clang-format")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
