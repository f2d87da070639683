/*
 * rng.c -- per-component random streams on the project generator
 * (util/rng.h: xoshiro256** seeded by splitmix64)
 * from (global seed, stream id).  Streams of different components are
 * decorrelated by mixing the stream id through splitmix64 before seeding,
 * so adding a component never shifts another component's numbers.
 */
#include "sim/sim.h"
#include "util/rng.h"

#include <math.h>
#include <pthread.h>

/* Exponential variates by the ziggurat method (Marsaglia and Tsang, 2000):
 * 256 layers; about 98.9% of draws cost one random word, one table lookup
 * and one multiply, and the rest fall back to an exact rejection step, so
 * the distribution is exact.  Tables are built once per process. */
static uint32_t zig_k[256];
static double zig_w[256], zig_f[256];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void) {
  const double m2 = 4294967296.0, ve = 3.949659822581572e-3;
  double de = 7.697117470131487, tde = de;
  double q = ve / exp(-de);
  zig_k[0] = (uint32_t)((de / q) * m2);
  zig_k[1] = 0;
  zig_w[0] = q / m2;
  zig_w[255] = de / m2;
  zig_f[0] = 1.0;
  zig_f[255] = exp(-de);
  for (int i = 254; i >= 1; i--) {
    de = -log(ve / de + exp(-de));
    zig_k[i + 1] = (uint32_t)((de / tde) * m2);
    tde = de;
    zig_f[i] = exp(-de);
    zig_w[i] = de / m2;
  }
}

void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t stream) {
  pthread_once(&zig_once, zig_init);
  uint64_t x = stream;
  uint64_t mix = sm_splitmix64(&x);
  sm_rng_seed(&r->g, seed ^ mix);
}

uint64_t sim_rng_next(struct sim_rng *r) {
  return sm_rng_next(&r->g);
}

double sim_rng_uniform(struct sim_rng *r) {
  return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n) {
  /* Lemire's multiply-shift with rejection: unbiased, one multiply. */
  unsigned __int128 m = (unsigned __int128)sim_rng_next(r) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t t = (0 - n) % n;
    while (lo < t) {
      m = (unsigned __int128)sim_rng_next(r) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double sim_rng_exp(struct sim_rng *r, double mean) {
  for (;;) {
    uint64_t u = sim_rng_next(r);
    uint32_t j = (uint32_t)(u >> 32);
    unsigned i = (unsigned)(u & 255);
    if (j < zig_k[i])
      return mean * (j * zig_w[i]);
    if (i == 0) /* the tail: 7.697... + Exp(1); 1 - u lies in (0, 1] */
      return mean * (7.697117470131487 - log(1.0 - sim_rng_uniform(r)));
    double x = j * zig_w[i];
    if (zig_f[i] + sim_rng_uniform(r) * (zig_f[i - 1] - zig_f[i]) < exp(-x))
      return mean * x;
  }
}

int sim_rng_bernoulli(struct sim_rng *r, double p) {
  return sim_rng_uniform(r) < p;
}
