/*
 * check_train.c -- the trainer: the DFT neuron against a time-stepped
 * reference of Eqs. 2-5, gradients against finite differences (dense,
 * conv with valid and same padding, pooling; window-start and silent
 * neurons included), learning a small separable set, the quantize /
 * export / load round trip, and bad IDX files and architecture strings.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "trainer/train-int.h"

static char tmpdir[256];

static void mk_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/check_train.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmpdir(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* ---- the neuron ------------------------------------------------------------ */

/* Reference: step time through layer 1's window with V(t) = sum_i w_i
 * max(0, t - t_i) (Eqs. 2-3) against theta(t) = 2Tw - t (Eq. 5); inputs
 * fire in window 0 at t_i = Tw - x_i, silent inputs never. */
static double ref_neuron(const double *x, const double *w, int n, double tw,
                         int steps) {
  for (int s = 0; s <= steps; s++) {
    double t = tw + tw * s / steps, v = 0;
    for (int i = 0; i < n; i++)
      if (x[i] > 0 && t > tw - x[i])
        v += w[i] * (t - (tw - x[i]));
    if (v >= 2 * tw - t)
      return 2 * tw - t; /* window-frame activation */
  }
  return 0;
}

START_TEST(test_neuron_matches_time_stepped_reference) {
  struct train_arch a;
  struct sm_err err;
  ck_assert_int_eq(train_arch_parse("7-40", 0, 0, 0, &a, &err), 0);
  struct train_net *n = train_net_new(&a, 1.0, 3);
  struct train_rng r;
  train_rng_init(&r, 11);
  for (size_t j = 0; j < n->L[0].nw; j++)
    n->L[0].w[j] = (float)(train_rng_normal(&r) * 0.6);
  train_net_reserve(n, 1);
  double x[7], w[7];
  for (int i = 0; i < 7; i++) {
    x[i] = i % 3 == 1 ? 0 : train_rng_uniform(&r);
    n->x0[i] = (float)x[i];
    n->x0[7 + i] = x[i] > 0;
  }
  train_net_forward(n, 1);
  int seen_sat = 0, seen_sil = 0, seen_in = 0;
  for (int j = 0; j < 40; j++) {
    for (int i = 0; i < 7; i++)
      w[i] = n->L[0].w[j * 7 + i];
    double ref = ref_neuron(x, w, 7, 1.0, 200000);
    double got = n->L[0].xm[j];
    ck_assert_msg(fabs(ref - got) < 1e-4, "neuron %d: %g vs reference %g", j,
                  got, ref);
    seen_sat += got == 1.0;
    seen_sil += got == 0.0;
    seen_in += got > 0 && got < 1;
  }
  ck_assert(seen_sat && seen_sil && seen_in);
  train_net_free(n);
}
END_TEST

START_TEST(test_silent_input_is_absent_from_both_sums) {
  struct train_arch a;
  struct sm_err err;
  ck_assert_int_eq(train_arch_parse("3-2", 0, 0, 0, &a, &err), 0);
  struct train_net *n = train_net_new(&a, 1.0, 1);
  float w[6] = {0.4f, 5.0f, 0.8f, 0.1f, -3.0f, 0.1f};
  memcpy(n->L[0].w, w, sizeof w);
  train_net_reserve(n, 1);
  float x[3] = {0.5f, 0.0f, 0.25f};
  for (int i = 0; i < 3; i++) {
    n->x0[i] = x[i];
    n->x0[3 + i] = x[i] > 0;
  }
  train_net_forward(n, 1);
  /* Swx = 0.4, Sw = 1.2 (the 5.0 of the silent input does not count) */
  ck_assert_float_eq_tol(n->L[0].xm[0], (0.4 + 1.2) / 2.2, 1e-6);
  /* Swx = 0.075, Sw = 0.2: x = 0.275 / 1.2 */
  ck_assert_float_eq_tol(n->L[0].xm[1], 0.275 / 1.2, 1e-6);
  train_net_free(n);
}
END_TEST

START_TEST(test_first_spike_tie_goes_to_lowest_index) {
  float a[4] = {0.2f, 0.7f, 0.7f, 0.1f};
  ck_assert_int_eq(train_first_spike(a, 4), 1);
  float b[3] = {1.0f, 1.0f, 1.0f};
  ck_assert_int_eq(train_first_spike(b, 3), 0);
  float c[3] = {0, 0, 0};
  ck_assert_int_eq(train_first_spike(c, 3), -1);
}
END_TEST

/* ---- gradients ------------------------------------------------------------- */

#define GB 6 /* samples in a gradient check */

/* Regime signature of the last forward: per spiking neuron 0 silent,
 * 1 in window, 2 window start; per pool output its argmax. */
static void signature(const struct train_net *n, size_t b, int *sig,
                      size_t *len) {
  size_t k = 0;
  for (size_t i = 0; i < n->nl; i++) {
    const struct tlayer *L = &n->L[i];
    for (size_t j = 0; j < b * L->nout; j++) {
      if (L->spiking) {
        float x = L->xm[j];
        sig[k++] = n->mode == TRAIN_MODE_ANN ? (L->s[j] <= 0 ? 0 : L->s[j] >= 1 ? 2 : 1)
                   : x == 0                  ? 0
                   : L->d[j] != 0            ? 1
                                             : 2;
      } else if (L->type == MODEL_POOL) {
        sig[k++] = 3 + L->arg[j];
      }
    }
  }
  *len = k;
}

