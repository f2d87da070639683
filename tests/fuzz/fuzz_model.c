/*
 * fuzz_model.c -- the model file loader.
 */
#include "models/model.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct model *m = NULL;
  struct sm_err err;
  if (model_parse((const char *)data, size, "fuzz", &m, &err) == 0)
    model_free(m);
  return 0;
}
