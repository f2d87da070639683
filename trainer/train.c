/*
 * train.c -- the training pipeline: options, ANN pretraining, SNN training
 * with the DFT neuron, quantization-aware fine-tuning, evaluation, export.
 *
 * Stages (each optional by its epoch count):
 *   1. ANN: the same layers with clamp(0, 1) neurons, cross-entropy on the
 *      output Swx, Kaiming-normal start.  From random weights the SNN
 *      alone leaves most hidden neurons silent or firing at the window
 *      start (both pass no gradient) and plateaus early; starting from the
 *      ANN's weights avoids that (doc/trainer.md has the measurements).
 *   2. SNN: Eq. 7 forward, Eqs. 9-10 backward, loss on the chosen readout.
 *      Optionally (train.ramp_epochs) the neuron's Sw term is blended in
 *      from 0 to 1 over the first epochs: Eq. 7 applied at once costs the
 *      CNN 30 points at the handover (its convolutions sum weights over
 *      hundreds of weakly firing inputs) and the SNN then settles about a
 *      point lower than after the ramp.  Optionally (train.sw_penalty) the
 *      loss gains the mean Sw^2; it did not help after an ANN stage and is
 *      what lets a ramp from random weights train at all.  Optionally
 *      (train.silent_push) the loss gains a term that raises the weights
 *      reaching silent neurons, which Eqs. 9-10 never revive (+0.35 point
 *      on the CNN).
 *      Rejected: rescaling each layer at the handover (the ANN uses its
 *      clamp at 1, so rescales break the ANN first) and a gradient through
 *      silent neurons (diverged); doc/trainer.md has the figures.
 *   3. QAT: as 2, the forward with b-bit weights, the update applied to the
 *      float weights (straight-through estimator).  The per-layer scale is
 *      the least squared error one, refreshed every 32 steps, or fixed at
 *      the stage start, or searched there on the loss of a calibration
 *      set (train.qat_scale); train.qat_freeze keeps leading layers fixed
 *      (the CNN's conv1 swings the whole network when re-quantized).
 * Training images may be shifted and mirrored (train.shift, train.flip).
 * Every stage uses Adam with milestone decay (lr x gamma at each listed
 * fraction of the stage).  Shuffling comes from the trainer's own RNG, so
 * a run is deterministic for a given seed and BLAS thread count.
 */