static void check_gradients_full(const char *arch, int mode, int linear,
                                 float wscale, float shift, uint64_t seed,
                                 int need_regimes, float beta, float pen,
                                 float push) {
  struct train_arch a;
  struct sm_err err;
  ck_assert_msg(train_arch_parse(arch, 0, 0, 0, &a, &err) == 0, "%s", err.msg);
  struct train_net *n = train_net_new(&a, 1.0, seed);
  n->mode = mode;
  n->linear_out = linear;
  n->beta = beta;
  n->sw_penalty = pen;
  n->silent_push = push;
  struct train_rng r;
  train_rng_init(&r, seed + 7);
  for (size_t i = 0; i < n->nl; i++)
    for (size_t j = 0; j < n->L[i].nw; j++)
      n->L[i].w[j] = n->L[i].w[j] * wscale + shift;
  train_net_reserve(n, GB);
  for (size_t s = 0; s < GB; s++)
    for (size_t i = 0; i < n->nin; i++) {
      float x = train_rng_uniform(&r) < 0.3 ? 0 : (float)train_rng_uniform(&r);
      n->x0[s * n->nin + i] = x;
      n->x0[(GB + s) * n->nin + i] = x > 0;
    }
  uint8_t lab[GB];
  for (size_t s = 0; s < GB; s++)
    lab[s] = (uint8_t)(s % n->nclasses);
  train_net_forward(n, GB);
  size_t tot_sat = 0, tot_sil = 0;
  for (size_t i = 0; i < n->nl; i++) {
    tot_sat += n->cnt_sat[i];
    tot_sil += n->cnt_sil[i];
  }
  if (need_regimes)
    ck_assert_msg(tot_sat > 0 && tot_sil > 0,
                  "%s: the check needs window-start (%zu) and silent (%zu) "
                  "neurons",
                  arch, tot_sat, tot_sil);
  train_net_loss(n, lab, GB, 1);
  size_t maxsig = 0;
  for (size_t i = 0; i < n->nl; i++)
    maxsig += GB * n->L[i].nout;
  int *s0 = malloc(maxsig * sizeof(int)), *s1 = malloc(maxsig * sizeof(int));
  size_t l0, l1, checked = 0, zero = 0;
  signature(n, GB, s0, &l0);
  const float h = 1e-3f;
  for (size_t i = 0; i < n->nl; i++) {
    struct tlayer *L = &n->L[i];
    for (size_t j = 0; j < L->nw; j++) {
      float w0 = L->w[j], g = L->gw[j];
      L->w[j] = w0 + h;
      train_net_forward(n, GB);
      signature(n, GB, s1, &l1);
      int same = !memcmp(s0, s1, l0 * sizeof(int));
      double lp = train_net_loss(n, lab, GB, 0);
      L->w[j] = w0 - h;
      train_net_forward(n, GB);
      signature(n, GB, s1, &l1);
      same = same && !memcmp(s0, s1, l0 * sizeof(int));
      double lm = train_net_loss(n, lab, GB, 0);
      L->w[j] = w0;
      if (!same)
        continue; /* a regime boundary lies within h: not differentiable */
      double num = (lp - lm) / (2 * h);
      ck_assert_msg(fabs(num - g) <= 2e-3 + 3e-2 * fabs(num),
                    "%s: layer %zu weight %zu: backward %g, finite "
                    "difference %g",
                    arch, i, j, g, num);
      checked++;
      zero += g == 0;
    }
  }
  ck_assert_msg(checked > 20, "%s: only %zu weights checked", arch, checked);
  if (need_regimes)
    ck_assert_msg(zero > 0, "%s: no zero-gradient weight seen", arch);
  free(s0);
  free(s1);
  train_net_free(n);
}

static void check_gradients_beta(const char *arch, int mode, int linear,
                                 float wscale, float shift, uint64_t seed,
                                 int need_regimes, float beta, float pen) {
  check_gradients_full(arch, mode, linear, wscale, shift, seed, need_regimes,
                       beta, pen, 0.0f);
}

static void check_gradients(const char *arch, int mode, int linear,
                            float wscale, float shift, uint64_t seed,
                            int need_regimes) {
  check_gradients_beta(arch, mode, linear, wscale, shift, seed, need_regimes,
                       1.0f, 0.0f);
}

START_TEST(test_dense_gradients_match_finite_differences) {
  check_gradients("12-9-7-4", TRAIN_MODE_SNN, 0, 0.9f, 0.15f, 5, 1);
}
END_TEST

START_TEST(test_dense_potential_readout_gradients) {
  check_gradients("12-9-4", TRAIN_MODE_SNN, 1, 0.9f, 0.15f, 6, 1);
}
END_TEST

START_TEST(test_conv_valid_pool_gradients_match_finite_differences) {
  check_gradients("2x8x8-3C3-P2-5", TRAIN_MODE_SNN, 0, 0.8f, 0.1f, 8, 1);
}
END_TEST

START_TEST(test_conv_same_padding_gradients_match_finite_differences) {
  check_gradients("1x5x5-3C3s-2C3-4", TRAIN_MODE_SNN, 0, 0.7f, 0.1f, 9, 1);
}
END_TEST

START_TEST(test_ann_gradients_match_finite_differences) {
  check_gradients("1x6x6-3C3-P2-F-6-4", TRAIN_MODE_ANN, 1, 1.0f, 0.0f, 10, 0);
}
END_TEST

START_TEST(test_handover_blend_gradients_match_finite_differences) {
  check_gradients_beta("12-9-7-4", TRAIN_MODE_SNN, 0, 0.9f, 0.15f, 5, 1,
                       0.4f, 0.0f);
  check_gradients_beta("2x8x8-3C3-P2-5", TRAIN_MODE_SNN, 0, 0.8f, 0.1f, 8, 1,
                       0.7f, 0.0f);
}
END_TEST

/* The Sw penalty is part of the loss, so its gradient (silent neurons
 * included) must match finite differences too. */
START_TEST(test_sw_penalty_gradients_match_finite_differences) {
  check_gradients_beta("12-9-7-4", TRAIN_MODE_SNN, 0, 0.9f, 0.15f, 5, 1,
                       1.0f, 0.5f);
  check_gradients_beta("2x8x8-3C3-P2-5", TRAIN_MODE_SNN, 0, 0.8f, 0.1f, 8, 0,
                       0.5f, 2.0f);
}
END_TEST

/* So is the silent push (a linear term over the silent set), with the
 * blend and the Sw penalty on as well. */
