#!/usr/bin/env bash
# cli.sh — end-to-end: a `tiny` sweep writes a complete run folder; a training
# killed with SIGKILL and resumed ends with the same loss as an uninterrupted
# one; a re-run sweep skips finished work; bad input exits 2 with one line.
set -u
cd "$(dirname "$0")/.."
PB=${POSBENCH:-./posbench}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }
say() { pass=$((pass + 1)); }
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

# --- OpenMP waits: passive with a short spin unless the user chose (README: Threads) ---
check "unset: passive with GOMP_SPINCOUNT=1000" grep -qx "OpenMP waits: OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT=1000" \
    <(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u POSBENCH_ENV_READY "$PB" --version)
check "a policy of the user's is kept, with no spin count added" grep -qx "OpenMP waits: OMP_WAIT_POLICY=active, GOMP_SPINCOUNT=(unset)" \
    <(env -u GOMP_SPINCOUNT -u POSBENCH_ENV_READY OMP_WAIT_POLICY=active "$PB" --version)
check "a spin count of the user's is kept" grep -qx "OpenMP waits: OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT=7" \
    <(env -u OMP_WAIT_POLICY -u POSBENCH_ENV_READY GOMP_SPINCOUNT=7 "$PB" --version)

# --- the bench's evaluation child reports its own peak RSS (VmHWM), which grows with the window;
#     wait4's ru_maxrss would carry the parent's pages over exec ---
hwm() { "$PB" bench --threads 1 --child "eval:nope:$1:1" | sed -n 's/.*"vmhwm_kb": \([0-9]*\)}.*/\1/p'; }
h1=$(hwm 256); h2=$(hwm 4096)
check "eval child: VmHWM reported and larger for the longer window ($h1 kB, $h2 kB)" \
    test -n "$h1" -a -n "$h2" -a "${h1:-0}" -gt 0 -a "${h2:-0}" -gt "${h1:-0}"

# --- bad input: exit 2 and one stderr line naming the flag or file ---
bad() {
    local what=$1 want=$2; shift 2
    "$PB" "$@" >"$T/out" 2>"$T/err"; local rc=$?
    local lines; lines=$(wc -l <"$T/err")
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$want" "$T/err"; then pass=$((pass + 1));
    else fail=$((fail + 1)); echo "FAIL bad input ($what): exit $rc, $lines lines: $(head -c 300 "$T/err")"; fi
}
bad "unknown command" "unknown command" frobnicate
bad "unknown method" "alibi" train --method nosuch --preset tiny --out "$T/x"
bad "unknown preset" "--preset" train --method alibi --preset nosuch
bad "unknown flag" "--bogus" train --method alibi --bogus 1
# the presets are the one source of defaults: one that leaves out a key is refused, naming it
mkdir -p "$T/home/harness/presets" && grep -v '^steps' harness/presets/tiny.conf >"$T/home/harness/presets/tiny.conf"
POSBENCH_HOME="$T/home" bad "preset without steps" "does not set 'steps'" train --method alibi --preset tiny --out "$T/x"
bad "length < 1" "--train-len" train --method alibi --preset tiny --train-len 0 --out "$T/x"
bad "eval length longer than split" "longer than" sweep --preset tiny --lengths 4000000 --out "$T/long"
bad "stride > window" "--stride" eval --ckpt tests/fixtures/ckpt/tiny_t5.safetensors --mode sliding --lengths 8 --stride 9
bad "stride < 1" "--stride" eval --ckpt tests/fixtures/ckpt/tiny_t5.safetensors --mode sliding --lengths 8 --stride 0
bad "bad mode" "--mode" eval --ckpt tests/fixtures/ckpt/tiny_t5.safetensors --mode sideways --lengths 8
bad "missing checkpoint" "no-such.safetensors" eval --ckpt "$T/no-such.safetensors" --lengths 8
bad "missing data file" "no-such.txt" train --method alibi --preset tiny --data "$T/no-such.txt" --out "$T/x2"
printf 'steps = 10\nbogus_key = 3\n' >"$T/bad.conf"
bad "unknown config key" "bogus_key" train --method alibi --preset tiny --config "$T/bad.conf" --out "$T/x3"
printf 'lr = 7\n' >"$T/bad2.conf"
bad "config value out of range" "lr" train --method alibi --preset tiny --config "$T/bad2.conf" --out "$T/x4"
bad "unknown method in sweep" "valid:" sweep --preset tiny --methods alibi,bogus --out "$T/s0"
mkdir -p "$T/ro"; chmod 555 "$T/ro"
if [ "$(id -u)" != 0 ]; then bad "output folder not writable" "--out" sweep --preset tiny --out "$T/ro/run"; fi

