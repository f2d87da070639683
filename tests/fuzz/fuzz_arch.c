/*
 * fuzz_arch.c -- the trainer's architecture strings (train_arch_parse):
 * "784-800-10", "28x28-16C5-P2-32C5-P2-800-128-10", "3x32x32-8C3s-F-10".
 * The input is the string (cut at its first NUL byte), parsed twice: with
 * the string's own input shape and against 1x28x28 images (the shipped
 * data set).  An architecture that parses must hold together: every shape
 * positive, each layer's input the previous layer's output, the weight
 * counts those of the shapes, an output layer of two neurons or more.  A
 * violation aborts (the fuzzer reports it).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "trainer/train.h"

static void check(const struct train_arch *a) {
  if (a->nlayers < 1 || a->nlayers > SM_ARRAY_LEN(a->layers) ||
      a->in_c < 1 || a->in_h < 1 || a->in_w < 1)
    abort();
  long long c = a->in_c, h = a->in_h, w = a->in_w;
  for (size_t i = 0; i < a->nlayers; i++) {
    const struct model_layer *L = &a->layers[i];
    if (L->in_c != c || L->in_h != h || L->in_w != w)
      abort();
    if (L->out_c < 1 || L->out_h < 1 || L->out_w < 1)
      abort();
    unsigned long long nw = 0;
    switch (L->type) {
    case MODEL_DENSE:
      if (L->out_h != 1 || L->out_w != 1)
        abort();
      nw = (unsigned long long)L->out_c * (unsigned long long)(c * h * w);
      break;
    case MODEL_CONV:
      if (L->kernel < 1 || L->stride != 1)
        abort();
      nw = (unsigned long long)L->out_c * (unsigned long long)c *
           (unsigned long long)L->kernel * (unsigned long long)L->kernel;
      break;
    case MODEL_POOL:
      if (L->kernel < 1 || L->out_c != c ||
          (long long)L->out_h * L->kernel != h ||
          (long long)L->out_w * L->kernel != w)
        abort();
      break;
    case MODEL_FLATTEN:
      if ((long long)L->out_c != c * h * w || L->out_h != 1 || L->out_w != 1)
        abort();
      break;
    default:
      abort();
    }
    if (L->nweights != nw || L->w || L->q)
      abort();
    c = L->out_c;
    h = L->out_h;
    w = L->out_w;
  }
  const struct model_layer *last = &a->layers[a->nlayers - 1];
  if ((last->type != MODEL_DENSE && last->type != MODEL_CONV) ||
      model_layer_neurons(last) < 2)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = 0;
  struct train_arch a;
  struct sm_err err;
  if (train_arch_parse(s, 0, 0, 0, &a, &err) == 0)
    check(&a);
  if (train_arch_parse(s, 1, 28, 28, &a, &err) == 0) {
    check(&a);
    if ((long long)a.in_c * a.in_h * a.in_w != 28 * 28)
      abort();
  }
  free(s);
  return 0;
}