START_TEST(test_silent_push_gradients_match_finite_differences) {
  check_gradients_full("12-9-7-4", TRAIN_MODE_SNN, 0, 0.9f, 0.15f, 5, 1,
                       1.0f, 0.0f, 0.7f);
  check_gradients_full("2x8x8-3C3-P2-5", TRAIN_MODE_SNN, 0, 0.8f, 0.1f, 8, 0,
                       0.6f, 0.5f, 1.5f);
}
END_TEST

/* With beta = 0 the spiking forward is the clamp(0, Tw) ANN on the same
 * weights: the handover ramp starts exactly where the ANN stage ended. */
START_TEST(test_blend_zero_is_the_ann) {
  struct train_arch a;
  struct sm_err err;
  ck_assert(train_arch_parse("1x6x6-3C3-P2-F-6-4", 0, 0, 0, &a, &err) == 0);
  struct train_net *n = train_net_new(&a, 1.0, 12);
  struct train_rng r;
  train_rng_init(&r, 13);
  train_net_reserve(n, GB);
  for (size_t s = 0; s < GB; s++)
    for (size_t i = 0; i < n->nin; i++) {
      float x = train_rng_uniform(&r) < 0.3 ? 0 : (float)train_rng_uniform(&r);
      n->x0[s * n->nin + i] = x;
      n->x0[(GB + s) * n->nin + i] = x > 0;
    }
  /* every layer's x for GB samples: 6x6 -> 3x4x4 -> 3x2x2 -> 12 -> 6 -> 4 */
  float ann[GB * 128];
  size_t off = 0;
  n->mode = TRAIN_MODE_ANN;
  train_net_forward(n, GB);
  for (size_t i = 0; i < n->nl; i++) {
    ck_assert(off + GB * n->L[i].nout <= SM_ARRAY_LEN(ann));
    memcpy(ann + off, n->L[i].xm, GB * n->L[i].nout * sizeof(float));
    off += GB * n->L[i].nout;
  }
  n->mode = TRAIN_MODE_SNN;
  n->beta = 0;
  train_net_forward(n, GB);
  size_t inwin = 0;
  off = 0;
  for (size_t i = 0; i < n->nl; i++)
    for (size_t j = 0; j < GB * n->L[i].nout; j++, off++) {
      ck_assert_float_eq_tol(n->L[i].xm[j], ann[off], 1e-6);
      inwin += n->L[i].spiking && ann[off] > 0 && ann[off] < 1;
    }
  ck_assert_msg(inwin > 10, "only %zu neurons inside their window", inwin);
  train_net_free(n);
}
END_TEST

/* ---- IDX files and a synthetic data set ------------------------------------ */

static void write_file(const char *path, const void *buf, size_t n, int gz) {
  if (gz) {
    gzFile f = gzopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, buf, (unsigned)n), (int)n);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
  }
}

