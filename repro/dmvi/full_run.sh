#!/usr/bin/env bash
# The full DMVI reproduction on the 2-core box, then one merged folder:
#   1. N = 100, every model, one repro-dmvi process alone on the box (one thread), so its fit
#      times are those of a fit by itself — the ones the ≤ 20 s target is about;
#   2. N = 1000 in two processes side by side (one thread each, the models split so both take
#      about as long), which halves the longer half of the run.
#   repro/dmvi/full_run.sh [OUT]      (default out/dmvi-full; build/bin/repro-dmvi must exist)
# Extra repro-dmvi options go in DMVI_ARGS, e.g. DMVI_ARGS="--seeds 3".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-out/dmvi-full}"
bin="$root/build/bin/repro-dmvi"
[[ -x "$bin" ]] || { echo "full_run.sh: build $bin first (./run.sh or scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$out"
start=$(date +%s)
# shellcheck disable=SC2086
if ! "$bin" --out "$out/part-n100" --n 100 ${DMVI_ARGS:-} 2> "$out/part-n100.log"; then
  echo "full_run.sh: the N = 100 part failed; see $out/part-n100.log" >&2
  exit 1
fi
# shellcheck disable=SC2086
"$bin" --out "$out/part-a" --n 1000 --models mean,mixture,hierarchical1,hierarchical2 \
  ${DMVI_ARGS:-} 2> "$out/part-a.log" &
a=$!
# shellcheck disable=SC2086
"$bin" --out "$out/part-b" --n 1000 --models hierarchical3,hierarchical4,hierarchical5 \
  ${DMVI_ARGS:-} 2> "$out/part-b.log" &
b=$!
status=0
wait "$a" || status=1
wait "$b" || status=1
if ((status != 0)); then
  echo "full_run.sh: an N = 1000 part failed; see $out/part-a.log and $out/part-b.log" >&2
  exit 1
fi
python3 "$root/repro/dmvi/merge_results.py" \
  --how "N = 100 alone on the box, then N = 1000 in two processes side by side; one thread each" \
  "$out" "$out/part-n100" "$out/part-a" "$out/part-b"
echo "full_run.sh: wrote $out in $(( $(date +%s) - start )) s wall" >&2
