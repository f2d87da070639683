/*
 * synth.c -- synthetic VGG models calibrated to a target sparsity, and
 * synthetic 3x32x32 inputs (see synth.h).
 *
 * Shapes.  CIFAR-10 VGG without batch norm, 3x3 'same' convolutions,
 * 2x2 max pooling after each block (5 pools: 32 -> 1), then dense
 * 512-512-10.  VGG16: 64,64,P,128,128,P,256x3,P,512x3,P,512x3,P; VGG11:
 * 64,P,128,P,256x2,P,512x2,P,512x2,P.  The dense sizes are the usual
 * CIFAR ones (the 1x1x512 map after the last pool needs no 4096-wide
 * layers); 4096-4096 would also not fit the preset's 1 MiB SRAM (a core of
 * 1024 neurons x 4096 inputs x 4 bits is 2 MiB).
 *
 * Weights.  Each weight is q = clamp(round(z + shift), -8, 7) with z drawn
 * once from N(0, synth.weight_sd), and the layer's scale; no biases (the
 * model has none).
 *
 * Calibration, layer by layer on synth.calib_images synthetic images.
 * A neuron's slope A = sum q and offset B = sum q x over the inputs that
 * fired do not depend on the scale, and in the core's arithmetic
 * (core_fire_step) a neuron with 1 + scale A > 0 fires inside its window iff
 * S A + B = sum q (S + x) > 0, whatever the scale.  So the shift sets how
 * many neurons fire and the scale sets when: for a shift, the scale is
 * bisected (log scale) until the mean fire step of the firing neurons is
 * synth.mean_step of the window (it falls monotonically with the scale);
 * then the shift is updated by linearizing sum q (S + x) in the shift
 * (d/d shift = T = sum (S + x)): the neurons' break-even shifts are sorted
 * and the target quantile taken, corrected by how far the exact fraction
 * (which includes the few neurons with 1 + scale A <= 0) is from the
 * linear model's.  Two to five exact passes usually hit the target to
 * 0.2%.  The layer's exact spike steps, pooled, are the next layer's
 * inputs.  Cost: per pass, one sparse forward of the layer per image
 * (scatter from the inputs that fired: about sparsity x MACs).
 *
 * Rejected: calibrating with the trainer's float forward (it rebuilds the
 * network per image and uses float spike times; the integer closed form
 * here is exactly what the cores compute for an ideal network, so the
 * calibrated sparsity is the simulated one up to late spikes), and a
 * per-neuron threshold (the paper's neurons have none to tune: the
 * dynamic threshold is fixed by the window).
 */
#include "models/synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sim/sim.h"

const struct sm_opt model_synth_conf_opts[] = {
    SM_OPT_E(struct model_synth_conf, arch, "synth.arch", "vgg16",
             MODEL_SYNTH_ARCH_CHOICES,
             "synthetic network: CIFAR-10 VGG16 or VGG11 (3x32x32 input, 3x3 "
             "same convolutions, dense 512-512-10)"),
    SM_OPT_D(struct model_synth_conf, sparsity, "synth.sparsity", "0.2561",
             "spikes/neuron", 0.001, 0.999,
             "target fraction of neurons that fire, every spiking layer (the "
             "paper's VGG16 on CIFAR-10: 0.2561)"),
    SM_OPT_U(struct model_synth_conf, seed, "synth.seed", "1", "", 0, 1.0e18,
             "seed of the weights and of the calibration images"),
    SM_OPT_U(struct model_synth_conf, calib_images, "synth.calib_images", "4",
             "images", 1, 1000,
             "synthetic images the calibration runs on (images 0.. of "
             "synthetic:SEED)"),
    SM_OPT_U(struct model_synth_conf, width_div, "synth.width_div", "1", "", 1,
             64,
             "divide every channel count and hidden dense width by this "
             "(1 = the real network; small models for tests)"),
    SM_OPT_D(struct model_synth_conf, mean_step, "synth.mean_step", "0.5",
             "window", 0.05, 0.95,
             "target mean fire step of the firing neurons, as a fraction of "
             "the window (sets each layer's scale)"),
    SM_OPT_D(struct model_synth_conf, weight_sd, "synth.weight_sd", "3", "q",
             0.1, 16,
             "standard deviation of the weights before rounding to 4 bits"),
};
const size_t model_synth_conf_nopts = SM_ARRAY_LEN(model_synth_conf_opts);

