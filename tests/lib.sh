# lib.sh — helpers the end-to-end scripts source (they set PB, the posbench to run, and T, a
# scratch folder, first).
pass=0 fail=0
# check NAME COMMAND...: one pass when COMMAND succeeds, else one failure naming NAME
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }
# bad NAME WANT ARGS...: posbench ARGS exits 2 with one stderr line containing WANT
bad() {
    local what=$1 want=$2; shift 2
    "$PB" "$@" >/dev/null 2>"$T/bad.err"
    local rc=$?
    check "$what: exit 2 (rc $rc), one line with '$want' ($(head -c 200 "$T/bad.err"))" \
        sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/bad.err') -eq 1 ] && grep -q -- '$want' '$T/bad.err'"
}
