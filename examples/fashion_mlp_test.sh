#!/bin/sh
# CTest driver for example-fashion-mlp (see examples/CMakeLists.txt).
#   fashion_mlp_test.sh tiny      EXE DIR  a short run, its JSON, and bit-exact resume
#   fashion_mlp_test.sh truncated EXE DIR  truncated/corrupt checkpoints: exit 1 with a message
# Exits 77 (skip) where the Fashion-MNIST files are needed but absent.
set -u
mode=$1 exe=$2 dir=$3
data=${DIFFVI_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
have_data=0
[ -e "$data/train-images-idx3-ubyte.gz" ] && have_data=1
rm -rf "$dir" && mkdir -p "$dir" || exit 1
small="--limit 2000 --batch 64 --threads 1 --data-dir $data"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs the example on a checkpoint that must be rejected: exit code 1 (not a signal, not 0)
# and an error line naming the file.
expect_rejected() {
  "$exe" --epochs 1 --load "$1" $small >"$dir/out.txt" 2>"$dir/err.txt"
  rc=$?
  cat "$dir/err.txt" >&2
  [ "$rc" -eq 1 ] || fail "--load $1 exited with $rc (expected 1)"
  grep -q "error" "$dir/err.txt" || fail "no error message for $1"
  grep -q "$(basename "$1")" "$dir/err.txt" || fail "the error does not name $1"
}

case $mode in
  tiny)
    [ $have_data -eq 1 ] || { echo "Fashion-MNIST not installed in $data: skipping"; exit 77; }
    "$exe" --epochs 2 $small --json "$dir/a.json" --save "$dir/a.safetensors" || fail "run a"
    for key in test_accuracy train_seconds epochs; do
      grep -q "\"$key\"" "$dir/a.json" || fail "JSON lacks $key"
    done
    python3 -c "import json,sys; a=json.load(open('$dir/a.json'))['test_accuracy']; \
sys.exit(0 if a > 0.6 else 1)" || fail "accuracy too low: $(cat "$dir/a.json")"
    # 1 epoch, save, resume to 2: the final checkpoint equals the uninterrupted one, byte for byte.
    "$exe" --epochs 1 $small --save "$dir/b.safetensors" >/dev/null || fail "run b"
    "$exe" --epochs 2 $small --load "$dir/b.safetensors" --save "$dir/b.safetensors" \
      >/dev/null || fail "resume b"
    cmp "$dir/a.safetensors" "$dir/b.safetensors" || fail "resumed run differs"
    ;;
  truncated)
    # Header length far beyond the end of the file.
    printf '\020\047\000\000\000\000\000\000{"a":' >"$dir/short.safetensors"
    expect_rejected "$dir/short.safetensors"
    printf 'not a checkpoint at all' >"$dir/garbage.safetensors"
    expect_rejected "$dir/garbage.safetensors"
    if [ $have_data -eq 1 ]; then
      "$exe" --epochs 1 $small --save "$dir/full.safetensors" >/dev/null || fail "save"
      size=$(wc -c <"$dir/full.safetensors")
      head -c $((size / 2)) "$dir/full.safetensors" >"$dir/half.safetensors"
      expect_rejected "$dir/half.safetensors"
    fi
    ;;
  *) fail "unknown mode $mode" ;;
esac
echo OK
