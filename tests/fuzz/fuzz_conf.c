/*
 * fuzz_conf.c -- the JSON configuration and preset loader, over every
 * option table the program registers.
 */
#include <jansson.h>

#include "run/run.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err;
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return 0;
  json_error_t je;
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
  if (j) {
    sm_conf_load_json(&c, j, "fuzz", &err);
    json_t *back = sm_conf_to_json(&c);
    json_decref(back);
    json_decref(j);
  }
  return 0;
}