/* An IDX image (3-D) or label (1-D) file. */
static void write_idx(const char *path, int ndims, const uint32_t *dims,
                      const uint8_t *data, int gz) {
  size_t size = 1;
  for (int i = 0; i < ndims; i++)
    size *= dims[i];
  uint8_t *buf = malloc(4 + 4 * (size_t)ndims + size);
  buf[0] = buf[1] = 0;
  buf[2] = 8;
  buf[3] = (uint8_t)ndims;
  for (int i = 0; i < ndims; i++) {
    buf[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
    buf[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
    buf[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
    buf[7 + 4 * i] = (uint8_t)dims[i];
  }
  memcpy(buf + 4 + 4 * ndims, data, size);
  write_file(path, buf, 4 + 4 * (size_t)ndims + size, gz);
  free(buf);
}

/* 4 classes on 8x8 images: class k lights quadrant k, with noise. */
static void write_synthetic(const char *dir, const char *pre, size_t n,
                            uint64_t seed, int gz) {
  struct train_rng r;
  train_rng_init(&r, seed);
  uint8_t *img = calloc(n * 64, 1), *lab = malloc(n);
  for (size_t s = 0; s < n; s++) {
    int k = (int)(s % 4);
    lab[s] = (uint8_t)k;
    for (int y = 0; y < 8; y++)
      for (int x = 0; x < 8; x++) {
        int q = (y >= 4) * 2 + (x >= 4);
        double v = (q == k ? 150 : 0) + 100 * train_rng_uniform(&r);
        img[s * 64 + y * 8 + x] = train_rng_uniform(&r) < 0.2 ? 0 : (uint8_t)v;
      }
  }
  char p[512];
  uint32_t d3[3] = {(uint32_t)n, 8, 8}, d1[1] = {(uint32_t)n};
  snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte%s", dir, pre, gz ? ".gz" : "");
  write_idx(p, 3, d3, img, gz);
  snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte%s", dir, pre, gz ? ".gz" : "");
  write_idx(p, 1, d1, lab, gz);
  free(img);
  free(lab);
}

/* A fresh tmpdir with the synthetic set: ntrain training images (gzipped
 * if gz) and ntest test images. */
static void synth_dir(size_t ntrain, size_t ntest, int gz) {
  mk_tmpdir();
  write_synthetic(tmpdir, "train", ntrain, 1, gz);
  write_synthetic(tmpdir, "t10k", ntest, 2, 0);
}

static void synth_conf(struct train_conf *c) {
  struct sm_conf cf;
  struct sm_err err;
  sm_conf_init(&cf);
  sm_conf_add(&cf, train_conf_opts, train_conf_nopts, c);
  ck_assert_int_eq(sm_conf_defaults(&cf, &err), 0);
  snprintf(c->data, sizeof c->data, "%s", tmpdir);
  snprintf(c->out, sizeof c->out, "%s/model.json", tmpdir);
  snprintf(c->arch, sizeof c->arch, "8x8-24-4");
  c->ann_epochs = 4;
  c->epochs = 10;
  c->qat_epochs = 2;
  c->batch = 32;
  c->lr = 1e-3;
  c->readout = TRAIN_READOUT_TIME;
  c->threads = 1;
  c->quiet = getenv("CHECK_TRAIN_LOG") == NULL;
}

/* A small synthetic set and one epoch per stage, for tests of what a run
 * records or exports rather than of what it learns. */
static void short_run(struct train_conf *c) {
  synth_dir(300, 100, 0);
  synth_conf(c);
  c->ann_epochs = c->epochs = 1;
}

START_TEST(test_learns_separable_set) {
  synth_dir(1200, 400, 1);
  struct train_conf c;
  synth_conf(&c);
  struct train_result res;
  struct sm_err err = {0};
  ck_assert_msg(train_run(&c, "check", getenv("CHECK_TRAIN_LOG") ? stderr : NULL, &res, &err) == 0, "%s", err.msg);
  ck_assert_msg(res.float_acc >= 0.95, "float accuracy %g", res.float_acc);
  ck_assert_msg(res.quant_acc >= 0.95, "4-bit accuracy %g", res.quant_acc);
  /* the exported file loads and gives the accuracy it claims */
  struct model *m;
  ck_assert_int_eq(model_load(c.out, &m, &err), 0);
  ck_assert_int_eq(m->layers[1].bits, 4); /* layer 0: the flatten */
  json_t *aq = json_object_get(m->metadata, "accuracy_quant");
  ck_assert(json_is_number(aq));
  ck_assert_double_eq_tol(json_number_value(aq), res.quant_acc, 1e-9);
  struct train_data te;
  ck_assert_int_eq(train_data_load_dir(tmpdir, 1, &te, &err), 0);
  struct train_eval ev;
  ck_assert_int_eq(train_eval_model(m, &te, &ev, &err), 0);
  ck_assert_double_eq_tol(ev.accuracy, res.quant_acc, 1e-12);
  train_data_free(&te);
  model_free(m);
  rm_tmpdir();
}
END_TEST

START_TEST(test_augment_shifts_and_mirrors) {
  /* 2 channels of 3 x 4, pixel value = 10*c + 4*y + x + 1 (never 0) */
  uint8_t src[24], dst[24];
  for (int i = 0; i < 24; i++)
    src[i] = (uint8_t)((i / 12) * 10 + i % 12 + 1);
  train_augment(src, dst, 2, 3, 4, 0, 0, 0);
  ck_assert_mem_eq(src, dst, 24);
  train_augment(src, dst, 2, 3, 4, 1, -1, 0); /* right 1, up 1 */
  for (int c = 0; c < 2; c++)
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++) {
        int sy = y + 1, sx = x - 1;
        int want = sy < 3 && sx >= 0 ? src[c * 12 + sy * 4 + sx] : 0;
        ck_assert_int_eq(dst[c * 12 + y * 4 + x], want);
      }
  train_augment(src, dst, 2, 3, 4, 0, 0, 1); /* mirror */
  for (int c = 0; c < 2; c++)
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++)
        ck_assert_int_eq(dst[c * 12 + y * 4 + x], src[c * 12 + y * 4 + 3 - x]);
  train_augment(src, dst, 2, 3, 4, 4, 0, 0); /* all out */
  for (int i = 0; i < 24; i++)
    ck_assert_int_eq(dst[i], 0);
}
END_TEST

START_TEST(test_augmented_training_learns_and_is_deterministic) {
  synth_dir(1200, 400, 1);
  struct train_conf c;
  synth_conf(&c);
  c.shift = 1; /* the quadrants are 4 pixels wide: still separable */
  struct train_result r1, r2;
  struct sm_err err = {0};
  ck_assert_msg(train_run(&c, "check", NULL, &r1, &err) == 0, "%s", err.msg);
  ck_assert_msg(r1.quant_acc >= 0.9, "4-bit accuracy %g", r1.quant_acc);
  /* mirroring swaps quadrants 0 <-> 1 and 2 <-> 3 half of the time: the
   * training labels stop being learnable, which shows it is applied */
  c.flip = 1;
  ck_assert_int_eq(train_run(&c, "check", NULL, &r1, &err), 0);
  ck_assert_msg(r1.quant_acc < 0.8, "4-bit accuracy %g with mirroring",
                r1.quant_acc);
  c.ann_epochs = c.epochs = c.qat_epochs = 1;
  ck_assert_int_eq(train_run(&c, "check", NULL, &r1, &err), 0);
  ck_assert_int_eq(train_run(&c, "check", NULL, &r2, &err), 0);
  ck_assert_double_eq(r1.float_acc, r2.float_acc);
  ck_assert_double_eq(r1.quant_acc, r2.quant_acc);
  rm_tmpdir();
}
END_TEST

/* The scale search keeps the squared-error scale when nothing beats it, so
 * its calibration loss can only go down. */
START_TEST(test_scale_search_never_raises_the_loss) {
  synth_dir(400, 100, 0);
  struct train_data tr;
  struct sm_err err = {0};
  ck_assert_int_eq(train_data_load_dir(tmpdir, 0, &tr, &err), 0);
  struct train_conf c;
  synth_conf(&c);
  c.calib = 300;
  c.bits = 0; /* a trained float SNN to quantize */
  c.qat_epochs = 0;
  struct train_result r;
  ck_assert_msg(train_run(&c, "check", NULL, &r, &err) == 0, "%s", err.msg);
  struct model *m;
  ck_assert_int_eq(model_load(c.out, &m, &err), 0);
  int moved = 0;
  for (int bits = 2; bits <= 4; bits++) {
    struct train_net *n = train_net_from_model(m);
    n->mode = TRAIN_MODE_SNN;
    n->logit_scale = 8;
    double before = -1, after = -1;
    train_search_scales(n, bits, &tr, &c, NULL, &before, &after);
    ck_assert_msg(before > 0 && after <= before,
                  "%d bits: loss %g with squared-error scales, %g searched",
                  bits, before, after);
    moved |= after < before;
    train_net_free(n);
  }
  ck_assert_msg(moved, "the search never found a better scale");
  model_free(m);
  train_data_free(&tr);
  rm_tmpdir();
}
END_TEST

/* QAT with every layer frozen and the squared-error scale fixed at the
 * stage start exports exactly what no QAT exports. */
START_TEST(test_qat_freeze_keeps_the_weights) {
  struct train_conf c;
  short_run(&c);
  struct train_result r;
  struct sm_err err = {0};
  struct model *m[3];
  for (int k = 0; k < 3; k++) {
    c.qat_epochs = k ? 2 : 0;
    c.qat_scale = TRAIN_QSCALE_FIXED;
    c.qat_freeze = k == 1 ? 2 : 0;
    snprintf(c.out, sizeof c.out, "%s/m%d.json", tmpdir, k);
    ck_assert_msg(train_run(&c, "check", NULL, &r, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(model_load(c.out, &m[k], &err), 0);
  }
  int differs = 0;
  for (size_t i = 0; i < m[0]->nlayers; i++)
    if (m[0]->layers[i].nweights) {
      ck_assert_float_eq(m[0]->layers[i].scale, m[1]->layers[i].scale);
      ck_assert_mem_eq(m[0]->layers[i].q, m[1]->layers[i].q,
                       m[0]->layers[i].nweights);
      differs |= memcmp(m[0]->layers[i].q, m[2]->layers[i].q,
                        m[0]->layers[i].nweights) != 0;
    }
  ck_assert_msg(differs, "QAT without freezing changed nothing");
  for (int k = 0; k < 3; k++)
    model_free(m[k]);
  rm_tmpdir();
}
END_TEST

/* A run from train.init records the file and how that file was made. */
START_TEST(test_init_run_keeps_the_first_command) {
  struct train_conf c;
  short_run(&c);
  c.bits = 0;
  struct train_result r;
  struct sm_err err = {0};
  char first[300];
  snprintf(first, sizeof first, "%s/float.json", tmpdir);
  snprintf(c.out, sizeof c.out, "%s", first);
  ck_assert_int_eq(train_run(&c, "spikemesh train first", NULL, &r, &err), 0);
  snprintf(c.init, sizeof c.init, "%s", first);
  snprintf(c.out, sizeof c.out, "%s/q.json", tmpdir);
  c.bits = 4;
  c.epochs = 0;
  c.qat_epochs = 1;
  ck_assert_int_eq(train_run(&c, "spikemesh train second", NULL, &r, &err), 0);
  struct model *m;
  ck_assert_int_eq(model_load(c.out, &m, &err), 0);
  json_t *from = json_object_get(m->metadata, "init");
  ck_assert_ptr_nonnull(from);
  ck_assert_str_eq(json_string_value(json_object_get(from, "file")), first);
  ck_assert_str_eq(json_string_value(json_object_get(from, "command")),
                   "spikemesh train first");
  ck_assert_str_eq(json_string_value(json_object_get(m->metadata, "command")),
                   "spikemesh train second");
  model_free(m);
  rm_tmpdir();
}
END_TEST

START_TEST(test_training_is_deterministic) {
  struct train_conf c;
  short_run(&c);
  c.qat_epochs = 1;
  struct train_result r1, r2;
  struct sm_err err = {0};
  char p1[300], p2[300];
  snprintf(p1, sizeof p1, "%s/a.json", tmpdir);
  snprintf(p2, sizeof p2, "%s/b.json", tmpdir);
  snprintf(c.out, sizeof c.out, "%s", p1);
  ck_assert_int_eq(train_run(&c, "check", NULL, &r1, &err), 0);
  snprintf(c.out, sizeof c.out, "%s", p2);
  ck_assert_int_eq(train_run(&c, "check", NULL, &r2, &err), 0);
  struct model *a, *b;
  ck_assert_int_eq(model_load(p1, &a, &err), 0);
  ck_assert_int_eq(model_load(p2, &b, &err), 0);
  for (size_t i = 0; i < a->nlayers; i++)
    if (a->layers[i].nweights) {
      ck_assert_float_eq(a->layers[i].scale, b->layers[i].scale);
      ck_assert_mem_eq(a->layers[i].q, b->layers[i].q, a->layers[i].nweights);
    }
  model_free(a);
  model_free(b);
  rm_tmpdir();
}
END_TEST

/* ---- export / load round trip -------------------------------------------- */

static void round_trip(int bits) {
  mk_tmpdir();
  struct train_arch a;
  struct sm_err err = {0};
  ck_assert_int_eq(
      train_arch_parse("1x12x12-4C3s-P2-6C3-P2-F-16-10", 1, 12, 12, &a, &err),
      0);
  struct train_net *n = train_net_new(&a, 1.0, 21);
  n->mode = TRAIN_MODE_SNN;
  train_net_quantize(n, bits, 0);
  struct model *m = train_net_to_model(n, "1x12x12-4C3s-P2-6C3-P2-F-16-10",
                                       bits, 255.0, TRAIN_READOUT_TIME);
  char path[600];
  snprintf(path, sizeof path, "%s/rt.json", tmpdir);
  ck_assert_msg(model_save(m, path, &err) == 0, "%s", err.msg);
  struct model *back;
  ck_assert_msg(model_load(path, &back, &err) == 0, "%s", err.msg);
  struct train_rng r;
  train_rng_init(&r, 3);
  uint8_t img[144];
  for (int k = 0; k < 144; k++)
    img[k] = train_rng_uniform(&r) < 0.3 ? 0 : (uint8_t)(train_rng_next(&r) & 255);
  /* trainer's own forward on the quantized weights */
  train_net_reserve(n, 1);
  const uint8_t *imgs[1] = {img};
  train_net_load_input(n, imgs, 1, 255.0);
  train_net_forward(n, 1);
  int p0;
  train_net_decide(n, 1, &p0);
  /* reference inference on the loaded file */
  size_t ns = model_spiking_layers(back);
  ck_assert_uint_eq(ns, 4);
  float *xs[4];
  size_t s = 0;
  for (size_t i = 0; i < back->nlayers; i++)
    if (back->layers[i].type == MODEL_DENSE || back->layers[i].type == MODEL_CONV)
      xs[s++] = calloc(model_layer_neurons(&back->layers[i]), sizeof(float));
  int p1;
  ck_assert_int_eq(train_model_forward(back, img, xs, &p1, &err), 0);
  ck_assert_int_eq(p0, p1);
  s = 0;
  size_t active = 0;
  for (size_t i = 0; i < n->nl; i++) {
    if (!n->L[i].spiking)
      continue;
    ck_assert_mem_eq(xs[s], n->L[i].xm, n->L[i].nout * sizeof(float));
    for (size_t j = 0; j < n->L[i].nout; j++)
      active += xs[s][j] > 0;
    free(xs[s]);
    s++;
  }
  ck_assert_uint_gt(active, 0);
  for (size_t i = 0; i < back->nlayers; i++) {
    ck_assert_int_eq(back->layers[i].type, m->layers[i].type);
    ck_assert_int_eq(back->layers[i].out_c, m->layers[i].out_c);
    if (m->layers[i].nweights)
      ck_assert_mem_eq(back->layers[i].w, m->layers[i].w,
                       m->layers[i].nweights * sizeof(float));
  }
  model_free(m);
  model_free(back);
  train_net_free(n);
  rm_tmpdir();
}

START_TEST(test_quantized_export_load_round_trip_is_exact) { round_trip(4); }
END_TEST
START_TEST(test_int8_export_load_round_trip_is_exact) { round_trip(6); }
END_TEST
START_TEST(test_float_export_load_round_trip_is_exact) { round_trip(0); }
END_TEST

START_TEST(test_quantized_weights_lie_in_range) {
  struct train_arch a;
  struct sm_err err;
  ck_assert_int_eq(train_arch_parse("30-20-5", 0, 0, 0, &a, &err), 0);
  for (int bits = 2; bits <= 8; bits++) {
    struct train_net *n = train_net_new(&a, 1.0, (uint64_t)bits);
    train_net_quantize(n, bits, 0);
    struct model *m = train_net_to_model(n, "30-20-5", bits, 255, 0);
    for (size_t i = 0; i < m->nlayers; i++)
      for (size_t j = 0; j < m->layers[i].nweights; j++) {
        ck_assert_int_ge(m->layers[i].q[j], -(1 << (bits - 1)));
        ck_assert_int_le(m->layers[i].q[j], (1 << (bits - 1)) - 1);
        ck_assert_float_eq(n->L[i].wq[j], m->layers[i].w[j]);
      }
    model_free(m);
    train_net_free(n);
  }
}
END_TEST

/* ---- bad input ------------------------------------------------------------- */

static void expect_idx_error(const char *path, const char *needle) {
  struct train_idx idx;
  struct sm_err err = {0};
  ck_assert_int_ne(train_idx_load(path, &idx, &err), 0);
  ck_assert_msg(strstr(err.msg, path) != NULL, "message does not name the file: %s",
                err.msg);
  ck_assert_msg(strstr(err.msg, needle) != NULL, "expected '%s' in: %s", needle,
                err.msg);
  ck_assert_ptr_null(idx.data);
}

START_TEST(test_bad_idx_files_name_file_and_fault) {
  mk_tmpdir();
  char p[600];
  uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  uint32_t d3[3] = {3, 2, 2};
  snprintf(p, sizeof p, "%s/good", tmpdir);
  write_idx(p, 3, d3, data, 0);
  struct train_idx idx;
  struct sm_err err;
  ck_assert_int_eq(train_idx_load(p, &idx, &err), 0);
  ck_assert_uint_eq(idx.size, 12);
  ck_assert_uint_eq(idx.dims[0], 3);
  train_idx_free(&idx);

  uint8_t magic[8] = {0x12, 0x34, 8, 1, 0, 0, 0, 1};
  snprintf(p, sizeof p, "%s/magic", tmpdir);
  write_file(p, magic, 8, 0);
  expect_idx_error(p, "bad magic");

  uint8_t type[9] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0};
  snprintf(p, sizeof p, "%s/type", tmpdir);
  write_file(p, type, 9, 0);
  expect_idx_error(p, "data type 0x0d");

  uint8_t nd[8] = {0, 0, 8, 9, 0, 0, 0, 1};
  snprintf(p, sizeof p, "%s/ndims", tmpdir);
  write_file(p, nd, 8, 1);
  expect_idx_error(p, "9 dimensions");

  uint8_t zero[12] = {0, 0, 8, 2, 0, 0, 0, 4, 0, 0, 0, 0};
  snprintf(p, sizeof p, "%s/zero", tmpdir);
  write_file(p, zero, 12, 0);
  expect_idx_error(p, "dimension 1 is 0");

  uint8_t shorthdr[6] = {0, 0, 8, 2, 0, 0};
  snprintf(p, sizeof p, "%s/shorthdr", tmpdir);
  write_file(p, shorthdr, 6, 0);
  expect_idx_error(p, "truncated header");

  uint8_t trunc[4 + 12 + 5] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  snprintf(p, sizeof p, "%s/trunc.gz", tmpdir);
  write_file(p, trunc, sizeof trunc, 1);
  expect_idx_error(p, "truncated");
  expect_idx_error(p, "12 data bytes");

  uint8_t extra[4 + 4 + 3] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3};
  snprintf(p, sizeof p, "%s/extra", tmpdir);
  write_file(p, extra, sizeof extra, 0);
  expect_idx_error(p, "trailing bytes");

  /* a gzip stream with its body damaged */
  snprintf(p, sizeof p, "%s/good.gz", tmpdir);
  uint8_t big[4 + 12 + 4000];
  uint32_t d3b[3] = {1000, 2, 2};
  for (size_t i = 0; i < 4000; i++)
    big[i] = (uint8_t)(i * 7);
  write_idx(p, 3, d3b, big, 1);
  FILE *f = fopen(p, "r+b");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, len / 2, SEEK_SET);
  for (int i = 0; i < 16; i++)
    fputc(0xA5 ^ i, f);
  fclose(f);
  expect_idx_error(p, "");

  snprintf(p, sizeof p, "%s/missing", tmpdir);
  ck_assert_int_eq(train_idx_load(p, &idx, &err), SM_ENOENT);
  ck_assert(strstr(err.msg, p) != NULL);

  /* images and labels that disagree */
  char im[600], lb[600];
  snprintf(im, sizeof im, "%s/im", tmpdir);
  snprintf(lb, sizeof lb, "%s/lb", tmpdir);
  write_idx(im, 3, d3, data, 0);
  uint32_t d1[1] = {4};
  write_idx(lb, 1, d1, data, 0);
  struct train_data d;
  ck_assert_int_ne(train_data_load(im, lb, &d, &err), 0);
  ck_assert_msg(strstr(err.msg, "4 labels") && strstr(err.msg, "3 images"),
                "%s", err.msg);
  /* labels given as images */
  ck_assert_int_ne(train_data_load(im, im, &d, &err), 0);
  ck_assert_msg(strstr(err.msg, "labels need 1 dimension"), "%s", err.msg);
  ck_assert_int_ne(train_data_load(lb, lb, &d, &err), 0);
  ck_assert_msg(strstr(err.msg, "images need 3"), "%s", err.msg);
  rm_tmpdir();
}
END_TEST