# --- resume after SIGKILL reaches the same final loss ---
"$PB" train --method t5 --preset tiny --set "steps=30;ckpt_every=10" --out "$T/full" 2>/dev/null
{ POSBENCH_KILL_AT_STEP=17 "$PB" train --method t5 --preset tiny --set "steps=30;ckpt_every=10" --out "$T/killed"; rc=$?; } 2>/dev/null
check "killed run dies with SIGKILL (rc $rc)" [ "$rc" -eq 137 ]
check "killed run left a checkpoint, no train.json" [ -f "$T/killed/model.safetensors" -a ! -f "$T/killed/train.json" ]
check "no temporary files left behind" [ -z "$(ls "$T/killed" | grep tmp)" ]
bad "existing checkpoint without --resume" "--resume" train --method t5 --preset tiny --set "steps=30;ckpt_every=10" --out "$T/killed"
"$PB" train --method t5 --preset tiny --set "steps=30;ckpt_every=10" --out "$T/killed" --resume 2>/dev/null
full=$(grep -o '"final_loss": [^,]*' "$T/full/train.json")
resumed=$(grep -o '"final_loss": [^,]*' "$T/killed/train.json")
check "resumed final loss ($resumed) equals uninterrupted ($full)" [ -n "$full" -a "$full" = "$resumed" ]
cut -d, -f1-8 "$T/full/train.csv" >"$T/a"; cut -d, -f1-8 "$T/killed/train.csv" >"$T/b"
check "resumed training curve equals the uninterrupted one" cmp -s "$T/a" "$T/b"

# --- a diverged loss stops training with a clear message and keeps the last good checkpoint ---
POSBENCH_NAN_AT_STEP=15 "$PB" train --method alibi --preset tiny --set "steps=30;ckpt_every=10" --out "$T/nan" >/dev/null 2>"$T/nan.err"
rc=$?
check "diverged training exits 1 (rc $rc)" [ "$rc" -eq 1 ]
check "divergence message names the step and the kept checkpoint" grep -q "diverged at step 15.*(step 10)" "$T/nan.err"
check "the step-10 checkpoint is intact" sh -c "\"$PB\" info \"$T/nan/model.safetensors\" --no-tensors | grep -q \"step 10\""
check "no train.json after divergence" [ ! -f "$T/nan/train.json" ]
# a first save cut short between its renames leaves the state only under its staged name: info finds it
mv "$T/nan/train_state.safetensors" "$T/nan/train_state.safetensors.next"
check "info names a state staged as .next" sh -c "\"$PB\" info \"$T/nan/model.safetensors\" --no-tensors | grep -q \"optimiser   AdamW step 10.*train_state.safetensors.next)\""

# --- the validation curve: a fixed slice of the valid split, scored at L every val_every steps ---
"$PB" train --method rotary --preset tiny --set "steps=20;val_every=10;val_tokens=4096;log_every=3" --out "$T/val" 2>/dev/null
check "train.csv has a val_loss column" grep -q ',tokens_per_s,val_loss$' "$T/val/train.csv"
vsteps=$(awk -F, 'NR > 1 && $10 != "" { printf "%s ", $4 }' "$T/val/train.csv")
check "val_loss measured at steps 10 and 20 only ($vsteps)" [ "$vsteps" = "10 20 " ]
check "a log row is added at each validation step" grep -q '^rotary,16,1,10,' "$T/val/train.csv"
vfinal=$(awk -F, 'NR > 1 && $4 == 20 { print $10 }' "$T/val/train.csv")
efinal=$("$PB" eval --ckpt "$T/val/model.safetensors" --lengths 16 --max-tokens 4096 --split valid 2>/dev/null | awk -F, 'NR == 2 { print $9 }')
check "final val_loss ($vfinal) equals eval's nll on the same 4096 tokens at L ($efinal)" \
    awk -v a="$vfinal" -v b="$efinal" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d < 2e-5) }'

