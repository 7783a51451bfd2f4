/* run_common.h — pieces shared by train, eval and sweep: resolving a run's
 * configuration from --preset/--config/--set, opening its dataset with a
 * user-facing error, and the run identity stored in checkpoints.
 */
#ifndef POSBENCH_RUN_COMMON_H
#define POSBENCH_RUN_COMMON_H
#include "../datasets/data.h"
#include "../model/checkpoint.h"
#include "cli.h"
#include "config.h"

/* Preset, then --config FILE, then --set "k=v;k=v" (NULLs skipped). */
void run_config_resolve(RunConfig *c, const char *preset, const char *config_file, const char *sets);
/* data_open with the config's tokenizer; exit 2 (bad input) or 1 (internal) with its message. */
void run_open_data(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, const char *flag);

/* Lock the run folder dir for this process (flock on dir/.posbench.lock, holding this pid; released
 * at exit). Another holder: exit 2 naming the folder and its pid. Then remove dir's temporary files
 * ("*.tmp.PID") left by processes that have died. */
void run_lock_folder(const char *dir, const char *flag);
/* flock(LOCK_EX | LOCK_NB) on the file path (created), which then holds this pid: the open
 * descriptor (the lock lasts until it is closed), -1 when another process holds it (its pid, or
 * "unknown", into holder), -2 when the file cannot be opened (errno says why). */
int run_try_lock(const char *path, char *holder, size_t n);
/* Wait up to `seconds` (polling every 50 ms) for dir's run-folder lock to be free, then let it go:
 * 0 when it was free, -1 when still held. For a caller that already owns the folder above dir, so
 * that the holder can only be a child of a killed run that is still exiting (SIGKILL from
 * PR_SET_PDEATHSIG ends it asynchronously: its lock goes only once its memory is torn down). */
int run_wait_lock_free(const char *dir, double seconds);

/* The split `name` of ds (opened from spec) to score, or exit 2 saying plainly why there is none:
 * an empty split of a folder with too few documents is named as such, not blamed on --lengths. */
const DataSplit *run_eval_split(const Dataset *ds, const char *spec, const char *name, const char *flag);
/* How ds was split, as one JSON object for meta.json: the rule, and for a single text file the byte
 * range of each part. */
void run_split_rule_json(const Dataset *ds, const char *spec, FILE *f);

/* Exit 2 when path (a run folder or output file given with flag) leaves less than `reserve`
 * characters below PATH_MAX for the names written inside it. */
void run_check_out_path(const char *path, const char *flag, size_t reserve);
/* An output file named by flag: not a folder, its folder present, its name within PATH_MAX (exit 2
 * otherwise), checked before any work. */
void run_check_out_file(const char *path, const char *flag);
/* The run folder dir remembers the hash of the data its units were trained on (data_hash.txt);
 * a later run whose data differs exits 2 naming both hashes. */
void run_check_data_hash(const char *dir, const Dataset *ds, const char *spec);

/* What a checkpoint says about the run that made it (TrainState.extra_json). */
typedef struct RunIdentity {
    int seed;
    char data[1024];
    char tokenizer[8];
    int bpe_vocab;
    char dataset_hash[32];
} RunIdentity;
void run_identity_json(const RunIdentity *id, const RunConfig *c, char *out, size_t n);
/* Parse; missing fields get defaults (seed 0, data "default", byte). */
void run_identity_parse(RunIdentity *id, const char *json);

/* Exit 2 unless the checkpoint at ckpt (its run identity JSON stored) was made by the same run as
 * the command's: seed, data (hash), tokenizer and every key of the training schedule. */
void run_check_resume(const char *ckpt, const char *stored_json, const RunIdentity *now, const RunConfig *c, long L);

/* Train one unit into dir (train.c). Exits on bad input; returns 0. */
int train_run(const RunConfig *cfg, const char *method, long L, int seed, const char *dir, int resume);

#endif