#include "trainer/train-int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct sm_opt train_conf_opts[] = {
    SM_OPT_S(struct train_conf, arch, "train.arch", "784-800-10",
             "architecture, e.g. 784-800-10 or 28x28-16C5-P2-32C5-P2-800-128-10"),
    SM_OPT_S(struct train_conf, data, "train.data", TRAIN_DEFAULT_DATA,
             "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"),
    SM_OPT_S(struct train_conf, out, "train.out", "model.json",
             "exported model file"),
    SM_OPT_S(struct train_conf, checkpoint, "train.checkpoint", "",
             "float model written after every epoch (empty: none)"),
    SM_OPT_S(struct train_conf, init, "train.init", "",
             "start from this model file instead of the ANN stage"),
    SM_OPT_S(struct train_conf, name, "train.name", "", "model name"),
    SM_OPT_S(struct train_conf, milestones, "train.milestones", "0.5,0.75",
             "fractions of each stage where lr is multiplied by gamma"),
    SM_OPT_U(struct train_conf, ann_epochs, "train.ann_epochs", "20", "epochs",
             0, 10000, "ANN pretraining epochs (clamp(0,1) neurons)"),
    SM_OPT_U(struct train_conf, epochs, "train.epochs", "6", "epochs", 0,
             10000, "SNN training epochs (DFT neurons)"),
    SM_OPT_U(struct train_conf, qat_epochs, "train.qat_epochs", "2", "epochs",
             0, 10000, "quantization-aware fine-tuning epochs"),
    SM_OPT_U(struct train_conf, batch, "train.batch", "128", "samples", 1,
             65536, "samples per step"),
    SM_OPT_D(struct train_conf, ann_lr, "train.ann_lr", "1e-3", "", 0, 10,
             "Adam step size, ANN stage"),
    SM_OPT_D(struct train_conf, lr, "train.lr", "1e-4", "", 0, 10,
             "Adam step size, SNN stage"),
    SM_OPT_D(struct train_conf, qat_lr, "train.qat_lr", "5e-5", "", 0, 10,
             "Adam step size, QAT stage"),
    SM_OPT_D(struct train_conf, gamma, "train.gamma", "0.1", "", 0, 1,
             "lr factor at each milestone"),
    SM_OPT_D(struct train_conf, weight_decay, "train.weight_decay", "0", "", 0,
             1, "decoupled weight decay (AdamW) per unit lr"),
    SM_OPT_U(struct train_conf, bits, "train.bits", "4", "bits", 0, 8,
             "weight bits of the export, 2..8 (0: float32, no QAT)"),
    SM_OPT_E(struct train_conf, readout, "train.readout", "time",
             TRAIN_READOUT_CHOICES,
             "loss on the output x (= -t, Eq. 8) or on its Swx at window start"),
    SM_OPT_D(struct train_conf, tw, "train.tw", "1", "windows", 1e-3, 1e3,
             "time window length Tw"),
    SM_OPT_D(struct train_conf, logit_scale, "train.logit_scale", "8", "", 1e-3,
             1e3, "SNN stages: cross-entropy on k * logits (1: Eq. 8 as is)"),
    SM_OPT_D(struct train_conf, ramp_epochs, "train.ramp_epochs", "0",
             "epochs", 0, 10000,
             "SNN stage: the neuron's Sw term is weighted by a factor rising "
             "linearly from 0 (the ANN) to 1 (Eq. 7) over this many epochs "
             "(0: Eq. 7 from the start)"),
    SM_OPT_D(struct train_conf, sw_penalty, "train.sw_penalty", "0", "", 0,
             1e6,
             "SNN stages: add (this/2) x the mean Sw^2 of each spiking "
             "layer to the loss (Sw = sum of the weights of the inputs that "
             "fired; 0: off)"),
    SM_OPT_D(struct train_conf, silent_push, "train.silent_push", "0", "", 0,
             1e6,
             "SNN stages: add this x the mean over silent neurons (zero for "
             "the others) of -(Swx + Tw*Sw) of each spiking layer to the "
             "loss: pushes the weights of the inputs that reached a silent "
             "neuron up (0: off)"),
    SM_OPT_E(struct train_conf, qat_scale, "train.qat_scale", "refresh",
             TRAIN_QSCALE_CHOICES,
             "QAT: each layer's scale minimises the squared quantization "
             "error, refreshed every 32 steps (refresh) or chosen once at the "
             "stage start (fixed), or is chosen once, layer by layer, as the "
             "clipping ratio with the least loss on train.calib training "
             "images (search)"),
    SM_OPT_U(struct train_conf, qat_freeze, "train.qat_freeze", "0", "layers",
             0, 1000,
             "QAT: the first this many layers with weights keep the weights "
             "they entered the stage with (their quantized values stay "
             "fixed while the later layers adapt to them)"),
    SM_OPT_U(struct train_conf, calib, "train.calib", "2000", "samples", 1,
             1e9, "training images scored per candidate scale by "
             "train.qat_scale=search"),
    SM_OPT_U(struct train_conf, shift, "train.shift", "0", "pixels", 0, 8,
             "augmentation, every stage: each training image is shifted by "
             "a random whole number of pixels in [-this, this] on each axis, "
             "zero fill (0: off; evaluation never augments)"),
    SM_OPT_B(struct train_conf, flip, "train.flip", "false",
             "augmentation, every stage: each training image is mirrored "
             "left-right with probability 1/2"),
    SM_OPT_U(struct train_conf, seed, "train.seed", "1", "", 0,
             1.8446744073709552e19, "RNG seed (init and shuffling)"),
    SM_OPT_U(struct train_conf, threads, "train.threads", "2", "threads", 1,
             256, "BLAS threads"),
    SM_OPT_U(struct train_conf, limit, "train.limit", "0", "samples", 0,
             1e9, "train on the first N samples only (0: all)"),
    SM_OPT_B(struct train_conf, quiet, "train.quiet", "false",
             "no per-epoch progress"),
};
const size_t train_conf_nopts = SM_ARRAY_LEN(train_conf_opts);

/* ---- the training loop ---------------------------------------------------- */

static train_progress_fn progress_fn;
static void *progress_ctx;

