/*
 * net.c -- the network: dense, conv (im2col), max pool and flatten layers,
 * the DFT neuron forward (Eq. 7) and backward (Eqs. 9-10) in the window
 * frame, the clamp(0, 1) ANN used for pretraining, softmax cross-entropy,
 * Adam and per-layer weight quantization.
 *
 * Cost per sample and spiking layer: one GEMM of 2 x nin x nout (forward:
 * [x ; m] W^T gives Swx and Sw together), one of the same size for the
 * weight gradient ([G ; G(Tw - x)]^T [x ; m]) and one of half that for the
 * input gradient.  Convolution lowers to the same GEMMs with im2col over
 * the whole batch (columns = sample x output position), so OpenBLAS sees
 * large matrices and uses every thread it has.  The handover blend beta
 * (x = (Swx + Tw*beta*Sw)/(1 + beta*Sw)) and the Sw penalty only touch the
 * elementwise passes and the mask row of the backward: no extra GEMM.
 *
 * Options rejected: a per-sample convolution GEMM (small matrices, 5x
 * slower measured on the 16C5 layer); separate GEMMs for Swx and Sw (twice
 * the passes over W); a causal-set sort (the DFT makes every input that
 * fired causal, Sec. 3.1).  The input gradient needs no fired-mask: a
 * silent or window-start neuron has a zero factor d, so nothing flows into
 * it anyway.
 */
#include "trainer/train-int.h"

#include <assert.h>
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- RNG ------------------------------------------------------------------ */

void train_rng_init(struct train_rng *r, uint64_t seed) {
  sm_rng_seed(&r->g, seed ^ 0x5eed7ea1ull);
}

uint64_t train_rng_next(struct train_rng *r) { return sm_rng_next(&r->g); }

double train_rng_uniform(struct train_rng *r) {
  return sm_rng_uniform(&r->g);
}

double train_rng_normal(struct train_rng *r) {
  double u1 = train_rng_uniform(r), u2 = train_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- GEMM: OpenBLAS or the naive baseline --------------------------------- */

/* C[M][N] = op(A)[M][K] op(B)[K][N], row-major, beta = 0. */
static void gemm(int naive, int ta, int tb, size_t M, size_t N, size_t K,
                 const float *A, size_t lda, const float *B, size_t ldb,
                 float *C, size_t ldc) {
  if (!M || !N)
    return;
  if (!naive) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                A, (int)lda, B, (int)ldb, 0.0f, C, (int)ldc);
    return;
  }
  for (size_t i = 0; i < M; i++) {
    float *c = C + i * ldc;
    for (size_t j = 0; j < N; j++)
      c[j] = 0;
    for (size_t k = 0; k < K; k++) {
      float a = ta ? A[k * lda + i] : A[i * lda + k];
      if (a == 0)
        continue;
      if (!tb) {
        const float *b = B + k * ldb;
        for (size_t j = 0; j < N; j++)
          c[j] += a * b[j];
      } else {
        for (size_t j = 0; j < N; j++)
          c[j] += a * B[j * ldb + k];
      }
    }
  }
}

void train_set_threads(int threads) {
  openblas_set_num_threads(threads < 1 ? 1 : threads);
}

/* ---- construction --------------------------------------------------------- */