#define POOL (-1)
static const int vgg16_plan[] = {64,  64,  POOL, 128, 128, POOL, 256,
                                 256, 256, POOL, 512, 512, 512,  POOL,
                                 512, 512, 512,  POOL};
static const int vgg11_plan[] = {64,  POOL, 128, POOL, 256, 256, POOL,
                                 512, 512,  POOL, 512, 512, POOL};
static const int dense_plan[] = {512, 512}; /* then 10 outputs */
#define NCLASSES 10
#define MAX_PASSES 12
#define SCALE_BISECT 36

/* ---- the model's shape ---------------------------------------------------- */

struct model *model_synth_shape(const struct model_synth_conf *c) {
  const int *plan = c->arch == MODEL_SYNTH_VGG11 ? vgg11_plan : vgg16_plan;
  size_t np = c->arch == MODEL_SYNTH_VGG11 ? SM_ARRAY_LEN(vgg11_plan)
                                         : SM_ARRAY_LEN(vgg16_plan);
  int div = (int)c->width_div;
  struct model *m = sm_xcalloc(1, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s-synthetic",
           c->arch == MODEL_SYNTH_VGG11 ? "vgg11" : "vgg16");
  snprintf(m->readout, sizeof m->readout, "time");
  m->in_c = 3;
  m->in_h = m->in_w = 32;
  m->a_max = 255;
  m->tw = 1;
  m->nlayers = np + 1 + SM_ARRAY_LEN(dense_plan) + 1;
  m->layers = sm_xcalloc(m->nlayers, sizeof *m->layers);
  size_t o = (size_t)snprintf(m->arch, sizeof m->arch, "3x32x32");
  int ch = 3, h = 32, w = 32;
  size_t li = 0;
  for (size_t i = 0; i < np; i++) {
    struct model_layer *L = &m->layers[li++];
    L->in_c = ch;
    L->in_h = h;
    L->in_w = w;
    if (plan[i] == POOL) {
      L->type = MODEL_POOL;
      L->kernel = L->stride = 2;
      h /= 2;
      w /= 2;
      o += (size_t)snprintf(m->arch + o, sizeof m->arch - o, "-P2");
    } else {
      L->type = MODEL_CONV;
      ch = plan[i] / div > 0 ? plan[i] / div : 1;
      L->kernel = 3;
      L->stride = 1;
      L->pad = 1;
      L->bits = 4;
      L->nweights = (size_t)ch * (size_t)L->in_c * 9;
      o += (size_t)snprintf(m->arch + o, sizeof m->arch - o, "-%dC3s", ch);
    }
    L->out_c = ch;
    L->out_h = h;
    L->out_w = w;
  }
  struct model_layer *F = &m->layers[li++];
  F->type = MODEL_FLATTEN;
  F->in_c = ch;
  F->in_h = h;
  F->in_w = w;
  F->out_c = ch * h * w;
  F->out_h = F->out_w = 1;
  int in = F->out_c;
  for (size_t i = 0; i <= SM_ARRAY_LEN(dense_plan); i++) {
    struct model_layer *L = &m->layers[li++];
    int out = i < SM_ARRAY_LEN(dense_plan)
                  ? (dense_plan[i] / div > 0 ? dense_plan[i] / div : 1)
                  : NCLASSES;
    L->type = MODEL_DENSE;
    L->in_c = in;
    L->in_h = L->in_w = 1;
    L->out_c = out;
    L->out_h = L->out_w = 1;
    L->bits = 4;
    L->nweights = (size_t)out * (size_t)in;
    o += (size_t)snprintf(m->arch + o, sizeof m->arch - o, "-%d", out);
    in = out;
  }
  for (size_t i = 0; i < m->nlayers; i++) {
    struct model_layer *L = &m->layers[i];
    if (L->nweights) {
      L->q = sm_xcalloc(L->nweights, 1);
      L->w = sm_xcalloc(L->nweights, sizeof *L->w);
      L->scale = 1;
    }
  }
  return m;
}

