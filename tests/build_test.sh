#!/usr/bin/env bash
# build_test.sh — a fresh machine's build: a first build whose OpenBLAS probe
# fails (simulated with BLAS_HIDE=1) gives a naive binary that says so; the next
# plain `make` (OpenBLAS now "installed") must rebuild with OpenBLAS instead of
# keeping the stale objects. Builds a copy of the tree at -O0 to stay quick.
set -u
cd "$(dirname "$0")/.."
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

git ls-files -co --exclude-standard -z | grep -zv '^results/' | xargs -0 cp --parents -t "$T" 2>/dev/null
cd "$T" || exit 1
mk() { make -j2 --no-print-directory EXTRA_CFLAGS=-O0 "$@" posbench >"$T/make.log" 2>&1; }

mk BLAS_HIDE=1
check "build with BLAS hidden succeeds" test -x ./posbench
check "--version says naive" grep -q "naive matmul" <(./posbench --version)
check "naive binary is not linked with OpenBLAS" bash -c "! ldd ./posbench | grep -q openblas"
POSBENCH_NAIVE_OK= ./posbench eval --lengths 8 >/dev/null 2>"$T/err"
check "naive binary warns once on eval" test "$(grep -c 'built without OpenBLAS' "$T/err")" = 1
POSBENCH_NAIVE_OK=1 ./posbench eval --lengths 8 >/dev/null 2>"$T/err"
check "POSBENCH_NAIVE_OK=1 silences the warning" test "$(grep -c 'built without OpenBLAS' "$T/err")" = 0

mk
check "second build succeeds" test -x ./posbench
check "the objects were rebuilt (flags changed)" grep -q -- "-DUSE_BLAS" "$T/make.log"
check "--version says OpenBLAS" grep -q "^posbench (OpenBLAS" <(./posbench --version)
check "binary is linked with OpenBLAS" bash -c "ldd ./posbench | grep -q openblas"
POSBENCH_NAIVE_OK= ./posbench eval --lengths 8 >/dev/null 2>"$T/err"
check "OpenBLAS binary does not warn" test "$(grep -c 'built without OpenBLAS' "$T/err")" = 0
check "build flags recorded" grep -q -- "-DUSE_BLAS" build/flags.txt

mk
check "third build has nothing to do" bash -c "! grep -q -- ' -c -o ' '$T/make.log'"

# the kernel versions of dev/ keep compiling against the current interfaces
make -j2 --no-print-directory -f dev/Makefile EXTRA_CFLAGS=-O0 >"$T/dev.log" 2>&1
check "dev/ kernel bench builds (make -f dev/Makefile)" test -x build/bench_kernels

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