static struct train_net *net_alloc(int c, int h, int w, size_t nl,
                                   const struct model_layer *ml, double tw) {
  struct train_net *n = sm_xcalloc(1, sizeof *n);
  n->in_c = c;
  n->in_h = h;
  n->in_w = w;
  n->nin = (size_t)c * h * w;
  n->tw = tw;
  n->nl = nl;
  n->L = sm_xcalloc(nl, sizeof *n->L);
  n->cnt_sil = sm_xcalloc(nl, sizeof *n->cnt_sil);
  n->cnt_sat = sm_xcalloc(nl, sizeof *n->cnt_sat);
  for (size_t i = 0; i < nl; i++) {
    struct tlayer *L = &n->L[i];
    const struct model_layer *m = &ml[i];
    L->type = m->type;
    L->in_c = m->in_c;
    L->in_h = m->in_h;
    L->in_w = m->in_w;
    L->out_c = m->out_c;
    L->out_h = m->out_h;
    L->out_w = m->out_w;
    L->k = m->kernel;
    L->pad = m->pad;
    L->nin = (size_t)m->in_c * m->in_h * m->in_w;
    L->nout = (size_t)m->out_c * m->out_h * m->out_w;
    L->P = (size_t)m->out_h * m->out_w;
    L->spiking = m->type == MODEL_DENSE || m->type == MODEL_CONV;
    if (m->type == MODEL_DENSE)
      L->nw = L->nout * L->nin;
    else if (m->type == MODEL_CONV) {
      L->ckk = (size_t)m->in_c * m->kernel * m->kernel;
      L->nw = (size_t)m->out_c * L->ckk;
    }
    if (L->nw) {
      L->w = sm_xcalloc(L->nw, sizeof(float));
      L->wq = L->w;
      L->gw = sm_xcalloc(L->nw, sizeof(float));
      L->m1 = sm_xcalloc(L->nw, sizeof(float));
      L->m2 = sm_xcalloc(L->nw, sizeof(float));
    }
    L->alias = m->type == MODEL_FLATTEN;
  }
  n->nclasses = n->L[nl - 1].nout;
  n->logit_scale = 1.0f;
  n->beta = 1.0f;
  return n;
}

struct train_net *train_net_new(const struct train_arch *a, double tw,
                                uint64_t seed) {
  assert(a->nlayers > 0);
  struct train_net *n =
      net_alloc(a->in_c, a->in_h, a->in_w, a->nlayers, a->layers, tw);
  struct train_rng r;
  train_rng_init(&r, seed);
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (!L->nw)
      continue;
    size_t fan_in = L->type == MODEL_DENSE ? L->nin : L->ckk;
    double sd = sqrt(2.0 / (double)fan_in); /* Kaiming normal, ReLU gain */
    for (size_t j = 0; j < L->nw; j++)
      L->w[j] = (float)(sd * train_rng_normal(&r));
  }
  return n;
}

struct train_net *train_net_from_model(const struct model *m) {
  struct train_net *n =
      net_alloc(m->in_c, m->in_h, m->in_w, m->nlayers, m->layers, m->tw);
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (!L->nw)
      continue;
    assert(m->layers[i].nweights == L->nw);
    memcpy(L->w, m->layers[i].w, L->nw * sizeof(float));
    L->bits = m->layers[i].bits;
    L->scale = m->layers[i].scale;
  }
  return n;
}

static void free_buffers(struct train_net *n) {
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (!L->alias) {
      free(L->xm);
      free(L->gx);
    }
    free(L->s);
    free(L->d);
    free(L->gg);
    free(L->col);
    free(L->tmp);
    free(L->arg);
    L->xm = L->s = L->d = L->gx = L->gg = L->col = L->tmp = NULL;
    L->arg = NULL;
  }
  free(n->x0);
  free(n->gx0);
  free(n->prob);
  n->x0 = n->gx0 = n->prob = NULL;
}

void train_net_free(struct train_net *n) {
  if (!n)
    return;
  free_buffers(n);
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (L->wq != L->w)
      free(L->wq);
    free(L->w);
    free(L->gw);
    free(L->m1);
    free(L->m2);
  }
  free(n->L);
  free(n->cnt_sil);
  free(n->cnt_sat);
  free(n);
}

void train_net_reserve(struct train_net *n, size_t b) {
  if (b <= n->bcap)
    return;
  free_buffers(n);
  n->bcap = b;
  n->x0 = sm_xmallocarray(2 * b * n->nin, sizeof(float));
  n->gx0 = sm_xmallocarray(b * n->nin, sizeof(float));
  n->prob = sm_xmallocarray(b * n->nclasses, sizeof(float));
  float *prev_xm = n->x0, *prev_gx = n->gx0;
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (L->alias) {
      L->xm = prev_xm;
      L->gx = prev_gx;
    } else {
      L->xm = sm_xmallocarray(2 * b * L->nout, sizeof(float));
      L->gx = sm_xmallocarray(b * L->nout, sizeof(float));
    }
    if (L->spiking) {
      L->s = sm_xmallocarray(2 * b * L->nout, sizeof(float));
      L->d = sm_xmallocarray(b * L->nout, sizeof(float));
      L->gg = sm_xmallocarray(2 * b * L->nout, sizeof(float));
    }
    if (L->type == MODEL_CONV) {
      L->col = sm_xmallocarray(L->ckk * 2 * b * L->P, sizeof(float));
      L->tmp = sm_xmallocarray((size_t)L->out_c * 2 * b * L->P, sizeof(float));
    }
    if (L->type == MODEL_POOL)
      L->arg = sm_xmallocarray(b * L->nout, sizeof(int));
    prev_xm = L->xm;
    prev_gx = L->gx;
  }
}

