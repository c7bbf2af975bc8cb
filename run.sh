#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds the Release tree in build/, and runs
# the demo (a 2-D MLP regression trained with diffvi's autograd; prints its loss curve).
# Arguments are passed to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/setup.sh

diffvi_install_deps
diffvi_configure_release
if [[ ! -f examples/demo_mlp.cpp ]]; then
  diffvi_log "examples/demo_mlp.cpp does not exist yet: nothing to run"
  exit 1
fi
diffvi_build build demo-mlp
diffvi_log "running build/bin/demo-mlp $*"
exec build/bin/demo-mlp "$@"