void train_set_progress(train_progress_fn fn, void *ctx) {
  progress_fn = fn;
  progress_ctx = ctx;
}

struct stage {
  const char *name;
  int mode;
  int qbits;
  size_t epochs;
  double lr;
  double ramp; /* epochs over which beta rises from 0 to 1; 0: beta = 1 */
};

static int parse_milestones(const char *s, double *ms, size_t *nms,
                            struct sm_err *err) {
  *nms = 0;
  if (!*s)
    return 0;
  char *buf = sm_xstrdup(s), *save = NULL;
  int rc = 0;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    double v;
    if (sm_parse_double(t, &v) || v <= 0 || v >= 1 || *nms == 16) {
      rc = sm_fail(err, SM_EINVAL,
                   "train.milestones: '%s' is not a fraction in (0, 1) (at "
                   "most 16)",
                   t);
      break;
    }
    ms[(*nms)++] = v;
  }
  free(buf);
  return rc;
}

static void save_checkpoint(struct train_net *n, const struct train_conf *c,
                            double a_max, FILE *log) {
  if (!c->checkpoint[0])
    return;
  /* float weights (export at bits 0 reads only the float masters), so a
   * checkpoint resumes training through train.init */
  struct model *m = train_net_to_model(n, c->arch, 0, a_max, c->readout);
  snprintf(m->name, sizeof m->name, "%.100s (checkpoint)", c->name);
  struct sm_err err = {0};
  if (model_save(m, c->checkpoint, &err) && log)
    fprintf(log, "warning: checkpoint: %s\n", err.msg);
  model_free(m);
}

void train_augment(const uint8_t *src, uint8_t *dst, int c, int h, int w,
                    int dx, int dy, int flip) {
  for (int ch = 0; ch < c; ch++) {
    const uint8_t *s = src + (size_t)ch * h * w;
    uint8_t *d = dst + (size_t)ch * h * w;
    for (int y = 0; y < h; y++) {
      int sy = y - dy;
      for (int x = 0; x < w; x++) {
        int sx = (flip ? w - 1 - x : x) - dx;
        d[(size_t)y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w
                                   ? s[(size_t)sy * w + sx]
                                   : 0;
      }
    }
  }
}

/* train.qat_scale=search: for each layer in turn (the others quantized
 * with their current scale), the clipping ratio of the least squared error
 * choice (net.c) with the least readout loss of the quantized SNN on the
 * first train.calib training images.  The scales then stay fixed. */
void train_search_scales(struct train_net *n, int bits,
                         const struct train_data *tr,
                         const struct train_conf *c, FILE *log,
                         double *loss_before, double *loss_after) {
  struct train_data sub = *tr;
  sub.n = SM_MIN(tr->n, c->calib);
  int qmax = (1 << (bits - 1)) - 1;
  int linear = c->readout == TRAIN_READOUT_POTENTIAL;
  struct train_eval ev;
  train_net_quantize(n, 0, 0);
  train_net_eval_mode(n, &sub, tr->a_max, TRAIN_MODE_SNN, linear, &ev);
  double float_acc = ev.accuracy;
  train_net_quantize(n, bits, 0);
  train_net_eval_mode(n, &sub, tr->a_max, TRAIN_MODE_SNN, linear, &ev);
  double before = ev.loss, before_acc = ev.accuracy;
  if (log && !c->quiet)
    fprintf(log, "qat scale search on %zu training images: float %.2f%%, "
            "least squared error scales %.2f%% (loss %.4f); clipping ratio "
            "per layer:", sub.n, 100 * float_acc, 100 * before_acc, before);
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (!L->nw)
      continue;
    float amax = 0;
    for (size_t j = 0; j < L->nw; j++)
      amax = fmaxf(amax, fabsf(L->w[j]));
    if (amax == 0)
      continue;
    float best = L->scale;
    double bestl = INFINITY;
    for (int f = 0; f < TRAIN_CLIP_STEPS; f++) {
      L->scale = train_clip_scale(amax, f, qmax);
      train_net_quantize(n, bits, 1);
      train_net_eval_mode(n, &sub, tr->a_max, TRAIN_MODE_SNN, linear, &ev);
      if (ev.loss < bestl) {
        bestl = ev.loss;
        best = L->scale;
      }
    }
    L->scale = best;
    train_net_quantize(n, bits, 1);
    if (log && !c->quiet)
      fprintf(log, " L%zu %.3f", i, best * (float)qmax / amax);
  }
  train_net_eval_mode(n, &sub, tr->a_max, TRAIN_MODE_SNN, linear, &ev);
  if (loss_before)
    *loss_before = before;
  if (loss_after)
    *loss_after = ev.loss;
  if (log && !c->quiet)
    fprintf(log, "; searched %.2f%% (loss %.4f)\n", 100 * ev.accuracy,
            ev.loss);
}