void train_net_load_input(struct train_net *n, const uint8_t *const *images,
                          size_t b, double a_max) {
  assert(b <= n->bcap);
  float inv = (float)(1.0 / a_max);
  float tw = (float)n->tw;
  for (size_t i = 0; i < b; i++) {
    float *x = n->x0 + i * n->nin, *m = n->x0 + (b + i) * n->nin;
    const uint8_t *img = images[i];
    /* Eq. 1 in the window frame: x = (a / a_max) * Tw; 0 is silent. */
    for (size_t j = 0; j < n->nin; j++) {
      x[j] = (float)img[j] * inv * tw;
      m[j] = img[j] ? 1.0f : 0.0f;
    }
  }
}

/* ---- im2col / col2im ---------------------------------------------------- */

/* col[r][s*P + oy*ow + ox] = in[s][c][oy+ky-pad][ox+kx-pad] (0 outside),
 * r = (c*k + ky)*k + kx, for samples s < ns. */
static void im2col(const struct tlayer *L, const float *in, size_t ns,
                   float *col) {
  size_t ld = ns * L->P;
  int k = L->k, oh = L->out_h, ow = L->out_w, ih = L->in_h, iw = L->in_w;
  for (int c = 0; c < L->in_c; c++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        size_t r = ((size_t)c * k + ky) * k + kx;
        float *dst = col + r * ld;
        for (size_t s = 0; s < ns; s++) {
          const float *src = in + s * L->nin + (size_t)c * ih * iw;
          for (int oy = 0; oy < oh; oy++) {
            int iy = oy + ky - L->pad;
            float *d = dst + s * L->P + (size_t)oy * ow;
            if (iy < 0 || iy >= ih) {
              memset(d, 0, (size_t)ow * sizeof(float));
              continue;
            }
            const float *row = src + (size_t)iy * iw;
            int x0 = kx - L->pad;
            for (int ox = 0; ox < ow; ox++) {
              int ix = ox + x0;
              d[ox] = (ix >= 0 && ix < iw) ? row[ix] : 0.0f;
            }
          }
        }
      }
}

/* out[s][c][iy][ix] = sum over the columns that read it (out zeroed here);
 * col has ld = ns*P. */
static void col2im(const struct tlayer *L, const float *col, size_t ns,
                   float *out) {
  size_t ld = ns * L->P;
  int k = L->k, oh = L->out_h, ow = L->out_w, ih = L->in_h, iw = L->in_w;
  memset(out, 0, ns * L->nin * sizeof(float));
  for (int c = 0; c < L->in_c; c++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        size_t r = ((size_t)c * k + ky) * k + kx;
        const float *srcr = col + r * ld;
        for (size_t s = 0; s < ns; s++) {
          float *dst = out + s * L->nin + (size_t)c * ih * iw;
          for (int oy = 0; oy < oh; oy++) {
            int iy = oy + ky - L->pad;
            if (iy < 0 || iy >= ih)
              continue;
            const float *sr = srcr + s * L->P + (size_t)oy * ow;
            float *row = dst + (size_t)iy * iw;
            int x0 = kx - L->pad;
            for (int ox = 0; ox < ow; ox++) {
              int ix = ox + x0;
              if (ix >= 0 && ix < iw)
                row[ix] += sr[ox];
            }
          }
        }
      }
}

/* ---- forward -------------------------------------------------------------- */

/* S = stacked input (ns samples) times W: dense or conv.  S has ns rows. */
static void layer_products(struct train_net *n, struct tlayer *L,
                           const float *in, size_t ns) {
  if (L->type == MODEL_DENSE) {
    gemm(n->naive, 0, 1, ns, L->nout, L->nin, in, L->nin, L->wq, L->nin, L->s,
         L->nout);
    return;
  }
  size_t oc = (size_t)L->out_c, P = L->P, np = ns * P;
  im2col(L, in, ns, L->col);
  L->col_n = ns;
  gemm(n->naive, 0, 0, oc, np, L->ckk, L->wq, L->ckk, L->col, np, L->tmp, np);
  for (size_t s = 0; s < ns; s++)
    for (size_t c = 0; c < oc; c++)
      memcpy(L->s + s * L->nout + c * P, L->tmp + c * np + s * P,
             P * sizeof(float));
}

