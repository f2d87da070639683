/*
 * rng.c -- xoshiro256** (Blackman and Vigna) seeded by splitmix64.
 */
#include "util/rng.h"

uint64_t sm_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void sm_rng_seed(struct sm_rng *r, uint64_t x) {
  for (int i = 0; i < 4; i++)
    r->s[i] = sm_splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
    r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t sm_rng_next(struct sm_rng *r) {
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

double sm_rng_uniform(struct sm_rng *r) {
  return (double)(sm_rng_next(r) >> 11) * 0x1.0p-53;
}
