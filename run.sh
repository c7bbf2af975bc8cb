#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds the Release tree in build/, and runs
# the paper reproductions in quick mode, writing results and figures under out/ (one folder per
# binary). `./run.sh --full` runs them in full instead (hours; see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/setup.sh

mode=--quick
out=out
while (($#)); do
  case "$1" in
    --full) mode=""; shift ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: ./run.sh [--full] [--out DIR]" >&2; exit 2 ;;
  esac
done

# Each reproduction binary: name and its output folder.
repros=(repro-dpm-solver repro-dmvi)

diffvi_install_deps
diffvi_fetch_data
diffvi_configure_release
diffvi_build build "${repros[@]}"
mkdir -p "$out"
for r in "${repros[@]}"; do
  dir="$out/${r#repro-}"
  if [[ -z "$mode" && "$r" == repro-dmvi ]]; then
    # Two processes side by side, merged (about 40 min instead of 75 on 2 cores).
    diffvi_log "running repro/dmvi/full_run.sh $dir"
    repro/dmvi/full_run.sh "$dir"
    continue
  fi
  diffvi_log "running build/bin/$r ${mode} --out $dir"
  build/bin/"$r" ${mode} --out "$dir"
done
diffvi_log "results: $(ls -d "$out"/*/ | tr '\n' ' ')"
