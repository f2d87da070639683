/*
 * testmodel.h -- a small conv+pool+dense model built in memory, shared by
 * the Check programs that simulate one (check_run, check_sweep).
 */
#ifndef SPIKEMESH_TESTMODEL_H
#define SPIKEMESH_TESTMODEL_H

#include <stdint.h>

#include "models/model.h"

/* 1x8x8 -> conv 4C3 (6x6) + pool 2 (3x3) -> flatten 36 -> dense 12 -> 5,
 * random 4-bit weights (from seed) with a positive bias so that neurons
 * fire.  Free with model_free(). */
struct model *test_small_model(uint64_t seed);

#endif
