/*
 * fuzz_kv.c -- key=value overrides: each input line is one assignment.
 */
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err;
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return 0;
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save))
    sm_conf_set(&c, line, "fuzz", &err);
  free(text);
  return 0;
}