/* ---- the ideal network, in the core's integer arithmetic ------------------ */

struct slayer {
  struct model_layer *ml;
  int pool;          /* fused pool side, 1 if none */
  int8_t *wt;        /* conv [ic][ky][kx][oc], dense [in][out] */
  uint32_t nneur;    /* neurons before pooling */
  uint32_t nout;     /* outputs after pooling */
  uint32_t tsize;    /* entries of T: conv plane, dense 1 */
};

/* The spiking layers of m and their fused pools; n = count.  The models
 * here are built by model_synth_shape() or loaded (any conv/dense stack the mapper
 * accepts with stride 1). */
static int slayers(const struct model *m, struct slayer *sl, uint32_t *n,
                   struct sm_err *err) {
  uint32_t k = 0;
  for (size_t i = 0; i < m->nlayers; i++) {
    struct model_layer *L = &m->layers[i];
    if (L->type == MODEL_CONV || L->type == MODEL_DENSE) {
      if (k == MODEL_SYNTH_MAX_LAYERS)
        return sm_fail(err, SM_ELIMIT, "model: more than %d spiking layers",
                       MODEL_SYNTH_MAX_LAYERS);
      if (!L->q || L->bits < 1)
        return sm_fail(err, SM_EINVAL, "model layer %zu: not quantized", i);
      if (L->type == MODEL_CONV && L->stride > 1)
        return sm_fail(err, SM_EINVAL, "model layer %zu: conv stride %d "
                       "(this forward handles stride 1)", i, L->stride);
      memset(&sl[k], 0, sizeof sl[k]);
      sl[k].ml = L;
      sl[k].pool = 1;
      sl[k].nneur = (uint32_t)model_layer_neurons(L);
      sl[k].tsize = L->type == MODEL_CONV ? (uint32_t)(L->out_h * L->out_w) : 1;
      k++;
    } else if (L->type == MODEL_POOL) {
      if (!k)
        return sm_fail(err, SM_EINVAL, "model layer %zu: pool before any "
                       "spiking layer", i);
      sl[k - 1].pool = L->kernel;
    }
  }
  for (uint32_t s = 0; s < k; s++) {
    const struct model_layer *L = sl[s].ml;
    int p = sl[s].pool;
    sl[s].nout = (uint32_t)L->out_c * (uint32_t)(L->out_h / p) *
                 (uint32_t)(L->out_w / p);
    sl[s].wt = sm_xmalloc(L->nweights);
  }
  *n = k;
  return 0;
}

static void transpose(struct slayer *s) {
  const struct model_layer *L = s->ml;
  if (L->type == MODEL_CONV) {
    size_t oc_n = (size_t)L->out_c,
           fi = (size_t)L->in_c * (size_t)(L->kernel * L->kernel);
    for (size_t oc = 0; oc < oc_n; oc++)
      for (size_t j = 0; j < fi; j++)
        s->wt[j * oc_n + oc] = L->q[oc * fi + j];
  } else {
    size_t out = (size_t)L->out_c, in = (size_t)L->in_c * L->in_h * L->in_w;
    for (size_t j = 0; j < out; j++)
      for (size_t i = 0; i < in; i++)
        s->wt[i * out + j] = L->q[j * in + i];
  }
}

/* A and B of every neuron (conv: channel-last, [position][oc]) and, if T is
 * not NULL, T = sum (S + x) over the inputs that fired, per position. */
