/*
 * fuzz_grid.c -- the sweep's grid file parser (cli/sweep.c): every key,
 * value and shape of a grid file, expanded into points with their options.
 */
#include "run/run.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct run_sweep_defaults d = {.model = "m.json",
                                 .data = "data",
                                 .arch = MODEL_DEFAULT_PRESET,
                                 .frames = 0};
  struct run_sweep *s = NULL;
  struct sm_err err;
  if (!run_sweep_parse((const char *)data, size, "fuzz", &d, &s, &err)) {
    run_sweep_set_frames(s, 3);
    run_sweep_free(s);
  }
  return 0;
}
