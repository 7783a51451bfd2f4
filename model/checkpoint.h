/* checkpoint.h — model (and optionally training state) <-> safetensors file,
 * with the tensor names of docs/FORMATS.md and the config in __metadata__.
 */
#ifndef POSBENCH_CHECKPOINT_H
#define POSBENCH_CHECKPOINT_H
#include "model.h"
#include "safetensors.h"

/* Extra training state saved beside the weights for --resume. */
typedef struct TrainState {
    long step;
    uint64_t data_rng;        /* the batch generator's state */
    char extra_json[2048];    /* free-form JSON object of the run's config ("{}" if none) */
    char state_file[4400];    /* set by checkpoint_load with opt: the file the optimiser state came from */
} TrainState;

/* Write the model to path (format posbench-2: config, and with ts its step and run config, in
 * __metadata__; the weights; a checksum). With opt, the training state goes to
 * checkpoint_state_path(path) (AdamW m, v as "opt.m.<name>", "opt.v.<name>", the AdamW scalars,
 * step and data_rng, and the model file's checksum): both files are written under temporary
 * names, then committed in three renames (the state to its staged name "<state>.next", the model
 * into place, the state into place), so a kill at any moment leaves a pair the loader can use.
 * 0 or -1 with err. */
int checkpoint_save(const char *path, const Model *m, const AdamW *opt, const TrainState *ts,
                    char *err, size_t errlen);
/* Build m from the file's config and load its weights; when opt is non-NULL also the optimiser
 * state (from the state file, which must name this model file's checksum and step, or else from the
 * staged "<state>.next" of a save cut short when that one does; or, in an older posbench-1 file,
 * from the model file itself), error if absent; ts gets step and run config (and data_rng and
 * state_file when opt is loaded). Every check of the loader applies: expected tensors present,
 * F32, right shapes, config in range, checksum, every value finite (v >= 0). */
int checkpoint_load(const char *path, Model *m, AdamW *opt, TrainState *ts, char *err, size_t errlen);
/* The training-state file beside a model file: DIR/train_state.safetensors for DIR/model.safetensors,
 * else X.train_state.safetensors for X.safetensors. */
void checkpoint_state_path(const char *model_path, char *out, size_t n);
/* 1 when a training-state file lies beside the model file: in place, or staged as "<state>.next". */
int checkpoint_state_present(const char *model_path);

#endif