static void expect_arch_error(const char *s, int c, int h, int w,
                              const char *needle) {
  struct train_arch a;
  struct sm_err err = {0};
  ck_assert_msg(train_arch_parse(s, c, h, w, &a, &err) != 0, "'%s' accepted",
                s);
  ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s': expected '%s' in: %s",
                s, needle, err.msg);
}

START_TEST(test_bad_architecture_strings_are_explained) {
  expect_arch_error("", 0, 0, 0, "empty");
  expect_arch_error("784--10", 0, 0, 0, "empty token");
  expect_arch_error("784-10-", 0, 0, 0, "empty token");
  expect_arch_error("abc-10", 0, 0, 0, "input token 'abc'");
  expect_arch_error("784-12Q-10", 0, 0, 0, "token 1 '12Q'");
  expect_arch_error("784-16C5-10", 0, 0, 0, "convolution needs a 2-D map");
  expect_arch_error("784-P2-10", 0, 0, 0, "pooling needs a 2-D map");
  expect_arch_error("28x28-16C5-P5-10", 0, 0, 0, "does not divide the 24x24");
  expect_arch_error("28x28-16C30-10", 0, 0, 0, "larger than the 28x28 map");
  expect_arch_error("28x28-16C4s-10", 0, 0, 0, "odd kernel");
  expect_arch_error("784-800-1", 0, 0, 0, ">= 2 neurons");
  expect_arch_error("784", 0, 0, 0, "no layers");
  expect_arch_error("784-800-P2", 0, 0, 0, "pooling needs a 2-D map");
  expect_arch_error("28x28-16C5-P2", 0, 0, 0, "last layer must be dense or conv");
  expect_arch_error("100-10", 1, 28, 28, "the data's images have 784");
  expect_arch_error("32x32-10", 1, 28, 28, "data's images are 1x28x28");
  expect_arch_error("784-99999999-10", 0, 0, 0, "token 1");
  struct train_arch a;
  struct sm_err err;
  ck_assert_int_eq(train_arch_parse("28x28-16C5-P2-32C5-P2-800-128-10", 1, 28,
                                    28, &a, &err),
                   0);
  ck_assert_uint_eq(a.nlayers, 8); /* flatten inserted before 800 */
  ck_assert_int_eq(a.layers[4].type, MODEL_FLATTEN);
  ck_assert_int_eq(a.layers[4].out_c, 512);
  ck_assert_uint_eq(a.layers[5].nweights, 800 * 512);
  ck_assert_int_eq(train_arch_parse("3x8x8-4C3s-P2-F-10", 0, 0, 0, &a, &err), 0);
  ck_assert_int_eq(a.layers[0].out_h, 8);
  ck_assert_int_eq(a.layers[0].pad, 1);
}
END_TEST

