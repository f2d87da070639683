/*
 * train-int.h -- the trainer's private structures: layers with their batch
 * buffers, the network, the RNG, and the step functions the tests drive.
 *
 * Batch layout.  Every layer output is one buffer xm of 2*B rows of nout
 * floats: rows 0..B-1 hold x (window frame, 0 = silent), rows B..2B-1 the
 * fired mask m = [x > 0].  A dense or conv layer multiplies the stacked
 * [x ; m] by its weights in ONE GEMM, which gives Swx (top) and Sw
 * (bottom) at once.  The backward stacks [G ; G*(Tw - x_out)] the same way
 * so the weight gradient is one GEMM too (doc/trainer.md derives it).
 *
 * The files call one way: train.c (stages) -> export.c (net <-> model) ->
 * eval.c (scoring) -> net.c (layers); arch.c and idx.c call none of them.
 */
#ifndef SPIKEMESH_TRAIN_INT_H
#define SPIKEMESH_TRAIN_INT_H

#include "trainer/train.h"
#include "util/rng.h"

/* The trainer's own stream on the project generator (util/rng.h); it must
 * not depend on sim/.  Seeded from train.seed ^ 0x5eed7ea1. */
struct train_rng {
  struct sm_rng g;
};
void train_rng_init(struct train_rng *r, uint64_t seed);
uint64_t train_rng_next(struct train_rng *r);
double train_rng_uniform(struct train_rng *r); /* [0, 1) */
double train_rng_normal(struct train_rng *r);

/* Training augmentation (train.shift, train.flip): src (c x h x w) into dst,
 * dst[y][x] = src[y - dy][x' - dx] with x' = w-1-x if flip else x, 0 where
 * that lies outside the image; every channel alike. */
void train_augment(const uint8_t *src, uint8_t *dst, int c, int h, int w,
                   int dx, int dy, int flip);

enum train_mode {
  TRAIN_MODE_SNN, /* Eq. 7 neurons */
  TRAIN_MODE_ANN  /* clamp(0, 1) neurons, same weights */
};

struct tlayer {
  enum model_layer_type type;
  int in_c, in_h, in_w, out_c, out_h, out_w;
  int k, pad;          /* conv kernel and padding; pool window */
  size_t nin, nout;    /* values per sample in and out */
  size_t nw;           /* weights */
  size_t ckk, P;       /* conv: in_c*k*k and out_h*out_w */
  int spiking;         /* dense or conv */
  int frozen;          /* Adam leaves the weights alone (train.qat_freeze) */
  float *w;            /* master weights [nw] */
  float *wq;           /* forward weights: w itself, or quantized copy */
  float *gw, *m1, *m2; /* gradient and Adam moments [nw] */
  int bits;            /* 0 = float forward; 2..8 = quantized (bits) */
  float scale;         /* w = q * scale when bits > 0 */
  /* batch buffers, capacity bcap samples */
  float *xm;   /* [2*bcap][nout] x then mask (flatten: alias of input) */
  float *s;    /* [2*bcap][nout] Swx then Sw */
  float *d;    /* [bcap][nout] dx/dSwx-style factor: 1/(1+Sw) in window */
  float *gx;   /* [bcap][nout] dL/dx (flatten: alias) */
  float *gg;   /* [2*bcap][nout] stacked backward factors */
  float *col;  /* conv: [ckk][2*bcap*P] */
  float *tmp;  /* conv: [out_c][2*bcap*P] */
  int *arg;    /* pool: argmax input index [bcap][nout] */
  int alias;   /* flatten: xm/gx belong to the layer before */
  size_t col_n; /* conv: samples in col from the last forward */
};

