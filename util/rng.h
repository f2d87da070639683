/*
 * rng.h -- the one pseudo-random generator of the project: xoshiro256**
 * with its state filled by splitmix64.  The kernel's per-component streams
 * (sim_rng_*) and the trainer's stream (which must not depend on the
 * simulator) are both built on it.
 */
#ifndef SPIKEMESH_RNG_H
#define SPIKEMESH_RNG_H

#include <stdint.h>

struct sm_rng {
  uint64_t s[4];
};

/* One splitmix64 step: advances *x and returns a well-mixed word. */
uint64_t sm_splitmix64(uint64_t *x);
/* Fill the state from splitmix64 starting at x (never all zero). */
void sm_rng_seed(struct sm_rng *r, uint64_t x);
uint64_t sm_rng_next(struct sm_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double sm_rng_uniform(struct sm_rng *r);

#endif /* SPIKEMESH_RNG_H */
