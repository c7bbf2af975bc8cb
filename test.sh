#!/usr/bin/env bash
# The whole test suite, twice: the Release build in build/, then an AddressSanitizer +
# UndefinedBehaviorSanitizer build in build-asan/ (benchmarks and CUDA off). Installs missing
# Debian packages first. Fails if either suite fails. Extra arguments go to both ctest runs
# (e.g. ./test.sh -R tensor).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/setup.sh

CTEST_JOBS="${DIFFVI_CTEST_JOBS:-2}"

diffvi_install_deps
diffvi_fetch_data

# --- Release suite ------------------------------------------------------------------------------
diffvi_configure_release -DDIFFVI_BUILD_TESTS=ON
diffvi_build build
release_status=0
diffvi_log "Release suite (build/)"
ctest --test-dir build --output-on-failure -j "$CTEST_JOBS" "$@" || release_status=$?

# --- sanitizer suite ----------------------------------------------------------------------------
diffvi_configure build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIFFVI_SANITIZE=ON \
  -DDIFFVI_BUILD_TESTS=ON -DDIFFVI_BUILD_BENCH=OFF -DDIFFVI_CUDA=OFF
diffvi_build build-asan
# Leak checking stays on; scripts/lsan.supp is where a runtime library's by-design allocation
# held until exit would be suppressed (none so far). Settings already in the environment
# come last, so they win over these defaults.
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
asan_status=0
diffvi_log "sanitizer suite (build-asan/)"
ctest --test-dir build-asan --output-on-failure -j "$CTEST_JOBS" "$@" || asan_status=$?

if ((release_status != 0 || asan_status != 0)); then
  diffvi_log "FAILED: Release suite exit ${release_status}, sanitizer suite exit ${asan_status}"
  exit 1
fi
diffvi_log "both suites passed"