# --- every preset file loads (shrunk to one step of a tiny model on the embedded corpus) ---
for p in harness/presets/*.conf; do
    p=$(basename "$p" .conf)
    "$PB" train --method alibi --preset "$p" --data default --train-len 16 --steps 1 \
        --set "n_layer=1;d_model=16;n_head=2;batch=2;batch_tokens=0;val_every=0" --out "$T/preset-$p" >/dev/null 2>"$T/preset.err"
    check "preset $p loads and trains ($(head -c 200 "$T/preset.err"))" [ -f "$T/preset-$p/train.json" ]
done

# --- batch_tokens: the same tokens per step at every training length ---
"$PB" train --method alibi --preset tiny --set "steps=2;log_every=1;batch_tokens=96" --train-len 32 --out "$T/bt" 2>/dev/null
check "batch_tokens = 96 at L = 32 trains 3 sequences (96 tokens) per step" grep -q '^alibi,32,1,1,96,' "$T/bt/train.csv"
"$PB" sweep --preset headline --no-plot --set "n_layer=1;d_model=16;n_head=2;steps=2;seeds=1;train_lens=16,32;eval_mults=1,2,4;batch_tokens=64;eval_tokens=256;val_every=0" --out "$T/hl" >/dev/null 2>"$T/hl.err"
check "headline-shaped sweep (batch from batch_tokens) trains every unit: $(grep -c failed "$T/hl.err") failed" \
    [ "$(awk -F, 'NR > 1 && $5 == "nonoverlapping"' "$T/hl/results.csv" | wc -l)" -eq 12 -a "$(grep -c failed "$T/hl.err")" -eq 0 ]
check "meta.json summarises training per method and L when a sweep has several L" \
    grep -Eq '^      "32": \{"tokens_per_s": [0-9.]+, "peak_rss_mb"' "$T/hl/meta.json"
"$PB" plot "$T/hl" >/dev/null 2>&1
check "report of a batch_tokens sweep states the tokens per step, not batch 0" \
    grep -q '2 steps × 64 tokens per step (batch 64 / L)' "$T/hl/report.md"
bad "batch 0 without batch_tokens" "batch_tokens" train --method alibi --preset tiny --set "batch=0" --out "$T/b0"
bad "batch_tokens not a multiple of L" "batch_tokens" sweep --preset tiny --set "batch_tokens=100" --out "$T/bt2"

# --- tiny sweep: the run folder of docs/FORMATS.md ---
"$PB" sweep --preset tiny --out "$T/run" >"$T/sweep.out" 2>"$T/sweep.err"
rc=$?
check "tiny sweep exits 0 (rc $rc; $(tail -n 2 "$T/sweep.err" | tr '\n' ' '))" [ "$rc" -eq 0 ]
for f in results.csv train.csv positions.csv meta.json config.conf; do
    check "run folder has $f" [ -s "$T/run/$f" ]
done
check "results.csv header" grep -qx 'method,train_len,seed,eval_len,mode,stride,split,tokens,nll,ppl,bpb,tokens_per_s,peak_rss_mb,arena_mb,status,reason' "$T/run/results.csv"
rows=$(($(wc -l <"$T/run/results.csv") - 1))
check "results.csv has 5 methods x 3 lengths x 2 modes = 30 rows ($rows)" [ "$rows" -eq 30 ]
for m in nope sinusoidal rotary t5 alibi; do
    check "results.csv has $m" grep -q "^$m," "$T/run/results.csv"
    check "checkpoint for $m" [ -f "$T/run/units/$m-L16-s1/model.safetensors" ]
done
# --- learned beyond L: n/a with the reason, in results.csv and the report, never a crash ---
"$PB" sweep --preset tiny --methods learned:,alibi --out "$T/bad_spec" >/dev/null 2>&1
check "an empty option list in a method spec is refused (exit 2)" [ $? -eq 2 ]
"$PB" sweep --preset tiny --methods learned,kerple_log:shared=1,fox --out "$T/ln" >/dev/null 2>"$T/ln.err"
check "tiny sweep with learned and a method spec exits 0 ($(tail -n 1 "$T/ln.err"))" [ -s "$T/ln/report.md" ]
check "learned at 2L: status n/a with the reason" \
    grep -q '^learned,16,1,32,nonoverlapping,32,valid,0,nan,nan,nan,,,,n/a,learned table has 16 rows$' "$T/ln/results.csv"
check "learned at L: status ok" grep -q '^learned,16,1,16,nonoverlapping,.*,ok,$' "$T/ln/results.csv"
check "report shows n/a (reason)" grep -q '| Learned | .* n/a (learned table has 16 rows) |' "$T/ln/report.md"
check "meta.json records the spec's options" grep -q '"kerple_log:shared=1": {"method": "kerple_log", "options": {"shared": 1}}' "$T/ln/meta.json"
check "report labels the spec with its options" grep -q '| KERPLE-log (shared=1) |' "$T/ln/report.md"
check "learned-bias section shows a spec with options" grep -q '^### KERPLE-log (shared=1), trained at L = 16 (seed 1)' "$T/ln/report.md"
check "learned-bias section shows FoX at input 0" grep -q '^### FoX, trained at L = 16 (seed 1.*attention input of zeros)' "$T/ln/report.md"
# --- per-layer compositions sweep, plot and report like any method; a bad one exits 2 first ---
bad "composition of the wrong length" "names 3 layers, but the model has n_layer = 2" sweep --preset tiny --set "n_layer=2" --methods alibi,layers=rotary+rotary+nope --out "$T/lay"
"$PB" sweep --preset tiny --set "n_layer=2" --methods alibi,layers=alibi+alibi,layers=rotary:pi=2+fox --out "$T/lay" >/dev/null 2>"$T/lay.err"
check "sweep with compositions exits 0 ($(tail -n 1 "$T/lay.err"))" [ -s "$T/lay/report.md" ]
check "report labels a repeated composition ALiBi×2" grep -q '^| ALiBi×2 |' "$T/lay/report.md"
check "report labels a mixed composition with options" grep -q '^| Rotary (pi=2)+FoX |' "$T/lay/report.md"
"$PB" sweep --preset tiny --set "n_layer=2" --methods layers=rotary+t5 --out "$T/lay2" >/dev/null 2>&1
check "report shows a composition's learned layer (layer 1, T5)" grep -q '^### Rotary+T5 bias, trained at L = 16 (seed 1; layer 1, T5 bias)' "$T/lay2/report.md"
check "composition rows in results.csv are ok" [ "$(grep -c '^layers=rotary:pi=2+fox,16,.*,ok,$' "$T/lay/results.csv")" -eq 6 ]
a1=$(grep '^alibi,16,1,64,nonoverlapping,' "$T/lay/results.csv" | cut -d, -f9)
a2=$(grep '^layers=alibi+alibi,16,1,64,nonoverlapping,' "$T/lay/results.csv" | cut -d, -f9)
check "layers=alibi+alibi has alibi's NLL exactly ($a1 = $a2)" [ -n "$a1" -a "$a1" = "$a2" ]
"$PB" eval --ckpt "$T/lay/units/layers=rotary:pi=2+fox-L16-s1/model.safetensors" --lengths 32 >"$T/lay_eval.out" 2>&1
check "a composition's checkpoint reloads for eval" [ $? -eq 0 ]
lay_ck="$T/lay/units/layers=rotary:pi=2+fox-L16-s1/model.safetensors"
bad "inspect of a composition without --ckpt points to its items" "inspect one layer's method by its own spec" \
    inspect layers=rotary+alibi --len 4
bad "inspect --ckpt of another composition" "was trained with 'layers=rotary:pi=2+fox'" \
    inspect layers=fox+fox --ckpt "$lay_ck" --len 4
"$PB" inspect layers=rotary:pi=2+fox --ckpt "$lay_ck" --layer 1 --len 8 >"$T/lay_bias.csv" 2>/dev/null
check "inspect layers=... --ckpt --layer 1 prints that layer's bias table" [ "$(wc -l <"$T/lay_bias.csv")" -gt 30 ]
fox_ck="$T/ln/units/fox-L16-s1/model.safetensors"
n=$("$PB" inspect --ckpt "$fox_ck" --hook params 2>/dev/null | grep -c '^0,pos.fox.b,')
check "inspect --hook params prints FoX's gate bias per head ($n rows)" [ "$n" -eq 2 ]
"$PB" inspect --ckpt "$fox_ck" --len 8 >"$T/fox_bias.csv" 2>/dev/null
check "inspect fox --ckpt prints a bias table" [ "$(wc -l <"$T/fox_bias.csv")" -gt 30 ]
check "every ppl finite" awk -F, 'NR > 1 && ($10 == "nan" || $10 == "" || $10 + 0 <= 1) { bad = 1 } END { exit bad }' "$T/run/results.csv"
check "meta.json records the dataset hash" grep -q '"hash": "[0-9a-f]\{16\}"' "$T/run/meta.json"
check "meta.json records BLAS and threads" grep -q '"blas_core"' "$T/run/meta.json"
# meta.json names the code that ran: the binary's own build commit, not the HEAD of whatever tree
# it runs beside (a home outside any git repository here, as for a copied binary)
built=$("$PB" --version | head -n 1 | sed -n 's/.*commit \([^)]*\)).*/\1/p')
mkdir -p "$T/home"; for d in harness plots methods datasets; do ln -s "$PWD/$d" "$T/home/$d"; done
POSBENCH_HOME="$T/home" "$PB" merge "$T/run" --no-plot >/dev/null 2>&1
check "meta.json's commit is the binary's build commit ($built)" grep -qF "\"commit\": \"$built\"" "$T/run/meta.json"
check "report has the convergence section" grep -q '^## Training budget and convergence' "$T/run/report.md"
check "train.csv of the sweep carries held-out losses" awk -F, 'NR > 1 && $10 != "" { n++ } END { exit !(n >= 10) }' "$T/run/train.csv"
check "report shows T5's learned biases" grep -q '^### T5 bias, trained at L = 16 (seed 1)' "$T/run/report.md"
want=$("$PB" inspect t5 --ckpt "$T/run/units/t5-L16-s1/model.safetensors" --len 64 2>/dev/null |
       awk -F, '$1 == 1 && $2 == 63 && $3 == 62 { printf "%.2f", $4 }')