static void run_stage(struct train_net *n, const struct stage *st,
                      const struct train_data *tr,
                      const struct train_data *te, const struct train_conf *c,
                      const double *ms, size_t nms, struct train_rng *rng,
                      size_t *order, FILE *log, double *samples,
                      double *seconds) {
  if (!st->epochs)
    return;
  n->mode = st->mode;
  n->linear_out = c->readout == TRAIN_READOUT_POTENTIAL;
  n->logit_scale = st->mode == TRAIN_MODE_SNN ? (float)c->logit_scale : 1.0f;
  n->sw_penalty = st->mode == TRAIN_MODE_SNN ? (float)c->sw_penalty : 0.0f;
  n->silent_push = st->mode == TRAIN_MODE_SNN ? (float)c->silent_push : 0.0f;
  n->adam_t = 0;
  for (size_t i = 0; i < n->nl; i++)
    if (n->L[i].nw) {
      memset(n->L[i].m1, 0, n->L[i].nw * sizeof(float));
      memset(n->L[i].m2, 0, n->L[i].nw * sizeof(float));
    }
  size_t B = c->batch, ntr = tr->n, nin = (size_t)tr->c * tr->h * tr->w;
  train_net_reserve(n, B);
  const uint8_t **imgs = sm_xmallocarray(B, sizeof *imgs);
  uint8_t *lab = sm_xmalloc(B);
  int *pred = sm_xmallocarray(B, sizeof *pred);
  int aug = c->shift > 0 || c->flip;
  uint8_t *augbuf = aug ? sm_xmallocarray(B, nin) : NULL;
  train_net_quantize(n, st->qbits, 0);
  int refresh = c->qat_scale == TRAIN_QSCALE_REFRESH;
  if (st->qbits && c->qat_scale == TRAIN_QSCALE_SEARCH)
    train_search_scales(n, st->qbits, tr, c, log, NULL, NULL);
  for (size_t i = 0, k = 0; st->qbits && i < n->nl; i++)
    if (n->L[i].nw && k++ < c->qat_freeze)
      n->L[i].frozen = 1;
  for (size_t e = 0; e < st->epochs; e++) {
    double lr = st->lr;
    for (size_t k = 0; k < nms; k++)
      if ((double)e >= ms[k] * (double)st->epochs)
        lr *= c->gamma;
    for (size_t i = ntr; i > 1; i--) { /* Fisher-Yates */
      size_t j = (size_t)(train_rng_uniform(rng) * (double)i);
      size_t t = order[i - 1];
      order[i - 1] = order[j];
      order[j] = t;
    }
    memset(n->cnt_sil, 0, n->nl * sizeof *n->cnt_sil);
    memset(n->cnt_sat, 0, n->nl * sizeof *n->cnt_sat);
    uint64_t t0 = sm_now_ns();
    double loss = 0;
    size_t correct = 0, step = 0;
    for (size_t i = 0; i < ntr; i += B, step++) {
      size_t b = SM_MIN(B, ntr - i);
      for (size_t k = 0; k < b; k++) {
        imgs[k] = tr->images + order[i + k] * nin;
        lab[k] = tr->labels[order[i + k]];
        if (aug) {
          int span = 2 * (int)c->shift + 1;
          int dx = (int)(train_rng_uniform(rng) * span) - (int)c->shift;
          int dy = (int)(train_rng_uniform(rng) * span) - (int)c->shift;
          int fl = c->flip && train_rng_uniform(rng) < 0.5;
          train_augment(imgs[k], augbuf + k * nin, tr->c, tr->h, tr->w, dx,
                        dy, fl);
          imgs[k] = augbuf + k * nin;
        }
      }
      if (st->ramp > 0) {
        double p = ((double)e + (double)i / (double)ntr) / st->ramp;
        n->beta = p < 1 ? (float)p : 1.0f;
      }
      if (st->qbits)
        train_net_quantize(n, st->qbits, !refresh || step % 32 != 0);
      train_net_load_input(n, imgs, b, tr->a_max);
      train_net_forward(n, b);
      loss += train_net_loss(n, lab, b, 1) * (double)b;
      train_net_decide(n, b, pred);
      for (size_t k = 0; k < b; k++)
        correct += pred[k] == lab[k];
      train_net_adam(n, lr, c->weight_decay);
      if (progress_fn)
        progress_fn(progress_ctx, st->name, e, st->epochs, i + b, ntr);
    }
    if (st->qbits)
      train_net_quantize(n, st->qbits, !refresh);
    double dt = (double)(sm_now_ns() - t0) * 1e-9;
    *samples += (double)ntr;
    *seconds += dt;
    size_t *tsil = sm_xmallocarray(n->nl, sizeof *tsil);
    size_t *tsat = sm_xmallocarray(n->nl, sizeof *tsat);
    memcpy(tsil, n->cnt_sil, n->nl * sizeof *tsil);
    memcpy(tsat, n->cnt_sat, n->nl * sizeof *tsat);
    struct train_eval ev;
    train_net_eval_mode(n, te, te->a_max, st->mode, n->linear_out, &ev);
    if (log && !c->quiet) {
      fprintf(log,
              "%s epoch %zu/%zu: lr %.2g%s loss %.4f train %.2f%% test %.2f%% | "
              "%.0f samples/s, %.1f s, ETA %.0f s\n",
              st->name, e + 1, st->epochs, lr,
              n->beta < 1 ? " (ramp)" : "", loss / (double)ntr,
              100.0 * (double)correct / (double)ntr, 100 * ev.accuracy,
              (double)ntr / dt, dt, dt * (double)(st->epochs - e - 1));
      fprintf(log, "  silent/window-start per layer (train):");
      for (size_t i = 0; i < n->nl; i++)
        if (n->L[i].spiking) {
          double cnt = (double)n->L[i].nout * (double)ntr;
          fprintf(log, " L%zu %.1f%%/%.1f%%", i,
                  100.0 * (double)tsil[i] / cnt, 100.0 * (double)tsat[i] / cnt);
        }
      fprintf(log, "\n");
      fflush(log);
    }
    free(tsil);
    free(tsat);
    save_checkpoint(n, c, tr->a_max, log);
  }
  n->beta = 1.0f;
  for (size_t i = 0; i < n->nl; i++)
    n->L[i].frozen = 0;
  free(augbuf);
  free(imgs);
  free(lab);
  free(pred);
}