struct train_net {
  int in_c, in_h, in_w;
  size_t nin;
  double tw;
  size_t nl;
  struct tlayer *L;
  size_t bcap;     /* buffer capacity (samples) */
  float *x0;       /* [2*bcap][nin] input x then mask */
  float *gx0;      /* unused input gradient sink (never read) */
  int mode;        /* enum train_mode */
  int naive;       /* 1: GEMMs as plain loops (benchmark baseline) */
  int linear_out;  /* loss on the last layer's Swx instead of its x */
  uint64_t adam_t; /* Adam step count */
  size_t nclasses;
  float logit_scale; /* loss on logit_scale * logits (1 = Eq. 8 as is) */
  /* SNN mode: weight beta of Sw in the neuron, x = (Swx + Tw*beta*Sw) /
   * (1 + beta*Sw).  1 is Eq. 7; 0 is clamp(Swx, 0, Tw), the ANN.  The
   * handover ramps it from 0 to 1 (train.ramp_epochs). */
  float beta;
  /* SNN mode: the loss gains (sw_penalty/2) * sum over spiking layers of
   * the mean over (sample, neuron) of Sw^2 (train.sw_penalty). */
  float sw_penalty;
  /* SNN mode: the loss gains silent_push * sum over spiking layers of the
   * mean over (sample, neuron) of -u for silent neurons, u = Swx +
   * Tw*beta*Sw the numerator of Eq. 7 (train.silent_push): its gradient
   * raises the weights of the inputs that reached a silent neuron. */
  float silent_push;
  float *prob;     /* [bcap][nclasses] softmax / gradient scratch */
  /* counters of the last forward over spiking layers, for statistics */
  size_t *cnt_sil, *cnt_sat; /* [nl] */
};

void train_net_reserve(struct train_net *n, size_t b);
/* Fill the input rows from images (uint8, nin values each). */
void train_net_load_input(struct train_net *n, const uint8_t *const *images,
                          size_t b, double a_max);
void train_net_forward(struct train_net *n, size_t b);
/* Logits of the last forward: SNN time readout -> x of the output layer;
 * potential readout or ANN -> its Swx. */
const float *train_net_logits(const struct train_net *n);
/* Mean cross-entropy of the logits against labels; with backward != 0
 * also runs the backward pass filling every gw. */
double train_net_loss(struct train_net *n, const uint8_t *labels, size_t b,
                      int backward);
void train_net_adam(struct train_net *n, double lr, double wd);
/* The clipping ratios both scale choices try: step f in [0, TRAIN_CLIP_STEPS)
 * gives the scale of a b-bit layer (qmax = 2^(b-1) - 1) clipped at
 * (1 - 0.0225 f) of its largest |w|, from 1 down to 0.1225. */
#define TRAIN_CLIP_STEPS 40
static inline float train_clip_scale(float amax, int f, int qmax) {
  return amax * (1.0f - 0.0225f * (float)f) / (float)qmax;
}
/* Quantize every spiking layer to bits (0 = float): sets scale (MSE-best
 * clipping) and wq.  keep_scale reuses the current scale. */
void train_net_quantize(struct train_net *n, int bits, int keep_scale);
/* train.qat_scale=search (train.c): each layer's scale in turn, the
 * clipping ratio (of the TRAIN_CLIP_STEPS the squared-error choice tries)
 * with the least readout loss of the quantized SNN on the first c->calib
 * images of tr; reports that loss before (squared-error scales) and after. */
void train_search_scales(struct train_net *n, int bits,
                         const struct train_data *tr,
                         const struct train_conf *c, FILE *log,
                         double *loss_before, double *loss_after);
/* Score the net on d (eval.c) in `mode` (enum train_mode), the loss on the
 * output's Swx when linear, else on its x; Eq. 7 neurons (beta 1) and no
 * penalty terms whatever the net is set to, the settings restored after.
 * train_net_eval is this in SNN mode with the readout's linear choice. */
void train_net_eval_mode(struct train_net *n, const struct train_data *d,
                         double a_max, int mode, int linear,
                         struct train_eval *ev);
/* First-spike decision per sample of the last forward (-1: no spike). */
void train_net_decide(const struct train_net *n, size_t b, int *pred);
const struct tlayer *train_net_last(const struct train_net *n);

/* The decision rule on one output vector. */
int train_first_spike(const float *x, size_t n);

#endif /* SPIKEMESH_TRAIN_INT_H */