got=$(awk -F'|' '/^### T5 bias, trained at L = 16/ { on = 1 } on && $2 == " 1 " { gsub(/ /, "", $4); print $4; exit }' "$T/run/report.md")
check "report's T5 bias (head 1, distance 1: $got) is inspect's ($want)" [ -n "$want" -a "$got" = "$want" ]
# a copy without the checkpoints (as results/ commits runs) keeps the table: it is rendered from learned_bias.csv
mkdir -p "$T/nounits" && (cd "$T/run" && tar cf - --exclude=units .) | (cd "$T/nounits" && tar xf -)
"$PB" plot "$T/nounits" >/dev/null 2>&1
got2=$(awk -F'|' '/^### T5 bias, trained at L = 16/ { on = 1 } on && $2 == " 1 " { gsub(/ /, "", $4); print $4; exit }' "$T/nounits/report.md")
check "re-plotted without units/, the report keeps T5's biases ($got2)" [ -n "$got2" -a "$got2" = "$got" ]
rm "$T/nounits/figures/data/learned_bias.csv" && "$PB" plot "$T/nounits" >/dev/null 2>&1
check "without checkpoints and learned_bias.csv the report says so" grep -q '^Not shown: this copy of the run has neither' "$T/nounits/report.md"
check "sweep printed the perplexity table" grep -q "nonoverlapping perplexity" "$T/sweep.out"
before=$(stat -c %Y "$T/run/units/alibi-L16-s1/model.safetensors")
"$PB" sweep --preset tiny --out "$T/run" >/dev/null 2>"$T/rerun.err"
after=$(stat -c %Y "$T/run/units/alibi-L16-s1/model.safetensors")
check "re-run sweep skips finished units" [ "$before" = "$after" ]
check "re-run sweep rebuilt the same results" [ "$(wc -l <"$T/run/results.csv")" -eq 31 ]
bad "re-run with a different config" "different configuration" sweep --preset tiny --set "steps=21" --out "$T/run"

# --- the tiny run's figures and report (every figure a valid PNG/PDF, every method named) ---
POSBENCH="$PB" bash tests/plot_test.sh "$T/run" >"$T/plot.out" 2>&1
check "plots of the tiny sweep ($(tail -n 1 "$T/plot.out"))" grep -q ' 0 failed' "$T/plot.out"

# --- eval on a plain text file, read as bytes and scored whole when asked (--split all) ---
cat datasets/default/*.txt | head -c 3000 >"$T/plain.txt"
"$PB" eval --ckpt "$T/run/units/alibi-L16-s1/model.safetensors" --lengths 16,64 --data "$T/plain.txt" --split all >"$T/plain.csv" 2>/dev/null
check "eval --split all on a plain file scores it whole" awk -F, 'NR > 1 && $7 == "all" && $8 == 2999 { n++ } END { exit n != 2 }' "$T/plain.csv"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