static void accumulate(const struct slayer *s, const int32_t *in, int32_t S,
                       int32_t *A, int32_t *B, int32_t *T) {
  const struct model_layer *L = s->ml;
  memset(A, 0, (size_t)s->nneur * sizeof *A);
  memset(B, 0, (size_t)s->nneur * sizeof *B);
  if (T)
    memset(T, 0, (size_t)s->tsize * sizeof *T);
  if (L->type == MODEL_DENSE) {
    uint32_t out = (uint32_t)L->out_c, nin = (uint32_t)L->in_c;
    for (uint32_t i = 0; i < nin; i++) {
      if (in[i] == CORE_SILENT)
        continue;
      int32_t x = S - in[i];
      const int8_t *w = s->wt + (size_t)i * out;
      for (uint32_t j = 0; j < out; j++) {
        A[j] += w[j];
        B[j] += w[j] * x;
      }
      if (T)
        T[0] += S + x;
    }
    return;
  }
  int K = L->kernel, OC = L->out_c, IH = L->in_h, IW = L->in_w;
  int OH = L->out_h, OW = L->out_w, pad = L->pad;
  for (int ic = 0; ic < L->in_c; ic++)
    for (int iy = 0; iy < IH; iy++)
      for (int ix = 0; ix < IW; ix++) {
        int32_t u = in[(ic * IH + iy) * IW + ix];
        if (u == CORE_SILENT)
          continue;
        int32_t x = S - u;
        for (int ky = 0; ky < K; ky++) {
          int oy = iy + pad - ky;
          if (oy < 0 || oy >= OH)
            continue;
          for (int kx = 0; kx < K; kx++) {
            int ox = ix + pad - kx;
            if (ox < 0 || ox >= OW)
              continue;
            const int8_t *w = s->wt + (size_t)((ic * K + ky) * K + kx) * OC;
            size_t p = (size_t)(oy * OW + ox);
            int32_t *a = A + p * (size_t)OC, *b = B + p * (size_t)OC;
            for (int oc = 0; oc < OC; oc++) {
              a[oc] += w[oc];
              b[oc] += w[oc] * x;
            }
            if (T)
              T[p] += S + x;
          }
        }
      }
}

/* Index in the A/B layout of neuron j in (c,h,w) order. */
static inline size_t ab_index(const struct slayer *s, uint32_t j) {
  const struct model_layer *L = s->ml;
  if (L->type == MODEL_DENSE)
    return j;
  uint32_t plane = (uint32_t)(L->out_h * L->out_w);
  return (size_t)(j % plane) * (size_t)L->out_c + j / plane;
}

/* Fire steps in (c,h,w) order. */
static void fire_all(const struct slayer *s, const int32_t *A,
                     const int32_t *B, int64_t m, int f, int32_t S, int round,
                     int32_t *u) {
  for (uint32_t j = 0; j < s->nneur; j++) {
    size_t k = ab_index(s, j);
    u[j] = core_fire_step(A[k], B[k], m, f, S, 0, round);
  }
}

/* Min pooling on steps (silent = never). */
static void pool_min(const struct slayer *s, const int32_t *u, int32_t *out) {
  const struct model_layer *L = s->ml;
  int p = s->pool;
  if (p <= 1) {
    memcpy(out, u, (size_t)s->nneur * sizeof *u);
    return;
  }
  int H = L->out_h, W = L->out_w, ph = H / p, pw = W / p;
  for (int c = 0; c < L->out_c; c++)
    for (int y = 0; y < ph; y++)
      for (int x = 0; x < pw; x++) {
        int32_t best = CORE_SILENT;
        for (int dy = 0; dy < p; dy++)
          for (int dx = 0; dx < p; dx++) {
            int32_t v = u[(c * H + y * p + dy) * W + x * p + dx];
            if (v != CORE_SILENT && (best == CORE_SILENT || v < best))
              best = v;
          }
        out[(c * ph + y) * pw + x] = best;
      }
}