/* Stack bytes left non-zero, so that a local read before it is set is
 * garbage rather than a lucky 0 (valgrind reports such a read too). */
static __attribute__((noinline)) void dirty_stack(void) {
  volatile unsigned char junk[1 << 16];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = 0xA5;
}

/* Train and test images of other shapes: refused before anything is
 * built, naming both shapes (the cleanup once freed a pointer that was
 * never set). */
START_TEST(test_test_images_of_another_shape_are_refused) {
  mk_tmpdir();
  write_synthetic(tmpdir, "train", 40, 1, 0);
  uint8_t img[10 * 8 * 9] = {0}, lab[10] = {0};
  uint32_t d3[3] = {10, 8, 9}, d1[1] = {10};
  char p[600];
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", tmpdir);
  write_idx(p, 3, d3, img, 0);
  snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", tmpdir);
  write_idx(p, 1, d1, lab, 0);
  /* an image side beyond TRAIN_MAX_IMAGE_DIM (once cast to a negative int) */
  uint8_t *wide = calloc(70000, 1);
  uint32_t dw[3] = {1, 1, 70000}, dl[1] = {1};
  char pi[600], pl[600];
  snprintf(pi, sizeof pi, "%s/wide-images", tmpdir);
  snprintf(pl, sizeof pl, "%s/wide-labels", tmpdir);
  write_idx(pi, 3, dw, wide, 0);
  write_idx(pl, 1, dl, wide, 0);
  free(wide);
  struct train_data d;
  struct sm_err e2 = {0};
  ck_assert_int_eq(train_data_load(pi, pl, &d, &e2), SM_ELIMIT);
  ck_assert_msg(strstr(e2.msg, "dimension 2 is 70000"), "%s", e2.msg);
  struct train_conf c;
  synth_conf(&c);
  struct train_result r;
  struct sm_err err = {0};
  dirty_stack();
  ck_assert_int_eq(train_run(&c, "check", NULL, &r, &err), SM_EFORMAT);
  ck_assert_msg(strstr(err.msg, "test images are 1x8x9"), "%s", err.msg);
  rm_tmpdir();
}
END_TEST