static json_t *eval_json(const struct train_eval *ev) {
  json_t *layers = json_array();
  for (size_t i = 0; i < ev->nlayers; i++)
    json_array_append_new(
        layers, json_pack("{s:i, s:I, s:f, s:f}", "layer", ev->layer[i].layer,
                          "neurons", (json_int_t)ev->layer[i].neurons,
                          "inactive", ev->layer[i].silent, "window_start",
                          ev->layer[i].saturated));
  return json_pack("{s:f, s:f, s:f, s:o}", "accuracy", ev->accuracy, "loss",
                   ev->loss, "sparsity", ev->sparsity, "layers", layers);
}

int train_run(const struct train_conf *c, const char *command, FILE *log,
              struct train_result *res, struct sm_err *err) {
  memset(res, 0, sizeof *res);
  uint64_t t_start = sm_now_ns();
  double ms[16];
  size_t nms;
  int rc = parse_milestones(c->milestones, ms, &nms, err);
  if (rc)
    return rc;
  if (c->bits == 1)
    return sm_fail(err, SM_ERANGE, "train.bits = 1: expected 0 or 2..8");
  train_set_threads((int)c->threads);
  struct train_data tr, te;
  struct model *init = NULL; /* freed at out_data: set before any goto */
  struct train_net *n = NULL;
  if ((rc = train_data_load_dir(c->data, 0, &tr, err)))
    return rc;
  if ((rc = train_data_load_dir(c->data, 1, &te, err))) {
    train_data_free(&tr);
    return rc;
  }
  if (te.c != tr.c || te.h != tr.h || te.w != tr.w) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: test images are %dx%dx%d, training images %dx%dx%d",
                 c->data, te.c, te.h, te.w, tr.c, tr.h, tr.w);
    goto out_data;
  }
  if (c->limit && c->limit < tr.n)
    tr.n = c->limit;
  struct train_arch arch;
  if ((rc = train_arch_parse(c->arch, tr.c, tr.h, tr.w, &arch, err)))
    goto out_data;
  const struct model_layer *last = &arch.layers[arch.nlayers - 1];
  int ncls = SM_MAX(tr.nclasses, te.nclasses);
  if (model_layer_neurons(last) < (size_t)ncls) {
    rc = sm_fail(err, SM_EINVAL,
                 "train.arch '%s': %zu output neurons for %d classes", c->arch,
                 model_layer_neurons(last), ncls);
    goto out_data;
  }
  if (c->init[0]) {
    if ((rc = model_load(c->init, &init, err)))
      goto out_data;
    if (init->nlayers != arch.nlayers) {
      rc = sm_fail(err, SM_EINVAL, "%s: %zu layers, train.arch '%s' has %zu",
                   c->init, init->nlayers, c->arch, arch.nlayers);
      goto out_data;
    }
    for (size_t i = 0; i < arch.nlayers; i++)
      if (init->layers[i].type != arch.layers[i].type ||
          init->layers[i].nweights != arch.layers[i].nweights ||
          model_layer_neurons(&init->layers[i]) !=
              model_layer_neurons(&arch.layers[i])) {
        rc = sm_fail(err, SM_EINVAL,
                     "%s: layer %zu does not match train.arch '%s'", c->init,
                     i, c->arch);
        goto out_data;
      }
    n = train_net_from_model(init);
    n->tw = c->tw;
    for (size_t i = 0; i < n->nl; i++)
      n->L[i].bits = 0;
  } else {
    n = train_net_new(&arch, c->tw, c->seed);
  }
  size_t *order = sm_xmallocarray(tr.n, sizeof *order);
  for (size_t i = 0; i < tr.n; i++)
    order[i] = i;
  struct train_rng rng;
  train_rng_init(&rng, c->seed + 0x9e37);
  if (log && !c->quiet)
    fprintf(log,
            "train: %s on %s (%zu train, %zu test), readout %s, batch %zu, "
            "%d-bit export, %d BLAS threads\n",
            c->arch, c->data, tr.n, te.n, c->readout == TRAIN_READOUT_POTENTIAL ? "potential" : "time",
            (size_t)c->batch, (int)c->bits, (int)c->threads);
  struct stage stages[3] = {
      {"ann", TRAIN_MODE_ANN, 0, init ? 0 : c->ann_epochs, c->ann_lr, 0},
      {"snn", TRAIN_MODE_SNN, 0, c->epochs, c->lr, c->ramp_epochs},
      {"qat", TRAIN_MODE_SNN, (int)c->bits, c->bits ? c->qat_epochs : 0,
       c->qat_lr, 0},
  };
  double samples = 0, seconds = 0;
  run_stage(n, &stages[0], &tr, &te, c, ms, nms, &rng, order, log, &samples,
            &seconds);
  if (stages[0].epochs && c->readout == TRAIN_READOUT_TIME &&
      c->logit_scale != 1) {
    /* The ANN's logits are the output Swx; the time readout's logits are
     * k * x with x ~ Swx for small Sw.  Dividing the output weights by k
     * starts the SNN where k * x ~ the ANN's logits, inside the window
     * (gradients flow) instead of mostly silent or at the window start. */
    struct tlayer *Lo = &n->L[n->nl - 1];
    for (size_t j = 0; j < Lo->nw; j++)
      Lo->w[j] /= (float)c->logit_scale;
  }
  if (stages[1].epochs && log && !c->quiet) {
    /* what the spiking network makes of the weights it starts from */
    struct train_eval ev;
    train_net_eval(n, &te, tr.a_max, c->readout, &ev);
    train_print_eval(log, "SNN at the handover, before training (test)", &ev);
  }
  run_stage(n, &stages[1], &tr, &te, c, ms, nms, &rng, order, log, &samples,
            &seconds);
  train_net_quantize(n, 0, 0);
  train_net_eval(n, &te, tr.a_max, c->readout, &res->float_eval);
  res->float_acc = res->float_eval.accuracy;
  if (log && !c->quiet)
    train_print_eval(log, "float SNN (test)", &res->float_eval);
  run_stage(n, &stages[2], &tr, &te, c, ms, nms, &rng, order, log, &samples,
            &seconds);
  struct model *m =
      train_net_to_model(n, c->arch, (int)c->bits, tr.a_max, c->readout);
  snprintf(m->name, sizeof m->name, "%.127s", c->name[0] ? c->name : c->arch);
  /* Evaluate what the file will hold: the exported weights, rebuilt. */
  if ((rc = train_eval_model(m, &te, &res->quant_eval, err)))
    goto out_model;
  res->quant_acc = res->quant_eval.accuracy;
  if (log && !c->quiet)
    train_print_eval(log, c->bits ? "exported quantized SNN (test)"
                                  : "exported float SNN (test)",
                     &res->quant_eval);
  res->seconds = (double)(sm_now_ns() - t_start) * 1e-9;
  res->samples_per_s = seconds > 0 ? samples / seconds : 0;
  json_t *md = m->metadata;
  json_object_set_new(md, "command", json_string(command ? command : ""));
  json_object_set_new(md, "dataset", json_string(c->data));
  json_object_set_new(md, "accuracy_float", json_real(res->float_acc));
  json_object_set_new(md, "accuracy_quant", json_real(res->quant_acc));
  json_object_set_new(md, "sparsity", json_real(res->quant_eval.sparsity));
  json_object_set_new(md, "created_by", json_string(sm_version()));
  json_object_set_new(md, "seed", json_integer((json_int_t)c->seed));
  json_object_set_new(md, "threads", json_integer((json_int_t)c->threads));
  json_object_set_new(md, "train_seconds", json_real(res->seconds));
  json_object_set_new(md, "train_samples_per_s",
                      json_real(res->samples_per_s));
  json_object_set_new(md, "eval_float", eval_json(&res->float_eval));
  json_object_set_new(md, "eval_quant", eval_json(&res->quant_eval));
  if (init) { /* the run started from another file: keep how that was made */
    json_t *from = json_pack("{s:s}", "file", c->init);
    json_t *im = init->metadata;
    const char *keys[] = {"command", "train_seconds", "threads",
                          "accuracy_float", "accuracy_quant"};
    for (size_t k = 0; im && k < SM_ARRAY_LEN(keys); k++) {
      json_t *v = json_object_get(im, keys[k]);
      if (v)
        json_object_set(from, keys[k], v);
    }
    json_object_set_new(md, "init", from);
  }
  json_object_set_new(
      md, "stages",
      json_pack("{s:I, s:I, s:I}", "ann_epochs",
                (json_int_t)stages[0].epochs, "snn_epochs",
                (json_int_t)stages[1].epochs, "qat_epochs",
                (json_int_t)stages[2].epochs));
  if ((rc = model_save(m, c->out, err)))
    goto out_model;
  if (log && !c->quiet)
    fprintf(log, "wrote %s (%.0f s, %.0f training samples/s)\n", c->out,
            res->seconds, res->samples_per_s);
out_model:
  model_free(m);
  free(order);
  train_net_free(n);
out_data:
  model_free(init);
  train_data_free(&tr);
  train_data_free(&te);
  return rc;
}

double train_bench_step(struct train_net *n, const struct train_data *d,
                        size_t first, size_t bs, int naive) {
  size_t nin = (size_t)d->c * d->h * d->w;
  train_net_reserve(n, bs);
  const uint8_t *imgs[4096];
  uint8_t lab[4096];
  assert(bs <= 4096);
  for (size_t k = 0; k < bs; k++) {
    size_t i = (first + k) % d->n;
    imgs[k] = d->images + i * nin;
    lab[k] = d->labels[i];
  }
  n->mode = TRAIN_MODE_SNN;
  n->naive = naive;
  train_net_load_input(n, imgs, bs, d->a_max);
  train_net_forward(n, bs);
  double loss = train_net_loss(n, lab, bs, 1);
  train_net_adam(n, 1e-4, 0);
  n->naive = 0;
  return loss;
}
