#!/usr/bin/env bash
# slurm.sh — `sweep --executor slurm` on a real one-node Slurm cluster that this test starts on
# localhost as its own processes: munged with its key and socket in a temporary folder, slurmctld
# and slurmd with a slurm.conf there (free ports chosen at random, so two `make test` runs at once
# do not collide). A tiny sweep goes in as a job array plus a merge job; its results.csv equals a
# sequential sweep's and a `--jobs 2` sweep's value for value (1 thread per unit everywhere). One
# array task is cancelled on purpose; the merge names that unit with its rerun command, and
# `--resume` resubmits just that unit. The job scripts also work submitted by hand. Every daemon
# is stopped by its pid on exit, however the test ends.
#
# Needs root (slurmd runs jobs as their user) and Debian's slurmctld, slurmd, slurm-client and
# munge (.ci/install-deps installs them); without them it reports itself skipped, not passed.
set -u
cd "$(dirname "$0")/.."
PB=$(realpath "${POSBENCH:-./posbench}")
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }
skip() { echo "SKIPPED slurm.sh: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

[ "$(id -u)" = 0 ] || skip "not root (slurmd must run as root to start jobs)"
for c in munged slurmctld slurmd sbatch squeue scontrol scancel ss; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is missing (apt-get install slurmctld slurmd slurm-client munge)"
done

T=$(mktemp -d)   # mode 700: munged refuses a socket folder others can write
PIDS=""
JOBS=""
cleanup() {
    local rc=$?
    [ -n "$JOBS" ] && scancel $JOBS 2>/dev/null
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T" 2>/dev/null || { sleep 1; rm -rf "$T"; }
    exit "$rc"
}
trap cleanup EXIT
wait_for() { local n=$(($1 * 10)); shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }

# A free TCP port (nothing listening on it), from a random start.
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        [ -z "$(ss -Htln "sport = :$p")" ] && [ -z "$(ss -Htln "sport = :$((p + 1))")" ] && { echo "$p"; return; }
    done
    echo 0
}
PORT=$(free_port)
[ "$PORT" != 0 ] || skip "no free port pair found"

mkdir -p "$T/state" "$T/spool" "$T/runs"
head -c 1024 /dev/urandom >"$T/munge.key"
chmod 400 "$T/munge.key"
munged -F --force --socket="$T/munge.sock" --key-file="$T/munge.key" --pid-file="$T/munged.pid" \
    --log-file="$T/munged.log" --seed-file="$T/munged.seed" 2>"$T/munged.err" &