/* A pool layer must follow a dense or conv layer (the cores fuse it into
 * that layer): a pool first, or two in a row, is refused as the mapper
 * would refuse the model.  The network itself still runs a pool that has
 * nothing to train before it (no input gradient is needed). */
START_TEST(test_pool_without_a_layer_before_it) {
  expect_arch_error("8x8-P2-10", 0, 0, 0, "pool");
  expect_arch_error("8x8-P2-10", 0, 0, 0, "must follow a dense or conv");
  expect_arch_error("8x8-4C3s-P2-P2-10", 0, 0, 0, "must follow a dense or conv");
  struct train_arch a;
  struct sm_err err;
  ck_assert_int_eq(train_arch_parse("8x8-4C3s-P2-10", 0, 0, 0, &a, &err), 0);
  /* by hand: pool first, then flatten and dense */
  memset(&a, 0, sizeof a);
  a.in_c = 1;
  a.in_h = a.in_w = 8;
  a.nlayers = 3;
  a.layers[0] = (struct model_layer){.type = MODEL_POOL, .in_c = 1, .in_h = 8,
                                     .in_w = 8, .out_c = 1, .out_h = 4,
                                     .out_w = 4, .kernel = 2, .stride = 2};
  a.layers[1] = (struct model_layer){.type = MODEL_FLATTEN, .in_c = 1,
                                     .in_h = 4, .in_w = 4, .out_c = 16,
                                     .out_h = 1, .out_w = 1};
  a.layers[2] = (struct model_layer){.type = MODEL_DENSE, .in_c = 16,
                                     .in_h = 1, .in_w = 1, .out_c = 10,
                                     .out_h = 1, .out_w = 1, .nweights = 160};
  struct train_net *n = train_net_new(&a, 1.0, 5);
  n->mode = TRAIN_MODE_ANN;
  train_net_reserve(n, 4);
  uint8_t img[4][64];
  const uint8_t *imgs[4];
  for (int s = 0; s < 4; s++) {
    for (int i = 0; i < 64; i++)
      img[s][i] = (uint8_t)((s * 64 + i) * 37 % 251);
    imgs[s] = img[s];
  }
  uint8_t lab[4] = {0, 1, 2, 3};
  train_net_load_input(n, imgs, 4, 255.0);
  train_net_forward(n, 4);
  double loss = train_net_loss(n, lab, 4, 1);
  ck_assert(isfinite(loss));
  double g = 0;
  for (size_t j = 0; j < n->L[2].nw; j++)
    g += fabs(n->L[2].gw[j]);
  ck_assert(g > 0);
  train_net_free(n);
}
END_TEST