static void encode(const uint8_t *img, size_t n, double a_max, int32_t S,
                   int32_t *out) {
  for (size_t i = 0; i < n; i++) {
    if (!img[i]) {
      out[i] = CORE_SILENT;
      continue;
    }
    double x = img[i] / a_max;
    if (x > 1)
      x = 1;
    out[i] = S - (int32_t)llround(x * S);
  }
}

static void slayers_free(struct slayer *sl, uint32_t n) {
  for (uint32_t s = 0; s < n; s++)
    free(sl[s].wt);
}

int model_synth_forward(const struct model *m, const uint8_t *image,
                      uint32_t steps, int round, uint64_t *fired,
                      struct sm_err *err) {
  struct slayer sl[MODEL_SYNTH_MAX_LAYERS];
  uint32_t n;
  int rc = slayers(m, sl, &n, err);
  if (rc)
    return rc;
  size_t nin = (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w, most = nin;
  for (uint32_t s = 0; s < n; s++)
    if (sl[s].nneur > most)
      most = sl[s].nneur;
  int32_t *in = sm_xmallocarray(most, sizeof *in);
  int32_t *A = sm_xmallocarray(most, sizeof *A);
  int32_t *B = sm_xmallocarray(most, sizeof *B);
  int32_t *u = sm_xmallocarray(most, sizeof *u);
  int32_t S = (int32_t)steps;
  encode(image, nin, m->a_max, S, in);
  for (uint32_t s = 0; s < n && !rc; s++) {
    int64_t mm;
    int ff;
    if (core_scale_fixed(sl[s].ml->scale, &mm, &ff)) {
      rc = sm_fail(err, SM_ERANGE, "spiking layer %u: scale %g out of range",
                   s, (double)sl[s].ml->scale);
      break;
    }
    transpose(&sl[s]);
    accumulate(&sl[s], in, S, A, B, NULL);
    fire_all(&sl[s], A, B, mm, ff, S, round, u);
    fired[s] = 0;
    for (uint32_t j = 0; j < sl[s].nneur; j++)
      fired[s] += u[j] != CORE_SILENT;
    pool_min(&sl[s], u, in);
  }
  free(in);
  free(A);
  free(B);
  free(u);
  slayers_free(sl, n);
  return rc ? rc : (int)n;
}

/* ---- calibration ------------------------------------------------------------ */

static double normal(struct sim_rng *r) {
  double u1 = sim_rng_uniform(r), u2 = sim_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct calib {
  struct slayer *s;
  uint32_t nimg;
  int32_t S;
  int round;
  int32_t *A, *B, *T; /* [nimg][nneur], [nimg][nneur], [nimg][tsize] */
};

/* Fraction fired and mean fire step of firing neurons at a scale, over
 * every stride-th neuron. */
static void evaluate(const struct calib *c, double scale, size_t stride,
                     double *frac, double *mean) {
  int64_t m;
  int f;
  core_scale_fixed((double)(float)scale, &m, &f);
  size_t total = (size_t)c->nimg * c->s->nneur, nf = 0, n = 0;
  double sum = 0;
  for (size_t k = 0; k < total; k += stride) {
    int32_t u = core_fire_step(c->A[k], c->B[k], m, f, c->S, 0, c->round);
    n++;
    if (u != CORE_SILENT) {
      nf++;
      sum += u;
    }
  }
  *frac = (double)nf / (double)n;
  *mean = nf ? sum / (double)nf : (double)c->S;
}

/* The scale whose firing neurons' mean step is target (steps). */
static double pick_scale(const struct calib *c, double target) {
  size_t total = (size_t)c->nimg * c->s->nneur;
  size_t stride = total > 65536 ? total / 65536 : 1;
  double lo = log(1e-7), hi = log(1e3);
  for (int i = 0; i < SCALE_BISECT; i++) {
    double mid = 0.5 * (lo + hi), fr, mean;
    evaluate(c, exp(mid), stride, &fr, &mean);
    if (mean > target)
      lo = mid; /* too late: larger weights */
    else
      hi = mid;
  }
  return exp(0.5 * (lo + hi));
}

static void set_weights(struct slayer *s, const float *z, double shift,
                        double scale) {
  struct model_layer *L = s->ml;
  L->scale = (float)scale;
  for (size_t i = 0; i < L->nweights; i++) {
    double v = rint((double)z[i] + shift);
    L->q[i] = (int8_t)(v < -8 ? -8 : v > 7 ? 7 : v);
    L->w[i] = (float)L->q[i] * L->scale;
  }
  transpose(s);
}

static void calib_pass(struct calib *c, int32_t *const *in) {
  size_t nn = c->s->nneur, nt = c->s->tsize;
  for (uint32_t i = 0; i < c->nimg; i++)
    accumulate(c->s, in[i], c->S, c->A + i * nn, c->B + i * nn,
               c->T + i * nt);
}

/* T of the k-th entry of the A/B arrays (image-major). */
static inline int32_t t_of(const struct calib *c, size_t k) {
  size_t nn = c->s->nneur, img = k / nn, j = k % nn;
  if (c->s->ml->type == MODEL_DENSE)
    return c->T[img];
  return c->T[img * c->s->tsize + j / (size_t)c->s->ml->out_c];
}

/* Calibrate one layer on the inputs in[img]; leave its weights set. */
static void calibrate_layer(struct slayer *s, uint32_t index,
                            const struct model_synth_conf *cf, int32_t S,
                            int round, int32_t *const *in, uint32_t nimg,
                            struct model_synth_layer *rep) {
  struct model_layer *L = s->ml;
  struct sim_rng r;
  sim_rng_init(&r, cf->seed, 1000 + index);
  float *z = sm_xmallocarray(L->nweights, sizeof *z);
  for (size_t i = 0; i < L->nweights; i++)
    z[i] = (float)(cf->weight_sd * normal(&r));
  struct calib c = {.s = s, .nimg = nimg, .S = S, .round = round};
  size_t total = (size_t)nimg * s->nneur;
  c.A = sm_xmallocarray(total, sizeof *c.A);
  c.B = sm_xmallocarray(total, sizeof *c.B);
  c.T = sm_xmallocarray((size_t)nimg * s->tsize, sizeof *c.T);
  double *t = sm_xmallocarray(total, sizeof *t);
  double target = cf->sparsity, shift = 0, scale = 1;
  double best_err = INFINITY, best_shift = 0, best_scale = 1, best_frac = 0,
         best_mean = 0;
  int passes = 0;
  for (; passes < MAX_PASSES; passes++) {
    set_weights(s, z, shift, scale);
    calib_pass(&c, in);
    scale = pick_scale(&c, cf->mean_step * S);
    double frac, mean;
    evaluate(&c, scale, 1, &frac, &mean);
    double e = fabs(frac - target);
    if (e < best_err) {
      best_err = e;
      best_shift = shift;
      best_scale = scale;
      best_frac = frac;
      best_mean = mean;
    }
    if (e <= 0.002 * target)
      break;
    /* linear model: neuron k fires iff shift' > t_k */
    size_t npos = 0;
    for (size_t k = 0; k < total; k++) {
      int64_t P = (int64_t)S * c.A[k] + c.B[k];
      int32_t T = t_of(&c, k);
      npos += P > 0;
      t[k] = T > 0 ? shift - (double)P / T : (P > 0 ? -INFINITY : INFINITY);
    }
    double goal = target + ((double)npos / (double)total - frac);
    goal = goal < 0 ? 0 : goal > 1 ? 1 : goal;
    qsort(t, total, sizeof *t, cmp_double);
    size_t kk = (size_t)llround(goal * (double)total);
    if (kk < 1)
      kk = 1;
    if (kk >= total)
      kk = total - 1;
    double lo = t[kk - 1], hi = t[kk];
    double next = isfinite(lo) && isfinite(hi) ? 0.5 * (lo + hi)
                  : isfinite(lo)                ? lo + 1e-3
                  : isfinite(hi)                ? hi - 1e-3
                                                : shift;
    if (next == shift)
      break;
    shift = next;
  }
  set_weights(s, z, best_shift, best_scale);
  rep->fired = best_frac;
  rep->mean_step = best_mean;
  rep->scale = (double)L->scale;
  rep->shift = best_shift;
  rep->iterations = passes + 1 < MAX_PASSES ? passes + 1 : MAX_PASSES;
  rep->neurons = s->nneur;
  free(z);
  free(c.A);
  free(c.B);
  free(c.T);
  free(t);
}

static int check_conf(const struct model_synth_conf *c, uint32_t steps,
                      struct sm_err *err) {
  if (c->arch != MODEL_SYNTH_VGG16 && c->arch != MODEL_SYNTH_VGG11)
    return sm_fail(err, SM_EINVAL, "synth.arch: expected %s",
                   MODEL_SYNTH_ARCH_CHOICES);
  if (!(c->sparsity > 0 && c->sparsity < 1))
    return sm_fail(err, SM_ERANGE,
                   "synth.sparsity = %g: expected a fraction in (0, 1)",
                   c->sparsity);
  if (c->calib_images < 1 || c->calib_images > 1000)
    return sm_fail(err, SM_ERANGE,
                   "synth.calib_images = %llu: expected 1..1000",
                   (unsigned long long)c->calib_images);
  if (c->width_div < 1 || c->width_div > 64)
    return sm_fail(err, SM_ERANGE, "synth.width_div = %llu: expected 1..64",
                   (unsigned long long)c->width_div);
  if (!(c->mean_step >= 0.05 && c->mean_step <= 0.95))
    return sm_fail(err, SM_ERANGE,
                   "synth.mean_step = %g: expected 0.05..0.95", c->mean_step);
  if (!(c->weight_sd >= 0.1 && c->weight_sd <= 16))
    return sm_fail(err, SM_ERANGE, "synth.weight_sd = %g: expected 0.1..16",
                   c->weight_sd);
  if (steps < 2 || steps > CORE_MAX_STEPS)
    return sm_fail(err, SM_ERANGE,
                   "core.steps_per_window = %u: the calibration needs 2..%d",
                   steps, CORE_MAX_STEPS);
  return 0;
}

int model_synth_model(const struct model_synth_conf *cf, uint32_t steps,
                    int round, struct model **out,
                    struct model_synth_report *rep, struct sm_err *err) {
  *out = NULL;
  int rc = check_conf(cf, steps, err);
  if (rc)
    return rc;
  uint64_t t0 = sm_now_ns();
  struct model *m = model_synth_shape(cf);
  struct slayer sl[MODEL_SYNTH_MAX_LAYERS];
  uint32_t n;
  rc = slayers(m, sl, &n, err);
  if (rc) {
    model_free(m);
    return rc;
  }
  memset(rep, 0, sizeof *rep);
  uint32_t nimg = (uint32_t)cf->calib_images;
  int32_t S = (int32_t)steps;
  size_t nin = (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w, most = nin;
  for (uint32_t s = 0; s < n; s++)
    if (sl[s].nneur > most)
      most = sl[s].nneur;
  int32_t **in = sm_xcalloc(nimg, sizeof *in);
  int32_t *A = sm_xmallocarray(most, sizeof *A);
  int32_t *B = sm_xmallocarray(most, sizeof *B);
  int32_t *u = sm_xmallocarray(most, sizeof *u);
  uint8_t *img = sm_xmalloc(nin);
  for (uint32_t i = 0; i < nimg; i++) {
    in[i] = sm_xmallocarray(most, sizeof *in[i]);
    model_synth_image(cf->seed, i, m->in_c, m->in_h, m->in_w, img);
    encode(img, nin, m->a_max, S, in[i]);
  }
  uint64_t fired = 0, neurons = 0;
  for (uint32_t s = 0; s < n; s++) {
    calibrate_layer(&sl[s], s, cf, S, round, in, nimg, &rep->layer[s]);
    for (int i = 0; (size_t)i < m->nlayers; i++)
      if (&m->layers[i] == sl[s].ml)
        rep->layer[s].model_layer = i;
    /* this layer's exact outputs are the next layer's inputs */
    int64_t mm;
    int ff;
    core_scale_fixed(sl[s].ml->scale, &mm, &ff);
    for (uint32_t i = 0; i < nimg; i++) {
      accumulate(&sl[s], in[i], S, A, B, NULL);
      fire_all(&sl[s], A, B, mm, ff, S, round, u);
      for (uint32_t j = 0; j < sl[s].nneur; j++)
        fired += u[j] != CORE_SILENT;
      pool_min(&sl[s], u, in[i]);
    }
    neurons += (uint64_t)sl[s].nneur * nimg;
  }
  rep->nlayers = n;
  rep->sparsity = (double)fired / (double)neurons;
  rep->seconds = (double)(sm_now_ns() - t0) * 1e-9;
  for (uint32_t i = 0; i < nimg; i++)
    free(in[i]);
  free(in);
  free(A);
  free(B);
  free(u);
  free(img);
  slayers_free(sl, n);
  json_t *per = json_array();
  for (uint32_t s = 0; s < n; s++)
    json_array_append_new(
        per, json_pack("{s:i, s:I, s:f, s:f, s:f, s:f}", "model_layer",
                       rep->layer[s].model_layer, "neurons",
                       (json_int_t)rep->layer[s].neurons, "fired",
                       rep->layer[s].fired, "mean_step",
                       rep->layer[s].mean_step, "scale", rep->layer[s].scale,
                       "shift", rep->layer[s].shift));
  m->metadata = json_pack(
      "{s:s, s:s, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:s, s:o}",
      "created_by", "spikemesh synth", "dataset",
      "synthetic 3x32x32 images (synthetic:SEED); no labels, no accuracy",
      "target_sparsity", cf->sparsity, "sparsity", rep->sparsity, "seed",
      (json_int_t)cf->seed, "calib_images", (json_int_t)cf->calib_images,
      "width_div", (json_int_t)cf->width_div, "mean_step", cf->mean_step,
      "weight_sd", cf->weight_sd, "steps_per_window", (json_int_t)steps,
      "fire_round", round == CORE_ROUND_NEAREST ? "nearest" : "ceil",
      "layers", per);
  *out = m;
  return 0;
}

/* ---- inputs ---------------------------------------------------------------- */

#define WAVES 4

void model_synth_image(uint64_t seed, uint64_t index, int c, int h, int w,
                     uint8_t *out) {
  struct sim_rng r;
  sim_rng_init(&r, seed, 0x5157000000000000ull + index);
  double amp[WAVES], fx[WAVES], fy[WAVES], ph[WAVES];
  for (int k = 0; k < WAVES; k++) {
    amp[k] = 10 + 35 * sim_rng_uniform(&r);
    fx[k] = 6 * sim_rng_uniform(&r) - 3;
    fy[k] = 6 * sim_rng_uniform(&r) - 3;
    ph[k] = 6.283185307179586 * sim_rng_uniform(&r);
  }
  for (int ch = 0; ch < c; ch++) {
    double base = 50 + 150 * sim_rng_uniform(&r), gain[WAVES];
    for (int k = 0; k < WAVES; k++)
      gain[k] = 0.5 + sim_rng_uniform(&r);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = base + 16 * (sim_rng_uniform(&r) - 0.5);
        for (int k = 0; k < WAVES; k++)
          v += gain[k] * amp[k] *
               cos(6.283185307179586 * (fx[k] * x / w + fy[k] * y / h) +
                   ph[k]);
        out[((size_t)ch * h + y) * w + x] =
            (uint8_t)(v < 1 ? 1 : v > 255 ? 255 : lrint(v));
      }
  }
}
