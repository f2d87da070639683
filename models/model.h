/*
 * model.h -- the network model file: what the trainer writes and the
 * simulator maps onto cores.  Format: doc/model-format.md.
 *
 * A model is a feed-forward stack of layers.  Dense and conv layers are
 * spiking layers: each owns one time window (the input layer is window 0,
 * the first spiking layer window 1, ...).  Pool layers are max pooling on
 * activations, i.e. min pooling on spike times (the earliest spike wins),
 * and are fused into the spiking layer before them: they own no window.
 * Flatten only reinterprets the shape.
 *
 * Weights are always available as floats (w); quantized models also keep
 * the integers (q, with w = q * scale) so that cores can do integer
 * arithmetic on exactly what was trained.
 */
#ifndef SPIKEMESH_MODEL_H
#define SPIKEMESH_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define MODEL_FORMAT_NAME "spikemesh-model"
#define MODEL_FORMAT_VERSION 1

enum model_layer_type {
  MODEL_DENSE,
  MODEL_CONV,
  MODEL_POOL,
  MODEL_FLATTEN
};

/* Neurons of one layer (out_c x out_h x out_w, computed in 64 bits) and
 * values of the input, at most: every size derived from a model's numbers
 * stays far inside int and size_t arithmetic.  The loader and the
 * trainer's architecture strings refuse more (SM_ELIMIT). */
#define MODEL_MAX_NEURONS ((uint64_t)1 << 28)
/* Largest model file model_load() reads (a larger one is SM_ELIMIT): room
 * for about 190 million float32 weights or 1.5 billion int4 weights. */
#define MODEL_MAX_FILE_BYTES ((size_t)1 << 30)

struct model_layer {
  enum model_layer_type type;
  int in_c, in_h, in_w;    /* input shape: channels, rows, columns */
  int out_c, out_h, out_w; /* output shape (dense: out_c neurons, h = w = 1) */
  int kernel;              /* conv: kernel side; pool: window side */
  int stride;              /* conv: 1; pool: = kernel */
  int pad;                 /* conv: 0 ("valid") or kernel/2 ("same") */
  int bits;                /* weight bits, 2..8; 0 = float weights */
  float scale;             /* w = q * scale when bits > 0 */
  size_t nweights;         /* dense: out_c*in_c*in_h*in_w; conv: out_c*in_c*k*k */
  float *w;                /* [nweights]: dense W[out][in], conv W[oc][ic][ky][kx] */
  int8_t *q;               /* [nweights] when bits > 0, else NULL */
};

struct model {
  char name[128];
  char arch[256];     /* compact architecture string, e.g. "784-800-10" */
  char readout[16];   /* "time" (Eq. 8) or "potential": what it was trained on */
  int in_c, in_h, in_w; /* input shape */
  double a_max;       /* input encoding, Eq. 1: t = (1 - a/a_max) * Tw */
  double tw;          /* window length used in training (1.0) */
  size_t nlayers;
  struct model_layer *layers;
  json_t *metadata;   /* free-form object: command, dataset, accuracies ... */
};

/* Load and validate a model file.  Errors name the file, the layer index,
 * the field and what was expected (wrong version, shapes that do not chain,
 * truncated or corrupt weights). */
int model_load(const char *path, struct model **out, struct sm_err *err);
/* Parse from memory (the loader's core; used by fuzzing). */
int model_parse(const char *text, size_t len, const char *source,
                struct model **out, struct sm_err *err);
int model_save(const struct model *m, const char *path, struct sm_err *err);
void model_free(struct model *m); /* NULL-safe */

/* Number of spiking (dense or conv) layers = number of windows after the
 * input's. */
size_t model_spiking_layers(const struct model *m);
/* Neurons a layer produces (out_c*out_h*out_w). */
size_t model_layer_neurons(const struct model_layer *l);
/* "dense", "conv", "pool" or "flatten". */
const char *model_layer_type_name(enum model_layer_type t);
/* The file's JSON (new reference), or NULL with err set (path names the
 * destination in messages). */
json_t *model_to_json(const struct model *m, const char *path,
                      struct sm_err *err);

#endif /* SPIKEMESH_MODEL_H */