/* Layer sizes are products of user numbers: computed in 64 bits and held
 * to MODEL_MAX_NEURONS, never wrapped (1024 x 2048 x 2048 is 2^32, which
 * once wrapped to a 0-input dense layer after the flatten). */
START_TEST(test_layer_sizes_do_not_wrap) {
  expect_arch_error("2048x2048-1024C1-10", 0, 0, 0, "neurons");
  expect_arch_error("2048x2048-1024C1-F-10", 0, 0, 0, "exceed");
  expect_arch_error("1000x1000-99999C3s-10", 0, 0, 0, "neurons");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("train");
  TCase *t = tcase_create("neuron");
  tcase_add_test(t, test_neuron_matches_time_stepped_reference);
  tcase_add_test(t, test_silent_input_is_absent_from_both_sums);
  tcase_add_test(t, test_first_spike_tie_goes_to_lowest_index);
  suite_add_tcase(s, t);
  t = tcase_create("gradients");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_dense_gradients_match_finite_differences);
  tcase_add_test(t, test_dense_potential_readout_gradients);
  tcase_add_test(t, test_conv_valid_pool_gradients_match_finite_differences);
  tcase_add_test(t, test_conv_same_padding_gradients_match_finite_differences);
  tcase_add_test(t, test_ann_gradients_match_finite_differences);
  tcase_add_test(t, test_handover_blend_gradients_match_finite_differences);
  tcase_add_test(t, test_blend_zero_is_the_ann);
  tcase_add_test(t, test_sw_penalty_gradients_match_finite_differences);
  tcase_add_test(t, test_silent_push_gradients_match_finite_differences);
  suite_add_tcase(s, t);
  t = tcase_create("training");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, test_learns_separable_set);
  tcase_add_test(t, test_training_is_deterministic);
  tcase_add_test(t, test_augment_shifts_and_mirrors);
  tcase_add_test(t, test_scale_search_never_raises_the_loss);
  tcase_add_test(t, test_qat_freeze_keeps_the_weights);
  tcase_add_test(t, test_init_run_keeps_the_first_command);
  tcase_add_test(t, test_augmented_training_learns_and_is_deterministic);
  suite_add_tcase(s, t);
  t = tcase_create("export");
  tcase_add_test(t, test_quantized_export_load_round_trip_is_exact);
  tcase_add_test(t, test_int8_export_load_round_trip_is_exact);
  tcase_add_test(t, test_float_export_load_round_trip_is_exact);
  tcase_add_test(t, test_quantized_weights_lie_in_range);
  suite_add_tcase(s, t);
  t = tcase_create("bad input");
  tcase_add_test(t, test_bad_idx_files_name_file_and_fault);
  tcase_add_test(t, test_bad_architecture_strings_are_explained);
  tcase_add_test(t, test_test_images_of_another_shape_are_refused);
  tcase_add_test(t, test_pool_without_a_layer_before_it);
  tcase_add_test(t, test_layer_sizes_do_not_wrap);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  train_set_threads(1);
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
