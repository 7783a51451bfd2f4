/* checkpoint.h — model (and optionally training state) <-> safetensors file,
 * with the tensor names of SPEC §6 and the config in __metadata__.
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
} TrainState;

/* Write weights (+ AdamW m, v as "opt.m.<name>", "opt.v.<name>" and TrainState in
 * metadata when opt/ts are non-NULL) atomically. 0 or -1 with err. */
int checkpoint_save(const char *path, const Model *m, const AdamW *opt, const TrainState *ts,
                    char *err, size_t errlen);
/* Build m from the file's config and load its weights; when opt/ts are non-NULL
 * also load the optimiser state (error if absent). Every check of the loader
 * applies: expected tensors present, F32, right shapes, config in range. */
int checkpoint_load(const char *path, Model *m, AdamW *opt, TrainState *ts, char *err, size_t errlen);

#endif
