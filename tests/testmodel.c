/*
 * testmodel.c -- see testmodel.h.
 */
#include "tests/testmodel.h"

#include <stdio.h>
#include <stdlib.h>

#include "sim/sim.h"

struct model *test_small_model(uint64_t seed) {
  struct sim_rng r;
  sim_rng_init(&r, seed, 0);
  struct model *m = calloc(1, sizeof *m);
  snprintf(m->name, sizeof m->name, "small");
  snprintf(m->arch, sizeof m->arch, "8x8-4C3-P2-12-5");
  snprintf(m->readout, sizeof m->readout, "time");
  m->in_c = 1;
  m->in_h = m->in_w = 8;
  m->a_max = 255;
  m->tw = 1;
  m->nlayers = 5;
  m->layers = calloc(5, sizeof *m->layers);
  struct model_layer *L = m->layers;
  L[0] = (struct model_layer){.type = MODEL_CONV, .in_c = 1, .in_h = 8, .in_w = 8,
                              .out_c = 4, .out_h = 6, .out_w = 6, .kernel = 3,
                              .stride = 1, .pad = 0, .bits = 4, .scale = 0.09f};
  L[1] = (struct model_layer){.type = MODEL_POOL, .in_c = 4, .in_h = 6, .in_w = 6,
                              .out_c = 4, .out_h = 3, .out_w = 3, .kernel = 2,
                              .stride = 2};
  L[2] = (struct model_layer){.type = MODEL_FLATTEN, .in_c = 4, .in_h = 3,
                              .in_w = 3, .out_c = 36, .out_h = 1, .out_w = 1};
  L[3] = (struct model_layer){.type = MODEL_DENSE, .in_c = 36, .in_h = 1,
                              .in_w = 1, .out_c = 12, .out_h = 1, .out_w = 1,
                              .bits = 4, .scale = 0.06f};
  L[4] = (struct model_layer){.type = MODEL_DENSE, .in_c = 12, .in_h = 1,
                              .in_w = 1, .out_c = 5, .out_h = 1, .out_w = 1,
                              .bits = 4, .scale = 0.11f};
  L[0].nweights = 4 * 9;
  L[3].nweights = 12 * 36;
  L[4].nweights = 5 * 12;
  for (int i = 0; i < 5; i++) {
    if (!L[i].nweights)
      continue;
    L[i].q = malloc(L[i].nweights);
    L[i].w = malloc(L[i].nweights * sizeof(float));
    for (size_t j = 0; j < L[i].nweights; j++) {
      int q = (int)sim_rng_below(&r, 16) - 8 + 2;
      if (q > 7)
        q = 7;
      L[i].q[j] = (int8_t)q;
      L[i].w[j] = (float)q * L[i].scale;
    }
  }
  return m;
}
