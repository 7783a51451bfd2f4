/* nope.c — no position information at all ("NoPE").
 *
 * Every hook is NULL: the causal mask alone tells a token how many tokens came
 * before it, and that is the only position signal the model gets
 * (Haviv et al., 2022; Kazemnejad et al., 2023). It is the floor every other
 * method should beat, and a useful control for extrapolation.
 */
#include "method.h"

const PosMethod pos_nope = {
    .name = "nope",
    .summary = "no position information; causal masking alone carries position",
    .label = "NoPE",
    .citation = "Kazemnejad et al. 2023",
    .family = POS_FAMILY_NONE,
};