/* The DFT neuron (Eq. 7 in the window frame) on b samples; fills x, the
 * mask, d = 1/(1+Sw) for in-window neurons (0 otherwise) and counters. */
static void snn_neurons(struct train_net *n, size_t li, size_t b) {
  struct tlayer *L = &n->L[li];
  const float tw = (float)n->tw, beta = n->beta;
  size_t cnt = b * L->nout, sil = 0, sat = 0;
  const float *swx = L->s, *sw = L->s + cnt;
  float *x = L->xm, *m = L->xm + cnt, *d = L->d;
  for (size_t i = 0; i < cnt; i++) {
    float a = swx[i], bsw = beta * sw[i], den = 1.0f + bsw, v = 0, f = 0;
    if (a >= tw) {
      v = tw; /* fires at the window start: no gradient */
      sat++;
    } else if (den > 0) {
      v = (a + tw * bsw) / den;
      if (v > 0 && v < tw)
        f = 1.0f / den;
      else if (v >= tw) { /* rounding at the boundary */
        v = tw;
        sat++;
      } else {
        v = 0;
        sil++;
      }
    } else {
      sil++;
    }
    x[i] = v;
    m[i] = v > 0 ? 1.0f : 0.0f;
    d[i] = f;
  }
  n->cnt_sil[li] += sil;
  n->cnt_sat[li] += sat;
}

/* clamp(0, 1) ANN neuron on Swx; d = 1 where the clamp passes gradient. */
static void ann_neurons(struct train_net *n, size_t li, size_t b) {
  struct tlayer *L = &n->L[li];
  size_t cnt = b * L->nout, sil = 0, sat = 0;
  float *x = L->xm, *m = L->xm + cnt, *d = L->d;
  for (size_t i = 0; i < cnt; i++) {
    float a = L->s[i], v = a, f = 1;
    if (a <= 0) {
      v = 0;
      f = 0;
      sil++;
    } else if (a >= 1) {
      v = 1;
      f = 0;
      sat++;
    }
    x[i] = v;
    m[i] = v > 0 ? 1.0f : 0.0f;
    d[i] = f;
  }
  n->cnt_sil[li] += sil;
  n->cnt_sat[li] += sat;
}

static void pool_forward(struct tlayer *L, const float *in, size_t b) {
  int k = L->k, oh = L->out_h, ow = L->out_w, iw = L->in_w;
  for (size_t s = 0; s < b; s++)
    for (int c = 0; c < L->out_c; c++) {
      size_t ib = s * L->nin + (size_t)c * L->in_h * iw;
      float *x = L->xm + s * L->nout + (size_t)c * oh * ow;
      int *arg = L->arg + s * L->nout + (size_t)c * oh * ow;
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          /* max on x = min on t: the earliest spike wins; ties keep the
           * first in row-major order. */
          size_t best = ib + (size_t)(oy * k) * iw + (size_t)ox * k;
          float bv = in[best];
          for (int dy = 0; dy < k; dy++)
            for (int dx = 0; dx < k; dx++) {
              size_t idx = ib + (size_t)(oy * k + dy) * iw + (size_t)(ox * k + dx);
              if (in[idx] > bv) {
                bv = in[idx];
                best = idx;
              }
            }
          x[oy * ow + ox] = bv;
          arg[oy * ow + ox] = (int)(best - s * L->nin);
        }
    }
  float *m = L->xm + b * L->nout;
  for (size_t i = 0; i < b * L->nout; i++)
    m[i] = L->xm[i] > 0 ? 1.0f : 0.0f;
}

void train_net_forward(struct train_net *n, size_t b) {
  assert(b <= n->bcap);
  const float *in = n->x0;
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    switch (L->type) {
    case MODEL_DENSE:
    case MODEL_CONV:
      if (n->mode == TRAIN_MODE_SNN) {
        layer_products(n, L, in, 2 * b);
        snn_neurons(n, i, b);
      } else {
        layer_products(n, L, in, b);
        ann_neurons(n, i, b);
      }
      break;
    case MODEL_POOL:
      pool_forward(L, in, b);
      break;
    case MODEL_FLATTEN:
      break;
    }
    in = L->xm;
  }
}

