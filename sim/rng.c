/*
 * rng.c -- per-component random streams: xoshiro256** seeded by splitmix64
 * from (global seed, stream id).  Streams of different components are
 * decorrelated by mixing the stream id through splitmix64 before seeding,
 * so adding a component never shifts another component's numbers.
 */
#include "sim/sim.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = stream;
  uint64_t mix = splitmix64(&x);
  x = seed ^ mix;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
    r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
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
  /* 1 - u lies in (0, 1], so log never sees 0. */
  return -mean * log(1.0 - sim_rng_uniform(r));
}

int sim_rng_bernoulli(struct sim_rng *r, double p) {
  return sim_rng_uniform(r) < p;
}