PIDS="$!"
cat >"$T/slurm.conf" <<EOF
ClusterName=posbenchtest
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
wait_for 20 test -S "$T/munge.sock" || skip "munged did not start ($(head -c 200 "$T/munged.err"))"
slurmctld -D -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
PIDS="$PIDS $!"
slurmd -D -f "$SLURM_CONF" -N localhost >"$T/slurmd.out" 2>&1 &
PIDS="$PIDS $!"
node_idle() { [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; }
if ! wait_for 60 node_idle; then
    echo "the local cluster did not come up; slurmctld.log and slurmd.log:"; tail -n 5 "$T/slurmctld.log" "$T/slurmd.log"
    check "a one-node Slurm cluster starts on localhost" false
    echo "$pass passed, $fail failed"; exit 1
fi
check "a one-node Slurm cluster starts on localhost (ports $PORT, $((PORT + 1)))" true

# wait_job ID: until the job has ended (any final state); its state on stdout.
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
ended() { local s; s=$(job_state "$1"); [ -n "$s" ] && ! echo "$s" | grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED'; }
wait_job() { wait_for 120 ended "$1"; job_state "$1"; }
values() { cut -d, -f1-11,15,16 "$1"; }   # results.csv without tokens_per_s, peak_rss_mb, arena_mb
R=$T/runs
TINY=(--preset tiny --methods nope,alibi,t5 --threads 1)

# --- references: the same sweep run here, in turn and two units at once ----------------------------
"$PB" sweep "${TINY[@]}" --no-plot --out "$R/seq" >/dev/null 2>&1
"$PB" sweep "${TINY[@]}" --no-plot --jobs 2 --out "$R/j2" >/dev/null 2>&1

# --- the array, held so that one task can be cancelled before it starts ---------------------------
"$PB" sweep "${TINY[@]}" --executor slurm --slurm-args "--hold --time=10" --out "$R/s" >"$T/submit.out" 2>&1
rc=$?
array=$(sed -n 's/.* submitted as array job \([0-9]*\).*/\1/p' "$T/submit.out")
merge=$(sed -n 's/.*merge submitted as job \([0-9]*\).*/\1/p' "$T/submit.out")
JOBS="$array $merge"
check "sweep --executor slurm exits 0 (rc $rc) printing both job ids ($(head -c 300 "$T/submit.out"))" \
    [ "$rc" -eq 0 -a -n "$array" -a -n "$merge" ]
check "it says how to watch them" grep -q "squeue -j $array,$merge" "$T/submit.out"
check "the unit script asks for 1 cpu per task, one task per unit, and carries --slurm-args" \
    sh -c "grep -qx '#SBATCH --cpus-per-task=1' '$R/s/slurm/units.sbatch' && grep -qx '#SBATCH --array=1-3' '$R/s/slurm/units.sbatch' && grep -qx '#SBATCH --time=10' '$R/s/slurm/units.sbatch'"
check "the merge job depends on the array (afterany)" \
    sh -c "scontrol show job $merge | grep -q 'Dependency=afterany:${array}_\*'"
scancel "${array}_3"
check "task 3 is cancelled: the held array keeps tasks 1-2" sh -c "scontrol show job $array | grep -q 'ArrayTaskId=1-2 '"
scontrol release "$array" "$merge"
state=$(wait_job "$merge")
check "task 3 never ran (no log of it)" [ ! -e "$R/s/slurm/unit-${array}_3.out" ]
check "the merge job ran after the array and failed, a unit being missing (state $state)" [ "$state" = "FAILED " ]
mlog=$R/s/slurm/merge-$merge.out
check "the merge names the cancelled unit with its rerun command ($(grep -m1 t5-L16 "$mlog"))" \
    grep -q "t5-L16-s1  missing  rerun: $PB unit $R/s t5-L16-s1" "$mlog"
check "the merge wrote the two finished units' rows" [ "$(($(wc -l <"$R/s/results.csv") - 1))" -eq 12 ]
stamp=()
for u in nope alibi; do stamp[${#stamp[@]}]=$(stat -c %Y "$R/s/units/$u-L16-s1/model.safetensors"); done

# --- --resume: only the missing unit goes in again ------------------------------------------------
"$PB" sweep "${TINY[@]}" --executor slurm --resume --out "$R/s" >"$T/resume.out" 2>&1
rc=$?
array2=$(sed -n 's/.* submitted as array job \([0-9]*\).*/\1/p' "$T/resume.out")
merge2=$(sed -n 's/.*merge submitted as job \([0-9]*\).*/\1/p' "$T/resume.out")
JOBS="$JOBS $array2 $merge2"
check "--resume submits only unit 3 (rc $rc: $(head -n 1 "$T/resume.out"))" \
    sh -c "[ $rc -eq 0 ] && grep -q '^slurm: units 3 of ' '$T/resume.out' && [ \"\$(tail -n 1 '$R/s/slurm/jobs.tsv' | cut -f4)\" = 3 ]"
state=$(wait_job "$merge2")
check "after --resume the merge completes (state $state; $(tail -n 1 "$R/s/slurm/merge-$merge2.out"))" [ "$state" = "COMPLETED " ]
check "--resume ran one task: one unit log for array $array2" [ "$(ls "$R/s/slurm/" | grep -c "^unit-${array2}_")" -eq 1 ]
check "the finished units were not trained again" \
    [ "$(stat -c %Y "$R/s/units/nope-L16-s1/model.safetensors") $(stat -c %Y "$R/s/units/alibi-L16-s1/model.safetensors")" = "${stamp[*]}" ]
check "Slurm's results.csv values equal the sequential sweep's" cmp -s <(values "$R/seq/results.csv") <(values "$R/s/results.csv")
check "... and the --jobs 2 sweep's" cmp -s <(values "$R/j2/results.csv") <(values "$R/s/results.csv")
same_rows() { cmp -s <(cut -d, -f1-8,10 "$R/seq/train.csv") <(cut -d, -f1-8,10 "$R/s/train.csv") && cmp -s "$R/seq/positions.csv" "$R/s/positions.csv"; }
check "Slurm's train.csv and positions.csv rows equal the sequential sweep's" same_rows
check "the merge drew the report" [ -s "$R/s/report.md" ]

# --- the job scripts submitted by hand ------------------------------------------------------------
rm -rf "$R/s/units/alibi-L16-s1"
array3=$(sbatch --parsable "$R/s/slurm/units.sbatch")
merge3=$(sbatch --parsable --dependency=afterany:"$array3" "$R/s/slurm/merge.sbatch")
JOBS="$JOBS $array3 $merge3"
state=$(wait_job "$merge3")
check "units.sbatch and merge.sbatch submitted by hand rebuild the run (state $state)" \
    [ "$state" = "COMPLETED " -a "$(values "$R/seq/results.csv" | md5sum)" = "$(values "$R/s/results.csv" | md5sum)" ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