const struct tlayer *train_net_last(const struct train_net *n) {
  return &n->L[n->nl - 1];
}

const float *train_net_logits(const struct train_net *n) {
  const struct tlayer *L = train_net_last(n);
  if (n->linear_out || n->mode == TRAIN_MODE_ANN)
    return L->s;
  return L->xm;
}

int train_first_spike(const float *x, size_t n) {
  int best = -1;
  float bv = 0;
  for (size_t j = 0; j < n; j++)
    if (x[j] > bv) { /* strict: the lowest index wins a tie */
      bv = x[j];
      best = (int)j;
    }
  return best;
}

void train_net_decide(const struct train_net *n, size_t b, int *pred) {
  const struct tlayer *L = train_net_last(n);
  for (size_t i = 0; i < b; i++) {
    if (n->mode == TRAIN_MODE_ANN) {
      const float *s = L->s + i * L->nout;
      size_t best = 0;
      for (size_t j = 1; j < L->nout; j++)
        if (s[j] > s[best])
          best = j;
      pred[i] = (int)best;
    } else {
      pred[i] = train_first_spike(L->xm + i * L->nout, L->nout);
    }
  }
}

/* ---- backward ------------------------------------------------------------- */

/* Weight gradient and input gradient of a dense/conv layer from gg (rows:
 * G, then, unless linear, G*(Tw - x)).  K = nrows samples. */
static void layer_backward(struct train_net *n, struct tlayer *L,
                           const float *in, float *gin, size_t b, int linear) {
  size_t rows = linear ? b : 2 * b; /* stacked rows of gg used */
  if (L->type == MODEL_DENSE) {
    /* dW[o][i] = sum_r gg[r][o] * in[r][i]  (in = [x ; m]) */
    gemm(n->naive, 1, 0, L->nout, L->nin, rows, L->gg, L->nout, in, L->nin,
         L->gw, L->nin);
    if (gin) /* dX = G W */
      gemm(n->naive, 0, 0, b, L->nin, L->nout, L->gg, L->nout, L->wq, L->nin,
           gin, L->nin);
    return;
  }
  size_t oc = (size_t)L->out_c, P = L->P;
  size_t ncol = L->col_n * P; /* columns of col (ld) */
  /* gg (rows x oc x P) -> tmp[oc][r*P + p], same column order as col */
  size_t np = rows * P;
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < oc; c++)
      memcpy(L->tmp + c * np + r * P, L->gg + r * L->nout + c * P,
             P * sizeof(float));
  /* dW = tmp (oc x np) col^T (np x ckk); col's first np columns match the
   * rows: [x samples ; m samples] in the SNN, [x samples] in the ANN. */
  if (ncol == np) {
    gemm(n->naive, 0, 1, oc, L->ckk, np, L->tmp, np, L->col, ncol, L->gw,
         L->ckk);
  } else {
    /* col holds 2b samples but only the x half is used: pack it */
    assert(ncol > np);
    for (size_t r = 0; r < L->ckk; r++)
      memmove(L->col + r * np, L->col + r * ncol, np * sizeof(float));
    gemm(n->naive, 0, 1, oc, L->ckk, np, L->tmp, np, L->col, np, L->gw,
         L->ckk);
  }
  if (gin) {
    /* dcol (ckk x bP) = W^T tmp[:, :bP]; col is free now */
    gemm(n->naive, 1, 0, L->ckk, b * P, oc, L->wq, L->ckk, L->tmp, np, L->col,
         b * P);
    col2im(L, L->col, b, gin);
  }
}

static void pool_backward(const struct tlayer *L, float *gin, size_t b) {
  memset(gin, 0, b * L->nin * sizeof(float));
  for (size_t s = 0; s < b; s++) {
    const float *g = L->gx + s * L->nout;
    const int *arg = L->arg + s * L->nout;
    float *gi = gin + s * L->nin;
    for (size_t j = 0; j < L->nout; j++)
      gi[arg[j]] += g[j];
  }
}

