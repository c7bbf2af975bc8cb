#!/usr/bin/env bash
# Side-by-side timing of the canonical workloads (bench/peer/workloads.json) in diffvi, PyTorch
# (Debian's python3-torch) and libtorch's C++ frontend (Debian's libtorch-dev), at one thread
# count. The contenders alternate over several repetitions so machine noise hits all of them;
# medians and ratios are printed and written to bench/results/peer-<threads>.json.
#
#   bench/peer.sh [--threads N] [--reps R] [--iters K]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

threads=1 reps=5 iters=30
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    *) echo "usage: bench/peer.sh [--threads N] [--reps R] [--iters K]" >&2; exit 2 ;;
  esac
done

DIFFVI_DEB_PACKAGES+=(python3-torch libtorch-dev)
diffvi_install_deps
diffvi_configure_release
diffvi_build build peer-workloads
diffvi_log "building the libtorch contender in build/peer-libtorch"
cmake -S bench/peer -B build/peer-libtorch -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/peer-libtorch -j "$(nproc)" >/dev/null

spec=bench/peer/workloads.json
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
contenders=(diffvi torch libtorch)
for ((rep = 0; rep < reps; ++rep)); do
  for ((i = 0; i < ${#contenders[@]}; ++i)); do
    # Rotate the order each repetition so no contender always runs first (or last).
    c="${contenders[$(((i + rep) % ${#contenders[@]}))]}"
    diffvi_log "rep $((rep + 1))/${reps}: ${c} (${threads} thread(s))"
    case "$c" in
      diffvi) build/bin/peer-workloads "$spec" --threads "$threads" --iters "$iters" \
                $([[ $rep == 0 ]] && echo --sgemm) >>"$raw" ;;
      torch) /usr/bin/python3 bench/peer/torch_workloads.py --spec "$spec" --threads "$threads" \
               --iters "$iters" >>"$raw" ;;
      libtorch) build/peer-libtorch/libtorch-workloads "$spec" --threads "$threads" \
                  --iters "$iters" >>"$raw" ;;
    esac
  done
done
mkdir -p bench/results
/usr/bin/python3 bench/peer/aggregate.py "$spec" "$raw" "$threads" "bench/results/peer-${threads}.json"
