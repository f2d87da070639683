/*
 * eval.c -- a network scored on a data set: first-spike accuracy, the
 * readout's loss and per-layer silent / window-start fractions, and the
 * report of them.
 *
 * Below both users: the training stages (train.c) score the net as it
 * trains and during the scale search, the model side (export.c) scores an
 * exported model through a network built from it.  Neither calls the
 * other's evaluation, so the trainer's files depend one way:
 * train.c -> export.c -> eval.c -> net.c.
 */
#include "trainer/train-int.h"

#include <stdlib.h>
#include <string.h>

void train_net_eval_mode(struct train_net *n, const struct train_data *d,
                         double a_max, int mode, int linear,
                         struct train_eval *ev) {
  memset(ev, 0, sizeof *ev);
  int save_mode = n->mode, save_lin = n->linear_out;
  float save_beta = n->beta, save_pen = n->sw_penalty;
  float save_push = n->silent_push;
  n->sw_penalty = 0; /* the loss reported is the readout's alone */
  n->silent_push = 0;
  n->mode = mode;
  n->linear_out = linear;
  n->beta = 1.0f; /* always the network as it will spike (Eq. 7) */
  size_t B = 250;
  train_net_reserve(n, B);
  const uint8_t **imgs = sm_xmallocarray(B, sizeof *imgs);
  int *pred = sm_xmallocarray(B, sizeof *pred);
  memset(n->cnt_sil, 0, n->nl * sizeof *n->cnt_sil);
  memset(n->cnt_sat, 0, n->nl * sizeof *n->cnt_sat);
  size_t nin = (size_t)d->c * d->h * d->w, correct = 0;
  double loss = 0;
  for (size_t i = 0; i < d->n; i += B) {
    size_t b = SM_MIN(B, d->n - i);
    for (size_t k = 0; k < b; k++)
      imgs[k] = d->images + (i + k) * nin;
    train_net_load_input(n, imgs, b, a_max);
    train_net_forward(n, b);
    loss += train_net_loss(n, d->labels + i, b, 0) * (double)b;
    train_net_decide(n, b, pred);
    for (size_t k = 0; k < b; k++)
      correct += pred[k] == d->labels[i + k];
  }
  ev->accuracy = d->n ? (double)correct / (double)d->n : 0;
  ev->loss = d->n ? loss / (double)d->n : 0;
  size_t fired = 0, total = 0;
  for (size_t i = 0; i < n->nl && ev->nlayers < SM_ARRAY_LEN(ev->layer); i++) {
    const struct tlayer *L = &n->L[i];
    if (!L->spiking)
      continue;
    struct train_layer_stats *st = &ev->layer[ev->nlayers++];
    double cnt = (double)L->nout * (double)d->n;
    st->layer = (int)i;
    st->neurons = L->nout;
    st->silent = cnt ? (double)n->cnt_sil[i] / cnt : 0;
    st->saturated = cnt ? (double)n->cnt_sat[i] / cnt : 0;
    fired += L->nout * d->n - n->cnt_sil[i];
    total += L->nout * d->n;
  }
  ev->sparsity = total ? (double)fired / (double)total : 0;
  free(imgs);
  free(pred);
  n->mode = save_mode;
  n->linear_out = save_lin;
  n->beta = save_beta;
  n->sw_penalty = save_pen;
  n->silent_push = save_push;
}

void train_net_eval(struct train_net *n, const struct train_data *d,
                    double a_max, int readout, struct train_eval *ev) {
  train_net_eval_mode(n, d, a_max, TRAIN_MODE_SNN,
                      readout == TRAIN_READOUT_POTENTIAL, ev);
}

void train_print_eval(FILE *out, const char *what, const struct train_eval *ev) {
  fprintf(out,
          "%s: first-spike accuracy %.2f%%, loss %.4f, sparsity %.4f spikes "
          "per neuron\n",
          what, 100 * ev->accuracy, ev->loss, ev->sparsity);
  for (size_t i = 0; i < ev->nlayers; i++)
    fprintf(out,
            "  layer %d (%zu neurons): inactive %.1f%%, window start %.1f%%\n",
            ev->layer[i].layer, ev->layer[i].neurons,
            100 * ev->layer[i].silent, 100 * ev->layer[i].saturated);
}
