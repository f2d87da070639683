/*
 * export.c -- between the trainer's network and the model file: export
 * (quantize with each layer's own scale, q in the b-bit two's complement
 * range), import (w = q * scale exactly as stored) and the reference
 * inference the simulator's tests compare against neuron by neuron.
 *
 * The reference inference runs the very forward code used in training
 * (net.c, batch of one), so "what was trained" and "what the reference
 * says" cannot drift apart.
 */
#include "trainer/train-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct model *train_net_to_model(struct train_net *n, const char *arch,
                                 int bits, double a_max, int readout) {
  struct model *m = sm_xcalloc(1, sizeof *m);
  snprintf(m->arch, sizeof m->arch, "%s", arch ? arch : "");
  snprintf(m->readout, sizeof m->readout, "%s",
           readout == TRAIN_READOUT_POTENTIAL ? "potential" : "time");
  m->in_c = n->in_c;
  m->in_h = n->in_h;
  m->in_w = n->in_w;
  m->a_max = a_max;
  m->tw = n->tw;
  m->nlayers = n->nl;
  m->layers = sm_xcalloc(n->nl, sizeof *m->layers);
  m->metadata = json_object();
  if (bits)
    train_net_quantize(n, bits, 1); /* keep the scale QAT trained with */
  for (size_t i = 0; i < n->nl; i++) {
    const struct tlayer *L = &n->L[i];
    struct model_layer *ml = &m->layers[i];
    ml->type = L->type;
    ml->in_c = L->in_c;
    ml->in_h = L->in_h;
    ml->in_w = L->in_w;
    ml->out_c = L->out_c;
    ml->out_h = L->out_h;
    ml->out_w = L->out_w;
    ml->kernel = L->k;
    ml->stride = L->type == MODEL_CONV ? 1 : L->k;
    ml->pad = L->pad;
    ml->nweights = L->nw;
    if (!L->nw)
      continue;
    ml->bits = bits;
    ml->w = sm_xmallocarray(L->nw, sizeof(float));
    if (bits) {
      int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
      ml->scale = L->scale;
      ml->q = sm_xmalloc(L->nw);
      for (size_t j = 0; j < L->nw; j++) {
        float q = rintf(L->w[j] / L->scale);
        q = q < (float)qmin ? (float)qmin : q > (float)qmax ? (float)qmax : q;
        ml->q[j] = (int8_t)q;
        ml->w[j] = (float)ml->q[j] * ml->scale;
      }
    } else {
      ml->scale = 1.0f;
      memcpy(ml->w, L->w, L->nw * sizeof(float));
    }
  }
  return m;
}

int train_model_forward(const struct model *m, const uint8_t *image,
                        float *const *layer_x, int *pred, struct sm_err *err) {
  if (!m || !m->nlayers)
    return sm_fail(err, SM_EINVAL, "reference inference: empty model");
  struct train_net *n = train_net_from_model(m);
  n->mode = TRAIN_MODE_SNN;
  train_net_reserve(n, 1);
  const uint8_t *imgs[1] = {image};
  train_net_load_input(n, imgs, 1, m->a_max);
  train_net_forward(n, 1);
  size_t s = 0;
  for (size_t i = 0; i < n->nl; i++) {
    const struct tlayer *L = &n->L[i];
    if (!L->spiking)
      continue;
    if (layer_x && layer_x[s])
      memcpy(layer_x[s], L->xm, L->nout * sizeof(float));
    s++;
  }
  int p;
  train_net_decide(n, 1, &p);
  if (pred)
    *pred = p;
  train_net_free(n);
  return 0;
}

int train_eval_model(const struct model *m, const struct train_data *test,
                     struct train_eval *ev, struct sm_err *err) {
  if (test->c != m->in_c || test->h != m->in_h || test->w != m->in_w)
    return sm_fail(err, SM_EINVAL,
                   "model input is %dx%dx%d but the data's images are "
                   "%dx%dx%d",
                   m->in_c, m->in_h, m->in_w, test->c, test->h, test->w);
  if ((size_t)test->nclasses > model_layer_neurons(&m->layers[m->nlayers - 1]))
    return sm_fail(err, SM_EINVAL,
                   "the data has %d classes but the model only %zu outputs",
                   test->nclasses,
                   model_layer_neurons(&m->layers[m->nlayers - 1]));
  struct train_net *n = train_net_from_model(m);
  train_net_eval(n, test, m->a_max,
                 strcmp(m->readout, "potential") ? TRAIN_READOUT_TIME
                                                 : TRAIN_READOUT_POTENTIAL,
                 ev);
  train_net_free(n);
  return 0;
}

int train_eval_file(const char *path, const struct train_conf *c,
                    struct train_eval_file *out, struct sm_err *err) {
  memset(out, 0, sizeof *out);
  int e = model_load(path, &out->m, err);
  if (e)
    return e;
  struct train_data te;
  if ((e = train_data_load_dir(c->data, 1, &te, err))) {
    train_eval_file_free(out);
    return e;
  }
  const struct model *m = out->m;
  out->ntest = te.n;
  train_set_threads((int)c->threads);
  e = train_eval_model(m, &te, &out->ev, err);
  out->bits = e ? 0 : m->layers[m->nlayers - 1].bits;
  if (!e && !out->bits && c->bits) {
    struct train_net *n = train_net_from_model(m);
    struct model *q = train_net_to_model(
        n, m->arch, (int)c->bits, m->a_max,
        strcmp(m->readout, "potential") ? TRAIN_READOUT_TIME
                                        : TRAIN_READOUT_POTENTIAL);
    train_net_free(n);
    /* a failure here leaves the quantized figures out, not the report */
    struct sm_err qerr = {0};
    out->have_quant = !train_eval_model(q, &te, &out->quant, &qerr);
    model_free(q);
  }
  train_data_free(&te);
  if (e)
    train_eval_file_free(out);
  return e;
}

void train_eval_file_free(struct train_eval_file *f) {
  if (!f)
    return;
  model_free(f->m);
  f->m = NULL;
}