/* Backward from dL/d(logits) already in the last layer's gx (or, for a
 * linear readout, taken as G directly). */
static void net_backward(struct train_net *n, size_t b) {
  const float tw = (float)n->tw;
  for (size_t i = n->nl; i-- > 0;) {
    struct tlayer *L = &n->L[i];
    const float *in = i ? n->L[i - 1].xm : n->x0;
    float *gin = i ? n->L[i - 1].gx : NULL;
    /* Gradients flow into a flatten's input through the alias. */
    if (L->type == MODEL_FLATTEN)
      continue;
    if (L->type == MODEL_POOL) {
      if (gin) /* a pool on the input itself has nothing to train before it */
        pool_backward(L, gin, b);
      continue;
    }
    int last = i == n->nl - 1;
    int linear = n->mode == TRAIN_MODE_ANN || (last && n->linear_out);
    size_t cnt = b * L->nout;
    if (last && linear) {
      memcpy(L->gg, L->gx, cnt * sizeof(float)); /* dL/dSwx */
    } else if (linear) {                         /* ANN hidden layer */
      for (size_t j = 0; j < cnt; j++)
        L->gg[j] = L->gx[j] * L->d[j];
    } else {
      /* Eqs. 9-10: dx/dw_i = (x_i + Tw - x)/(1+Sw) for fired i, and
       * dx/dx_i = w_i/(1+Sw); G = dL/dx * d with d = 1/(1+Sw) or 0.
       * With the blend beta (train-int.h): dx/dw_i = (x_i + beta*(Tw -
       * x))/(1 + beta*Sw), d = 1/(1 + beta*Sw). */
      float *g2 = L->gg + cnt;
      const float beta = n->beta;
      for (size_t j = 0; j < cnt; j++) {
        float g = L->gx[j] * L->d[j];
        L->gg[j] = g;
        g2[j] = beta * g * (tw - L->xm[j]);
      }
      /* Sw penalty: dP/dw_i = pen * Sw * m_i, i.e. the mask row of the
       * stacked GEMM; every neuron, silent or not, since Sw is a sum over
       * the inputs that fired and does not need this neuron to fire. */
      if (n->sw_penalty > 0) {
        const float pen = n->sw_penalty / (float)cnt, *sw = L->s + cnt;
        for (size_t j = 0; j < cnt; j++)
          g2[j] += pen * sw[j];
      }
      /* Silent push: dP/du = -push/cnt for a silent neuron, du/dw_i =
       * x_i + Tw*beta*m_i: both rows of the stacked GEMM. */
      if (n->silent_push > 0) {
        const float p = n->silent_push / (float)cnt, *m = L->xm + cnt;
        for (size_t j = 0; j < cnt; j++)
          if (m[j] == 0) {
            L->gg[j] -= p;
            g2[j] -= p * beta * tw;
          }
      }
    }
    /* Is there anything before this layer that wants a gradient? */
    int need_in = 0;
    for (size_t k = 0; k < i; k++)
      if (n->L[k].spiking)
        need_in = 1;
    layer_backward(n, L, in, need_in ? gin : NULL, b, linear);
  }
}

