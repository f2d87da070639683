/*
 * fuzz_grid.c -- the sweep's grid file parser (cli/sweep.c): every key,
 * value and shape of a grid file, expanded into points with their options.
 */
#include "cli/sweep.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct cli_sweep_defaults d = {.model = "m.json",
                                 .data = "data",
                                 .arch = MODEL_DEFAULT_PRESET,
                                 .frames = 0};
  struct cli_sweep *s = NULL;
  struct sm_err err;
  if (!cli_sweep_parse((const char *)data, size, "fuzz", &d, &s, &err)) {
    cli_sweep_set_frames(s, 3);
    cli_sweep_free(s);
  }
  return 0;
}