double train_net_loss(struct train_net *n, const uint8_t *labels, size_t b,
                      int backward) {
  const struct tlayer *L = train_net_last(n);
  const float *z = train_net_logits(n);
  size_t C = L->nout;
  double loss = 0;
  const float k = n->logit_scale;
  for (size_t i = 0; i < b; i++) {
    const float *zi = z + i * C;
    float *p = n->prob + i * C;
    float mx = zi[0];
    for (size_t j = 1; j < C; j++)
      mx = zi[j] > mx ? zi[j] : mx;
    double sum = 0;
    for (size_t j = 0; j < C; j++) {
      p[j] = expf(k * (zi[j] - mx));
      sum += p[j];
    }
    for (size_t j = 0; j < C; j++)
      p[j] = (float)(p[j] / sum);
    loss += -log((double)p[labels[i]] + 1e-30);
  }
  /* The regularisers on the spiking layers (SNN mode): the Sw penalty,
   * (sw_penalty/2) * mean Sw^2, and the silent push, silent_push * mean
   * over silent neurons of -(Swx + Tw*beta*Sw); one pass over the layers. */
  if ((n->sw_penalty > 0 || n->silent_push > 0) && n->mode == TRAIN_MODE_SNN) {
    double pen = 0, push = 0;
    for (size_t i = 0; i < n->nl; i++) {
      const struct tlayer *Li = &n->L[i];
      if (!Li->spiking || (i == n->nl - 1 && n->linear_out))
        continue;
      size_t cnt = b * Li->nout;
      double s2 = 0, su = 0;
      for (size_t j = 0; j < cnt; j++) {
        double sw = Li->s[cnt + j];
        s2 += sw * sw;
        if (Li->xm[cnt + j] == 0)
          su -= (double)Li->s[j] + n->tw * n->beta * sw;
      }
      pen += s2 / (double)cnt;
      push += su / (double)cnt;
    }
    /* both divided by b below */
    loss += (0.5 * n->sw_penalty * pen + n->silent_push * push) * (double)b;
  }
  if (backward) {
    struct tlayer *Lw = &n->L[n->nl - 1];
    float invb = k / (float)b;
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < C; j++)
        Lw->gx[i * C + j] =
            (n->prob[i * C + j] - (j == labels[i] ? 1.0f : 0.0f)) * invb;
    net_backward(n, b);
  }
  return loss / (double)b;
}

/* ---- optimizer and quantization ------------------------------------------ */

void train_net_adam(struct train_net *n, double lr, double wd) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  n->adam_t++;
  double c1 = 1.0 - pow(b1, (double)n->adam_t);
  double c2 = 1.0 - pow(b2, (double)n->adam_t);
  float step = (float)(lr * sqrt(c2) / c1);
  float decay = (float)(1.0 - lr * wd);
  float epsf = (float)(eps * sqrt(c2));
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (L->frozen)
      continue;
    for (size_t j = 0; j < L->nw; j++) {
      float g = L->gw[j];
      L->m1[j] = (float)b1 * L->m1[j] + (float)(1 - b1) * g;
      L->m2[j] = (float)b2 * L->m2[j] + (float)(1 - b2) * g * g;
      L->w[j] = L->w[j] * decay - step * L->m1[j] / (sqrtf(L->m2[j]) + epsf);
    }
  }
}

/* Mean squared quantization error of w at this scale (on a stride sample). */
static double quant_mse(const float *w, size_t nw, float scale, int qmin,
                        int qmax, size_t stride) {
  double e = 0;
  for (size_t j = 0; j < nw; j += stride) {
    float q = rintf(w[j] / scale);
    q = q < (float)qmin ? (float)qmin : q > (float)qmax ? (float)qmax : q;
    float d = w[j] - q * scale;
    e += (double)d * d;
  }
  return e;
}

void train_net_quantize(struct train_net *n, int bits, int keep_scale) {
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    if (!L->nw)
      continue;
    if (!bits) {
      if (L->wq != L->w)
        free(L->wq);
      L->wq = L->w;
      L->bits = 0;
      continue;
    }
    int qmax = (1 << (bits - 1)) - 1, qmin = -(1 << (bits - 1));
    if (!keep_scale || L->scale <= 0 || L->bits != bits) {
      float amax = 0;
      for (size_t j = 0; j < L->nw; j++)
        amax = fmaxf(amax, fabsf(L->w[j]));
      if (amax == 0)
        amax = 1;
      /* clipping ratio with the least squared error, on a 1-in-k sample */
      size_t stride = L->nw > 65536 ? L->nw / 65536 : 1;
      float best = train_clip_scale(amax, 0, qmax);
      double beste = quant_mse(L->w, L->nw, best, qmin, qmax, stride);
      for (int f = 1; f < TRAIN_CLIP_STEPS; f++) {
        float sc = train_clip_scale(amax, f, qmax);
        double e = quant_mse(L->w, L->nw, sc, qmin, qmax, stride);
        if (e < beste) {
          beste = e;
          best = sc;
        }
      }
      L->scale = best;
    }
    L->bits = bits;
    if (L->wq == L->w)
      L->wq = sm_xmallocarray(L->nw, sizeof(float));
    for (size_t j = 0; j < L->nw; j++) {
      float q = rintf(L->w[j] / L->scale);
      q = q < (float)qmin ? (float)qmin : q > (float)qmax ? (float)qmax : q;
      L->wq[j] = q * L->scale;
    }
  }
}
