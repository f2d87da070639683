/*
 * check_core.c -- the cores: closed-form neurons against a step-by-step
 * membrane oracle and the float window-frame formula, whole networks
 * against a naive layer-by-layer reference, SOP and late-spike accounting,
 * refusals, and the energy arithmetic (Eq. 12 per frame, Eq. 11 over the
 * paper's Table 2).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "sim/sim.h"

/* ---- the neuron as pure functions ------------------------------------------ */

START_TEST(test_scale_fixed_is_normalized_and_close) {
  struct sim_rng r;
  sim_rng_init(&r, 7, 0);
  for (int i = 0; i < 1000; i++) {
    double s = exp((sim_rng_uniform(&r) - 0.5) * 20);
    int64_t m;
    int f;
    ck_assert_int_eq(core_scale_fixed(s, &m, &f), 0);
    ck_assert(m >= (1 << (CORE_SCALE_BITS - 1)) && m < (1 << CORE_SCALE_BITS));
    ck_assert(fabs(core_scale_value(m, f) / s - 1) < ldexp(1, -CORE_SCALE_BITS));
  }
  int64_t m;
  int f;
  ck_assert_int_eq(core_scale_fixed(0, &m, &f), SM_ERANGE);
  ck_assert_int_eq(core_scale_fixed(-0.5, &m, &f), SM_ERANGE);
  ck_assert_int_eq(core_scale_fixed(NAN, &m, &f), SM_ERANGE);
  ck_assert_int_eq(core_scale_fixed(1e30, &m, &f), SM_ERANGE);
}
END_TEST

struct input {
  int q;    /* weight */
  int x;    /* window-frame activation, steps */
  int k;    /* arrival step (known from step k on) */
};

/* The oracle: step the membrane.  At step u the neuron sees the inputs with
 * k <= u, V(u) = scale * sum q (u + x) against threshold S - u (both in
 * window units times S); it fires at the first u with V >= threshold, at
 * u = S only with V > 0. */
static int32_t brute_fire(const struct input *in, int n, double scale, int s) {
  for (int u = 0; u <= s; u++) {
    long long acc = 0;
    for (int i = 0; i < n; i++)
      if (in[i].k <= u)
        acc += (long long)in[i].q * (u + in[i].x);
    double v = scale * (double)acc;
    if (u < s ? v >= (double)(s - u) : v > 0)
      return u;
  }
  return CORE_SILENT;
}

/* What a core does: accumulate the inputs known at the window opening,
 * compute, then recompute at each later arrival while not yet fired. */
static int32_t core_like_fire(struct input *in, int n, int64_t m, int f, int s,
                              int round) {
  /* sort by arrival (insertion sort, n is small) */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && in[j].k < in[j - 1].k; j--) {
      struct input t = in[j];
      in[j] = in[j - 1];
      in[j - 1] = t;
    }
  int64_t a = 0, b = 0;
  int i = 0;
  for (; i < n && in[i].k == 0; i++) {
    a += in[i].q;
    b += (int64_t)in[i].q * in[i].x;
  }
  int32_t u = core_fire_step(a, b, m, f, s, 0, round);
  for (; i < n; i++) {
    if (u != CORE_SILENT && u < in[i].k)
      break; /* fired before this input arrived: it is late */
    a += in[i].q;
    b += (int64_t)in[i].q * in[i].x;
    u = core_fire_step(a, b, m, f, s, in[i].k, round);
  }
  return u;
}

START_TEST(test_fire_step_closed_form_equals_step_by_step_membrane) {
  struct sim_rng r;
  sim_rng_init(&r, 11, 0);
  int fired = 0, silent = 0, at_start = 0;
  for (int trial = 0; trial < 20000; trial++) {
    int s = 1 + (int)sim_rng_below(&r, trial % 3 ? 12 : 200);
    int n = 1 + (int)sim_rng_below(&r, 12);
    double scale0 = 0.02 + sim_rng_uniform(&r) * 0.3;
    int64_t m;
    int f;
    ck_assert_int_eq(core_scale_fixed(scale0, &m, &f), 0);
    double scale = core_scale_value(m, f);
    struct input in[16];
    int late = trial % 2; /* half the trials have arrivals inside the window */
    for (int i = 0; i < n; i++) {
      in[i].q = (int)sim_rng_below(&r, 16) - 8;
      in[i].x = (int)sim_rng_below(&r, (uint64_t)s + 1);
      in[i].k = late ? (int)sim_rng_below(&r, (uint64_t)s + 1) : 0;
    }
    int32_t want = brute_fire(in, n, scale, s);
    int32_t got = core_like_fire(in, n, m, f, s, CORE_ROUND_CEIL);
    ck_assert_msg(got == want, "trial %d: closed form %d, membrane %d", trial,
                  got, want);
    if (want == CORE_SILENT)
      silent++;
    else if (want == 0)
      at_start++;
    else
      fired++;
  }
  /* the random cases must exercise all three outcomes */
  ck_assert(fired > 1000 && silent > 1000 && at_start > 1000);
}
END_TEST

START_TEST(test_integer_fire_step_equals_float_formula_up_to_quantization) {
  struct sim_rng r;
  sim_rng_init(&r, 12, 0);
  int compared = 0;
  for (int trial = 0; trial < 20000; trial++) {
    int s = 1 + (int)sim_rng_below(&r, 400);
    int n = 1 + (int)sim_rng_below(&r, 40);
    int64_t m;
    int f;
    ck_assert_int_eq(core_scale_fixed(0.01 + 0.2 * sim_rng_uniform(&r), &m, &f), 0);
    double scale = core_scale_value(m, f);
    int64_t a = 0, b = 0;
    double swx = 0, sw = 0; /* window units: Tw = 1, x in [0, 1] */
    for (int i = 0; i < n; i++) {
      int q = (int)sim_rng_below(&r, 16) - 8;
      int x = (int)sim_rng_below(&r, (uint64_t)s + 1);
      a += q;
      b += (int64_t)q * x;
      swx += q * scale * x / s;
      sw += q * scale;
    }
    /* the window-frame formula in floats */
    double ucont; /* crossing, in steps from the window opening */
    int fires;
    if (swx >= 1) {
      fires = 1;
      ucont = 0;
    } else {
      double xo = (swx + sw) / (1 + sw);
      fires = 1 + sw > 0 && xo > 0;
      ucont = s * (1 - xo);
    }
    int32_t c = core_fire_step(a, b, m, f, s, 0, CORE_ROUND_CEIL);
    int32_t nr = core_fire_step(a, b, m, f, s, 0, CORE_ROUND_NEAREST);
    /* float rounding may flip a crossing that sits exactly on a boundary */
    double frac = ucont - floor(ucont);
    if (fabs(ucont - s) < 1e-7 || fabs(swx - 1) < 1e-9 || frac < 1e-7 ||
        frac > 1 - 1e-7 || fabs(frac - 0.5) < 1e-7)
      continue;
    compared++;
    if (!fires) {
      ck_assert_int_eq(c, CORE_SILENT);
      ck_assert_int_eq(nr, CORE_SILENT);
      continue;
    }
    ck_assert_msg(c == (int32_t)ceil(ucont), "trial %d: ceil %d vs %f", trial,
                  c, ucont);
    ck_assert_msg(nr == (int32_t)floor(ucont + 0.5), "trial %d: nearest %d vs %f",
                  trial, nr, ucont);
    ck_assert(c - ucont >= 0 && c - ucont < 1);
    ck_assert(fabs(nr - ucont) <= 0.5);
  }
  ck_assert(compared > 15000);
}
END_TEST

START_TEST(test_fire_step_never_before_the_arrival_step) {
  int64_t m;
  int f;
  core_scale_fixed(0.5, &m, &f);
  /* strong input: crossing at step 0, but known only from step 4 */
  ck_assert_int_eq(core_fire_step(4, 40, m, f, 10, 0, CORE_ROUND_CEIL), 0);
  ck_assert_int_eq(core_fire_step(4, 40, m, f, 10, 4, CORE_ROUND_CEIL), 4);
  ck_assert_int_eq(core_fire_step(4, 40, m, f, 10, 4, CORE_ROUND_NEAREST), 4);
  /* a decreasing margin: above threshold at the opening only */
  /* V = 0.5 (24 - 4u), threshold 10 - u: V - threshold = 2 - u */
  ck_assert_int_eq(core_fire_step(-4, 24, m, f, 10, 0, CORE_ROUND_CEIL), 0);
  ck_assert_int_eq(core_fire_step(-4, 24, m, f, 10, 2, CORE_ROUND_CEIL), 2);
  ck_assert_int_eq(core_fire_step(-4, 24, m, f, 10, 3, CORE_ROUND_CEIL),
                   CORE_SILENT);
  /* no input: V = 0, threshold S - u: silent (x_out would be 0) */
  ck_assert_int_eq(core_fire_step(0, 0, m, f, 10, 0, CORE_ROUND_CEIL),
                   CORE_SILENT);
  ck_assert_int_eq(core_fire_step(1, 0, m, f, 10, 11, CORE_ROUND_CEIL),
                   CORE_SILENT);
}
END_TEST

/* ---- whole networks on a core array ---------------------------------------- */

#define KIND_BASE 4
#define KIND_NET 1 /* the test's network: a delivery after a delay */

struct net {
  struct sim_kernel *k;
  struct core_array *a;
  uint32_t nlayers;
  uint32_t first[8], count[8]; /* cores of each layer */
  sim_time_t delay;            /* ps, fixed network delay */
  sim_time_t delay_layer1;     /* ps, extra delay for spikes into layer 1 */
  int32_t out_step[64];        /* output layer spikes seen */
  uint32_t out_order[64], nout;
  uint64_t sent_by_layer[8][4096]; /* [layer][output index] 1 if sent */
};

static void net_deliver(struct sim_kernel *k, const struct sim_event *ev,
                        void *ctx) {
  (void)k;
  struct net *n = ctx;
  core_array_receive(n->a, ev->target, ev->arg);
}

static void net_send(void *ctx, uint32_t core, uint32_t layer, uint32_t neuron,
                     uint32_t step, sim_time_t t) {
  (void)core;
  struct net *n = ctx;
  ck_assert_uint_lt(neuron, 4096);
  ck_assert_uint_eq(n->sent_by_layer[layer][neuron], 0); /* once per frame */
  n->sent_by_layer[layer][neuron] = 1;
  if (layer + 1 == n->nlayers) {
    n->out_step[neuron] = (int32_t)step;
    n->out_order[n->nout++] = neuron;
    return;
  }
  uint64_t p = core_payload(layer, neuron, step);
  sim_time_t d = n->delay + (layer == 0 ? n->delay_layer1 : 0);
  for (uint32_t c = 0; c < n->count[layer + 1]; c++) {
    uint32_t id = n->first[layer + 1] + c;
    if (d == 0)
      core_array_receive(n->a, id, p);
    else
      sim_schedule(n->k, t + d, KIND_NET, id, 0, p, NULL);
  }
}

static struct core_conf test_conf(void) {
  struct core_conf c = {.neurons_per_core = 256,
                        .sram_bytes = 1 << 20,
                        .weight_bits = 4,
                        .steps_per_window = 10,
                        .step_ps = 1000,
                        .sop_ps = 0,
                        .sop_lanes = 1,
                        .fire_round = CORE_ROUND_CEIL};
  return c;
}

/* input 1x6x6 -> conv 3C3 pad 1 (6x6) + pool 2 -> 3x3x3 -> conv 4C3 pad 0
 * (1x1) -> dense 5; or a plain 20-12-6 MLP. */
struct layers {
  struct core_layer l[4];
  uint32_t n;
  int8_t *q[4];
};

static void random_q(struct sim_rng *r, int8_t *q, size_t n, int bias) {
  for (size_t i = 0; i < n; i++)
    q[i] = (int8_t)((int)sim_rng_below(r, 16) - 8 + bias);
  for (size_t i = 0; i < n; i++)
    if (q[i] > 7)
      q[i] = 7;
}

static void make_conv_net(struct layers *L, struct sim_rng *r) {
  memset(L, 0, sizeof *L);
  L->n = 4;
  L->l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 1,
                                .out_h = 6, .out_w = 6, .pool = 1};
  L->l[1] = (struct core_layer){.kind = CORE_LAYER_CONV, .in_c = 1, .in_h = 6,
                                .in_w = 6, .out_c = 3, .out_h = 6, .out_w = 6,
                                .kernel = 3, .stride = 1, .pad = 1, .pool = 2,
                                .bits = 4, .scale = 0.11};
  L->l[2] = (struct core_layer){.kind = CORE_LAYER_CONV, .in_c = 3, .in_h = 3,
                                .in_w = 3, .out_c = 4, .out_h = 1, .out_w = 1,
                                .kernel = 3, .stride = 1, .pad = 0, .pool = 1,
                                .bits = 4, .scale = 0.07};
  L->l[3] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 4, .in_h = 1,
                                .in_w = 1, .out_c = 5, .out_h = 1, .out_w = 1,
                                .pool = 1, .bits = 4, .scale = 0.13};
  for (uint32_t i = 1; i < L->n; i++) {
    size_t nw = core_slice_weights(&L->l[i], (uint32_t)L->l[i].out_c);
    L->q[i] = malloc(nw);
    random_q(r, L->q[i], nw, 2);
    L->l[i].q = L->q[i];
  }
}

/* input 1x9x9 -> conv 2C3 stride 2 pad 1 (5x5) + pool 2 (2x2: the last
 * row and column are cropped) -> dense 3: strided kernels and a crop. */
static void make_stride_net(struct layers *L, struct sim_rng *r) {
  memset(L, 0, sizeof *L);
  L->n = 3;
  L->l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 1,
                                .out_h = 9, .out_w = 9, .pool = 1};
  L->l[1] = (struct core_layer){.kind = CORE_LAYER_CONV, .in_c = 1, .in_h = 9,
                                .in_w = 9, .out_c = 2, .out_h = 5, .out_w = 5,
                                .kernel = 3, .stride = 2, .pad = 1, .pool = 2,
                                .bits = 4, .scale = 0.2};
  L->l[2] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 8, .in_h = 1,
                                .in_w = 1, .out_c = 3, .out_h = 1, .out_w = 1,
                                .pool = 1, .bits = 4, .scale = 0.13};
  for (uint32_t i = 1; i < L->n; i++) {
    size_t nw = core_slice_weights(&L->l[i], (uint32_t)L->l[i].out_c);
    L->q[i] = malloc(nw);
    random_q(r, L->q[i], nw, 3);
    L->l[i].q = L->q[i];
  }
}

static void make_mlp(struct layers *L, struct sim_rng *r) {
  memset(L, 0, sizeof *L);
  L->n = 3;
  L->l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 20,
                                .out_h = 1, .out_w = 1, .pool = 1};
  L->l[1] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 20, .in_h = 1,
                                .in_w = 1, .out_c = 12, .out_h = 1, .out_w = 1,
                                .pool = 1, .bits = 4, .scale = 0.05};
  L->l[2] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 12, .in_h = 1,
                                .in_w = 1, .out_c = 6, .out_h = 1, .out_w = 1,
                                .pool = 1, .bits = 4, .scale = 0.08};
  for (uint32_t i = 1; i < L->n; i++) {
    size_t nw = core_slice_weights(&L->l[i], (uint32_t)L->l[i].out_c);
    L->q[i] = malloc(nw);
    random_q(r, L->q[i], nw, 2);
    L->l[i].q = L->q[i];
  }
}

static void free_layers(struct layers *L) {
  for (uint32_t i = 0; i < L->n; i++)
    free(L->q[i]);
}

/* Start of part i when n units are dealt to k parts (the first n % k one
 * larger), as the mapper deals tiles. */
static uint32_t part_start(uint32_t n, uint32_t k, uint32_t i) {
  return i * (n / k) + (i < n % k ? i : n % k);
}

/* Build the array with `split` channel groups per layer where the channels
 * allow, each cut into up to tiles x tiles tiles of whole pooling windows
 * (the last row and column of tiles take what the pooling crops); the
 * cores of a hidden layer are added last tile first, to show any order
 * works (the output layer's in order: its spikes at one step then come in
 * index order, which the reference check looks at). */
static struct net *net_new_tiled(const struct core_conf *c,
                                 const struct layers *L, uint32_t split,
                                 uint32_t tiles) {
  struct net *n = calloc(1, sizeof *n);
  n->k = sim_kernel_new(SIM_QUEUE_HEAP4, 1);
  n->nlayers = L->n;
  sim_register(n->k, KIND_NET, net_deliver, n);
  struct sm_err err = {0};
  ck_assert_msg(core_array_new(n->k, c, L->l, L->n, KIND_BASE, net_send, n,
                               &n->a, &err) == 0,
                "%s", err.msg);
  for (uint32_t l = 0; l < L->n; l++) {
    const struct core_layer *y = &L->l[l];
    uint32_t ch = (uint32_t)y->out_c, p = (uint32_t)(y->pool > 1 ? y->pool : 1);
    uint32_t uh = (uint32_t)y->out_h / p, uw = (uint32_t)y->out_w / p;
    uint32_t parts = split < ch ? split : ch;
    uint32_t th = tiles < uh ? tiles : uh, tw = tiles < uw ? tiles : uw;
    n->first[l] = core_array_ncores(n->a);
    n->count[l] = 0;
    uint32_t nt = parts * th * tw;
    for (uint32_t o = 0; o < nt; o++) {
      uint32_t i = l + 1 < L->n ? nt - 1 - o : o;
      uint32_t k = i % parts, r = i / parts / tw, q = i / parts % tw;
      struct core_tile t = {
          part_start(ch, parts, k), part_start(ch, parts, k + 1),
          part_start(uh, th, r) * p,
          r + 1 < th ? part_start(uh, th, r + 1) * p : (uint32_t)y->out_h,
          part_start(uw, tw, q) * p,
          q + 1 < tw ? part_start(uw, tw, q + 1) * p : (uint32_t)y->out_w};
      uint32_t id;
      ck_assert_msg(core_array_add(n->a, l, &t, &id, &err) == 0, "%s",
                    err.msg);
      n->count[l]++;
    }
  }
  return n;
}

static struct net *net_new(const struct core_conf *c, const struct layers *L,
                           uint32_t split) {
  return net_new_tiled(c, L, split, 1);
}

static void net_free(struct net *n) {
  core_array_free(n->a);
  sim_kernel_free(n->k);
  free(n);
}

static void net_frame(struct net *n, sim_time_t t0, const int32_t *in) {
  memset(n->sent_by_layer, 0, sizeof n->sent_by_layer);
  n->nout = 0;
  for (int i = 0; i < 64; i++)
    n->out_step[i] = CORE_SILENT;
  ck_assert_int_eq(core_array_frame(n->a, t0, in), 0);
  sim_run(n->k, SIM_TIME_MAX, 0);
  ck_assert(core_array_idle(n->a));
}

/* Naive reference: layer by layer from the weights' own layout. */
static void reference(const struct core_conf *c, const struct layers *L,
                      const int32_t *in, int32_t out[4][512],
                      int32_t pooled[4][512]) {
  int s = (int)c->steps_per_window;
  for (uint32_t l = 0; l < L->n; l++) {
    const struct core_layer *y = &L->l[l];
    uint32_t nn = (uint32_t)(y->out_c * y->out_h * y->out_w);
    if (l == 0) {
      memcpy(out[0], in, nn * sizeof *in);
    } else {
      int64_t m;
      int f;
      core_scale_fixed(y->scale, &m, &f);
      for (int oc = 0; oc < y->out_c; oc++)
        for (int oy = 0; oy < y->out_h; oy++)
          for (int ox = 0; ox < y->out_w; ox++) {
            int64_t a = 0, b = 0;
            if (y->kind == CORE_LAYER_DENSE) {
              int fi = y->in_c * y->in_h * y->in_w;
              for (int i = 0; i < fi; i++) {
                int32_t t = pooled[l - 1][i];
                if (t == CORE_SILENT)
                  continue;
                int q = y->q[oc * fi + i];
                a += q;
                b += (int64_t)q * (s - t);
              }
            } else {
              for (int ic = 0; ic < y->in_c; ic++)
                for (int ky = 0; ky < y->kernel; ky++)
                  for (int kx = 0; kx < y->kernel; kx++) {
                    int iy = oy * y->stride - y->pad + ky;
                    int ix = ox * y->stride - y->pad + kx;
                    if (iy < 0 || ix < 0 || iy >= y->in_h || ix >= y->in_w)
                      continue;
                    int32_t t = pooled[l - 1][(ic * y->in_h + iy) * y->in_w + ix];
                    if (t == CORE_SILENT)
                      continue;
                    int q = y->q[((oc * y->in_c + ic) * y->kernel + ky) *
                                     y->kernel + kx];
                    a += q;
                    b += (int64_t)q * (s - t);
                  }
            }
            out[l][(oc * y->out_h + oy) * y->out_w + ox] =
                core_fire_step(a, b, m, f, s, 0, c->fire_round);
          }
    }
    int p = y->pool;
    int ph = y->out_h / p, pw = y->out_w / p;
    for (int ch = 0; ch < y->out_c; ch++)
      for (int py = 0; py < ph; py++)
        for (int px = 0; px < pw; px++) {
          int32_t best = CORE_SILENT;
          for (int dy = 0; dy < p; dy++)
            for (int dx = 0; dx < p; dx++) {
              int32_t t = out[l][(ch * y->out_h + py * p + dy) * y->out_w +
                                 px * p + dx];
              if (t != CORE_SILENT && (best == CORE_SILENT || t < best))
                best = t;
            }
          pooled[l][(ch * ph + py) * pw + px] = best;
        }
  }
}

/* Synapses a spike from input i of layer l touches, from the weights'
 * layout (independent of the cores' own tables). */
static uint64_t naive_synapses(const struct core_layer *y, uint32_t i) {
  if (y->kind == CORE_LAYER_DENSE)
    return (uint64_t)y->out_c;
  int plane = y->in_h * y->in_w;
  int iy = (int)i % plane / y->in_w, ix = (int)i % y->in_w;
  uint64_t n = 0;
  for (int oy = 0; oy < y->out_h; oy++)
    for (int ox = 0; ox < y->out_w; ox++) {
      int ky = iy - (oy * y->stride - y->pad), kx = ix - (ox * y->stride - y->pad);
      if (ky >= 0 && ky < y->kernel && kx >= 0 && kx < y->kernel)
        n += (uint64_t)y->out_c;
    }
  return n;
}

static void random_input(struct sim_rng *r, int32_t *in, uint32_t n, int s) {
  for (uint32_t i = 0; i < n; i++)
    in[i] = sim_rng_below(r, 4) == 0 ? CORE_SILENT
                                     : (int32_t)sim_rng_below(r, (uint64_t)s + 1);
}

/* conv: 0 the MLP, 1 the conv net, 2 the strided net with a crop. */
static void check_tiled_against_reference(int conv, int round, uint32_t split,
                                          uint32_t tiles, uint64_t seed) {
  struct sim_rng r;
  sim_rng_init(&r, seed, 0);
  struct layers L;
  if (conv == 2)
    make_stride_net(&L, &r);
  else if (conv)
    make_conv_net(&L, &r);
  else
    make_mlp(&L, &r);
  struct core_conf c = test_conf();
  c.fire_round = round;
  struct net *n = net_new_tiled(&c, &L, split, tiles);
  static int32_t out[4][512], pooled[4][512];
  int fired_total = 0;
  for (int frame = 0; frame < 50; frame++) {
    int32_t in[128];
    uint32_t nin = (uint32_t)(L.l[0].out_c * L.l[0].out_h * L.l[0].out_w);
    random_input(&r, in, nin, (int)c.steps_per_window);
    struct core_layer_stats before[4];
    for (uint32_t l = 0; l < L.n; l++)
      before[l] = *core_array_stats(n->a, l);
    net_frame(n, sim_now(n->k) + 5, in);
    reference(&c, &L, in, out, pooled);
    for (uint32_t l = 1; l < L.n; l++) {
      const struct core_layer *y = &L.l[l];
      uint32_t nn = (uint32_t)(y->out_c * y->out_h * y->out_w);
      const int32_t *got = core_array_fire_steps(n->a, l);
      for (uint32_t j = 0; j < nn; j++) {
        ck_assert_msg(got[j] == out[l][j],
                      "frame %d layer %u neuron %u: core %d, reference %d",
                      frame, l, j, got[j], out[l][j]);
        fired_total += got[j] != CORE_SILENT;
      }
      /* SOPs: every spike layer l-1 sent, times its synapses into l */
      uint64_t sops = 0;
      for (uint32_t i = 0; i < core_layer_outputs(&L.l[l - 1]); i++)
        if (n->sent_by_layer[l - 1][i]) {
          sops += naive_synapses(y, i);
          ck_assert(pooled[l - 1][i] != CORE_SILENT);
        } else {
          ck_assert(pooled[l - 1][i] == CORE_SILENT);
        }
      const struct core_layer_stats *st = core_array_stats(n->a, l);
      ck_assert_uint_eq(st->sops - before[l].sops, sops);
      ck_assert_uint_eq(st->late_spikes, 0);
      ck_assert_uint_eq(st->misrouted, 0);
    }
    /* output spikes arrive in (step, index) order */
    for (uint32_t i = 1; i < n->nout; i++) {
      int32_t a = n->out_step[n->out_order[i - 1]], b = n->out_step[n->out_order[i]];
      ck_assert(a < b || (a == b && n->out_order[i - 1] < n->out_order[i]));
    }
  }
  ck_assert(fired_total > 50);
  uint64_t core_sops = 0, layer_sops = 0;
  for (uint32_t i = 0; i < core_array_ncores(n->a); i++)
    core_sops += core_array_core_sops(n->a, i);
  for (uint32_t l = 0; l < L.n; l++)
    layer_sops += core_array_stats(n->a, l)->sops;
  ck_assert_uint_eq(core_sops, layer_sops);
  net_free(n);
  free_layers(&L);
}

static void check_against_reference(int conv, int round, uint32_t split,
                                    uint64_t seed) {
  check_tiled_against_reference(conv, round, split, 1, seed);
}

START_TEST(test_mlp_spike_times_equal_layer_by_layer_reference) {
  check_against_reference(0, CORE_ROUND_CEIL, 1, 21);
  check_against_reference(0, CORE_ROUND_NEAREST, 3, 22);
}
END_TEST

START_TEST(test_conv_pool_spike_times_and_sops_equal_reference) {
  check_against_reference(1, CORE_ROUND_CEIL, 1, 31);
  check_against_reference(1, CORE_ROUND_CEIL, 2, 32);
  check_against_reference(1, CORE_ROUND_NEAREST, 3, 33);
}
END_TEST

/* Cores holding tiles of a map (and of the input) compute exactly their
 * neurons: spike times equal the reference and SOPs the synapses of the
 * spikes sent, whatever the cut; strided kernels and a pooling crop too. */
START_TEST(test_tiled_cores_equal_reference_and_count_their_own_sops) {
  check_tiled_against_reference(1, CORE_ROUND_CEIL, 1, 2, 34);
  check_tiled_against_reference(1, CORE_ROUND_CEIL, 2, 3, 35);
  check_tiled_against_reference(1, CORE_ROUND_NEAREST, 3, 2, 36);
  check_tiled_against_reference(2, CORE_ROUND_CEIL, 1, 1, 37);
  check_tiled_against_reference(2, CORE_ROUND_CEIL, 1, 2, 38);
  check_tiled_against_reference(2, CORE_ROUND_NEAREST, 2, 2, 39);
}
END_TEST

START_TEST(test_sop_time_delays_application_but_not_results) {
  /* with SRAM time well inside a window the spike times do not change */
  struct sim_rng r;
  sim_rng_init(&r, 41, 0);
  struct layers L;
  make_mlp(&L, &r);
  struct core_conf c = test_conf();
  struct net *n0 = net_new(&c, &L, 2);
  c.sop_ps = 3;
  struct net *n1 = net_new(&c, &L, 2);
  for (int frame = 0; frame < 20; frame++) {
    int32_t in[20];
    random_input(&r, in, 20, 10);
    net_frame(n0, sim_now(n0->k), in);
    net_frame(n1, sim_now(n1->k), in);
    for (uint32_t l = 1; l < L.n; l++)
      ck_assert(!memcmp(core_array_fire_steps(n0->a, l),
                        core_array_fire_steps(n1->a, l),
                        (size_t)L.l[l].out_c * sizeof(int32_t)));
  }
  ck_assert_uint_eq(core_array_stats(n0->a, 1)->sops,
                    core_array_stats(n1->a, 1)->sops);
  net_free(n0);
  net_free(n1);
  free_layers(&L);
}
END_TEST

/* Two inputs, two neurons: input 0 (step 0) makes neuron 0 fire at the
 * window opening; input 1 is delayed into the window, after neuron 0 fired
 * but before neuron 1, which it makes fire. */
START_TEST(test_late_spike_counted_when_target_already_fired) {
  static int8_t q1[4] = {7, 0,  /* neuron 0 <- input 0, input 1 */
                         0, 7}; /* neuron 1 <- input 1 */
  static int8_t q2[2] = {1, 1};
  struct layers L;
  memset(&L, 0, sizeof L);
  L.n = 3;
  L.l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 2,
                               .out_h = 1, .out_w = 1, .pool = 1};
  L.l[1] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 2, .in_h = 1,
                               .in_w = 1, .out_c = 2, .out_h = 1, .out_w = 1,
                               .pool = 1, .bits = 4, .scale = 0.25, .q = q1};
  L.l[2] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 2, .in_h = 1,
                               .in_w = 1, .out_c = 1, .out_h = 1, .out_w = 1,
                               .pool = 1, .bits = 4, .scale = 0.25, .q = q2};
  struct core_conf c = test_conf();
  struct net *n = net_new(&c, &L, 1);
  /* input 0 at step 0 (x = 10): neuron 0 sees 0.25*7*10 = 17.5 >= 10 at
   * its opening -> step 0.  input 1 at step 0 too, but delivered 2.5 steps
   * into window 1 (k = 3). */
  int32_t in[2] = {0, 0};
  n->delay = 0;
  /* spikes into layer 1 take 1 window + 2.5 steps; into layer 2 none */
  n->delay_layer1 = 0;
  /* deliver input 1 late by hand: send input 0 normally, input 1 later */
  ck_assert_int_eq(core_array_frame(n->a, 0, (int32_t[]){0, CORE_SILENT}), 0);
  sim_run(n->k, 12500, 0); /* window 1 opens at 10000, neuron 0 fires */
  ck_assert_int_eq(core_array_fire_steps(n->a, 1)[0], 0);
  ck_assert_int_eq(core_array_fire_steps(n->a, 1)[1], CORE_SILENT);
  core_array_receive(n->a, n->first[1], core_payload(0, 1, 0));
  sim_run(n->k, SIM_TIME_MAX, 0);
  const struct core_layer_stats *st = core_array_stats(n->a, 1);
  ck_assert_uint_eq(st->received, 2);
  ck_assert_uint_eq(st->late_spikes, 1);
  ck_assert_uint_eq(st->late_synapses, 1); /* neuron 0 had fired */
  ck_assert_uint_eq(st->dropped, 0);
  ck_assert_uint_eq(st->sops, 4);
  /* neuron 1: 0.25*7*(u+10) >= 10 - u from u = 0 on, but known at k = 3 */
  ck_assert_int_eq(core_array_fire_steps(n->a, 1)[1], 3);
  (void)in;
  /* after the window closes, a spike is dropped without SRAM reads */
  memset(n->sent_by_layer, 0, sizeof n->sent_by_layer);
  ck_assert_int_eq(core_array_frame(n->a, sim_now(n->k), (int32_t[]){0, 0}), 0);
  sim_time_t t0 = sim_now(n->k);
  sim_run(n->k, t0 + 3 * 10000 + 1, 0); /* past layer 1's window... */
  /* ...but layer 1 already got both spikes; deliver a stale one now */
  uint64_t sops = core_array_stats(n->a, 1)->sops;
  core_array_receive(n->a, n->first[1], core_payload(0, 0, 0));
  ck_assert_uint_eq(st->dropped, 1);
  ck_assert_uint_eq(st->late_spikes, 2);
  ck_assert_uint_eq(st->late_synapses, 3);
  ck_assert_uint_eq(core_array_stats(n->a, 1)->sops, sops);
  /* a packet from the wrong layer is counted and ignored */
  core_array_receive(n->a, n->first[1], core_payload(1, 0, 0));
  ck_assert_uint_eq(st->misrouted, 1);
  sim_run(n->k, SIM_TIME_MAX, 0);
  net_free(n);
}
END_TEST

START_TEST(test_network_delay_beyond_window_drops_every_spike) {
  struct sim_rng r;
  sim_rng_init(&r, 51, 0);
  struct layers L;
  make_mlp(&L, &r);
  struct core_conf c = test_conf();
  struct net *n = net_new(&c, &L, 2);
  n->delay_layer1 = 2 * core_window_ps(&c) + 1; /* lands after window 1 */
  int32_t in[20];
  for (int i = 0; i < 20; i++)
    in[i] = i % 5;
  net_frame(n, 0, in);
  const struct core_layer_stats *st = core_array_stats(n->a, 1);
  ck_assert_uint_eq(st->received, 2 * 20); /* two cores in layer 1 */
  ck_assert_uint_eq(st->dropped, st->received);
  ck_assert_uint_eq(st->late_spikes, st->received);
  ck_assert_uint_eq(st->late_synapses, 20 * 12);
  ck_assert_uint_eq(st->sops, 0);
  ck_assert_uint_eq(st->fired, 0);
  net_free(n);
  free_layers(&L);
}
END_TEST

START_TEST(test_mid_window_arrivals_match_step_by_step_membrane) {
  /* one dense neuron per trial; inputs delayed by random amounts */
  struct sim_rng r;
  sim_rng_init(&r, 61, 0);
  for (int trial = 0; trial < 300; trial++) {
    int8_t q1[8], q2[1] = {1};
    for (int i = 0; i < 8; i++)
      q1[i] = (int8_t)((int)sim_rng_below(&r, 16) - 8);
    struct layers L;
    memset(&L, 0, sizeof L);
    L.n = 3;
    L.l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 8,
                                 .out_h = 1, .out_w = 1, .pool = 1};
    L.l[1] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 8, .in_h = 1,
                                 .in_w = 1, .out_c = 1, .out_h = 1, .out_w = 1,
                                 .pool = 1, .bits = 4, .scale = 0.19, .q = q1};
    L.l[2] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 1, .in_h = 1,
                                 .in_w = 1, .out_c = 1, .out_h = 1, .out_w = 1,
                                 .pool = 1, .bits = 4, .scale = 0.19, .q = q2};
    struct core_conf c = test_conf();
    struct net *n = net_new(&c, &L, 1);
    int32_t in[8];
    struct input inp[8];
    int ni = 0;
    ck_assert_int_eq(core_array_frame(n->a, 0, (int32_t[8]){CORE_SILENT, CORE_SILENT,
        CORE_SILENT, CORE_SILENT, CORE_SILENT, CORE_SILENT, CORE_SILENT, CORE_SILENT}), 0);
    for (int i = 0; i < 8; i++) {
      in[i] = (int32_t)sim_rng_below(&r, 11);
      /* arrival: before the window (k = 0) or at a time inside it */
      sim_time_t at = 10000 + (sim_rng_below(&r, 2) ? 0 : sim_rng_below(&r, 10000));
      if (sim_rng_below(&r, 3) == 0)
        at = 9000; /* before the opening */
      sim_schedule(n->k, at, KIND_NET, n->first[1], 0, core_payload(0, (uint32_t)i, (uint32_t)in[i]), NULL);
      int k = at <= 10000 ? 0 : (int)((at - 10000 + 999) / 1000);
      inp[ni++] = (struct input){.q = q1[i], .x = 10 - in[i], .k = k};
    }
    sim_run(n->k, SIM_TIME_MAX, 0);
    int64_t m;
    int f;
    core_scale_fixed(0.19, &m, &f);
    /* the oracle, with ties between an arrival and a tick resolved as the
     * core does: an arrival at exactly a step boundary counts from it */
    int32_t want = core_like_fire(inp, ni, m, f, 10, CORE_ROUND_CEIL);
    int32_t want2 = brute_fire(inp, ni, core_scale_value(m, f), 10);
    ck_assert_int_eq(want, want2);
    ck_assert_int_eq(core_array_fire_steps(n->a, 1)[0], want);
    net_free(n);
  }
}
END_TEST

/* ---- refusals and bad input ------------------------------------------------ */

START_TEST(test_core_refuses_too_many_neurons_and_small_sram) {
  struct sim_rng r;
  sim_rng_init(&r, 71, 0);
  struct layers L;
  make_mlp(&L, &r);
  struct core_conf c = test_conf();
  c.neurons_per_core = 8;
  c.sram_bytes = 64;
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_HEAP4, 1);
  struct core_array *a;
  struct sm_err err = {0};
  ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, 0, net_send, NULL, &a, &err), 0);
  uint32_t id;
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 12, 0, 1, 0, 1}, &id, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (dense)") && strstr(err.msg, "short by 4"),
                "%s", err.msg);
  /* 6 neurons x 20 inputs x 4 bits = 60 bytes + 4 of scale = 64: fits */
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 6, 0, 1, 0, 1}, &id, &err), 0);
  ck_assert_uint_eq(core_slice_sram(&L.l[1], 6, 4), 64);
  ck_assert_uint_eq(core_slice_sram(&L.l[1], 7, 4), 74);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){6, 13, 0, 1, 0, 1}, &id, &err), SM_EINVAL);
  c.sram_bytes = 63;
  core_array_free(a);
  ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, 0, net_send, NULL, &a, &err), 0);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 6, 0, 1, 0, 1}, &id, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (dense)") && strstr(err.msg, "64 bytes") &&
                    strstr(err.msg, "short by 1"),
                "%s", err.msg);
  /* frames need every channel covered */
  ck_assert_int_eq(core_array_frame(a, 0, (int32_t[20]){0}), SM_ESTATE);
  core_array_free(a);
  sim_kernel_free(k);
  free_layers(&L);
}
END_TEST

/* Tiles that break a rule are refused naming the layer and the rule; a
 * frame needs every neuron held. */
START_TEST(test_core_refuses_bad_tiles) {
  struct sim_rng r;
  sim_rng_init(&r, 72, 0);
  struct layers L;
  make_conv_net(&L, &r); /* layer 1: 3 x 6x6, pool 2 */
  struct core_conf c = test_conf();
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_HEAP4, 1);
  struct net *n = calloc(1, sizeof *n); /* records spikes, forwards none */
  n->k = k;
  n->nlayers = L.n;
  struct core_array *a;
  struct sm_err err = {0};
  ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, 0, net_send, n, &a, &err), 0);
  uint32_t id;
  /* rows [0, 3) end inside the second 2x2 window */
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 3, 0, 3, 0, 6},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "layer 1 (conv): rows [0, 3) split a 2x2 "
                                "pooling window"),
                "%s", err.msg);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 3, 0, 6, 1, 6},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "columns [1, 6) split"), "%s", err.msg);
  /* empty and outside the map */
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 3, 2, 2, 0, 6},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "rows range [2, 2) empty or outside [0, 6)"),
                "%s", err.msg);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 3, 0, 6, 0, 8},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "columns range [0, 8)"), "%s", err.msg);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 4, 0, 6, 0, 6},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "channels range [0, 4)"), "%s", err.msg);
  /* a tile over capacity names its ranges */
  c.neurons_per_core = 20;
  core_array_free(a);
  ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, 0, net_send, n, &a, &err), 0);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 2, 0, 2, 0, 6},
                                  &id, &err),
                   SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "channels [0, 2), rows [0, 2), columns [0, 6) "
                                "holds 24 neurons") &&
                    strstr(err.msg, "short by 4"),
                "%s", err.msg);
  /* two cores may not hold one neuron */
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){1, 2, 0, 4, 2, 6},
                                  &id, &err),
                   0);
  ck_assert_int_eq(core_array_add(a, 1, &(struct core_tile){0, 2, 2, 4, 0, 4},
                                  &id, &err),
                   SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "neuron (channel 1, y 2, x 2) is held by "
                                "another core already"),
                "%s", err.msg);
  /* the rest of layer 1 and the other layers, except one tile */
  struct core_tile rest[] = {{0, 1, 0, 2, 0, 6}, {0, 1, 2, 6, 0, 2},
                             {0, 1, 2, 6, 2, 6}, {1, 2, 0, 4, 0, 2},
                             {1, 2, 4, 6, 0, 6}, {2, 3, 0, 2, 0, 6},
                             {2, 3, 2, 6, 0, 4}, {2, 3, 2, 6, 4, 6}};
  for (size_t i = 0; i < SM_ARRAY_LEN(rest); i++)
    ck_assert_msg(core_array_add(a, 1, &rest[i], &id, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(core_array_add(a, 0, &(struct core_tile){0, 1, 0, 3, 0, 6},
                                  &id, &err),
                   0);
  ck_assert_int_eq(core_array_add(a, 2, &(struct core_tile){0, 4, 0, 1, 0, 1},
                                  &id, &err),
                   0);
  ck_assert_int_eq(core_array_add(a, 3, &(struct core_tile){0, 5, 0, 1, 0, 1},
                                  &id, &err),
                   0);
  int32_t in[36] = {0};
  ck_assert_int_eq(core_array_frame(a, 0, in), SM_ESTATE); /* input rows 3..5 */
  ck_assert_int_eq(core_array_add(a, 0, &(struct core_tile){0, 1, 3, 6, 0, 6},
                                  &id, &err),
                   0);
  ck_assert_int_eq(core_array_frame(a, 0, in), 0);
  sim_run(k, SIM_TIME_MAX, 0);
  ck_assert(core_array_idle(a));
  core_array_free(a);
  sim_kernel_free(k);
  free(n);
  free_layers(&L);
}
END_TEST

START_TEST(test_core_rejects_bad_layers) {
  struct sim_rng r;
  sim_rng_init(&r, 81, 0);
  struct layers L;
  make_conv_net(&L, &r);
  struct core_conf c = test_conf();
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_HEAP4, 1);
  struct core_array *a = NULL;
  struct sm_err err = {0};
  struct layers B = L;
  B.l[2].in_h = 4; /* does not chain with layer 1's pooled 3x3 */
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "layer 2 (conv)"), "%s", err.msg);
  B = L;
  B.l[3].in_c = 5;
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "layer 3 (dense)"), "%s", err.msg);
  B = L;
  B.l[1].bits = 8;
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_ERANGE);
  ck_assert_msg(strstr(err.msg, "core.weight_bits"), "%s", err.msg);
  B = L;
  B.l[2].scale = 0;
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_ERANGE);
  B = L;
  int8_t bad[108];
  memcpy(bad, L.q[2], sizeof bad);
  bad[5] = 9; /* outside 4 bits */
  B.l[2].q = bad;
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_ERANGE);
  ck_assert_msg(strstr(err.msg, "layer 2") && strstr(err.msg, "is 9"), "%s", err.msg);
  B = L;
  B.l[1].out_h = 5; /* kernel 3, pad 1 on 6x6 gives 6x6 */
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_EINVAL);
  B = L;
  c.steps_per_window = 0;
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), SM_ERANGE);
  c = test_conf();
  c.steps_per_window = 60000; /* fan-in 27 * 60000 steps is fine */
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), 0);
  ck_assert(a != NULL);
  core_array_free(a);
  /* bad input steps */
  c = test_conf();
  ck_assert_int_eq(core_array_new(k, &c, B.l, B.n, 0, net_send, NULL, &a, &err), 0);
  uint32_t id;
  for (uint32_t l = 0; l < B.n; l++)
    ck_assert_int_eq(core_array_add(a, l,
                                    &(struct core_tile){
                                        0, (uint32_t)B.l[l].out_c, 0,
                                        (uint32_t)B.l[l].out_h, 0,
                                        (uint32_t)B.l[l].out_w},
                                    &id, &err),
                     0);
  int32_t in[36] = {0};
  in[3] = 11;
  ck_assert_int_eq(core_array_frame(a, 0, in), SM_EINVAL);
  in[3] = -2;
  ck_assert_int_eq(core_array_frame(a, 0, in), SM_EINVAL);
  core_array_free(a);
  core_array_free(NULL);
  sim_kernel_free(k);
  free_layers(&L);
}
END_TEST

/* A kind_base whose CORE_NKINDS kinds pass the kernel's SIM_MAX_KINDS is
 * bad input, refused through err (not an abort); the last base that fits
 * is accepted. */
START_TEST(test_core_refuses_event_kinds_past_the_kernel_limit) {
  struct sim_rng r;
  sim_rng_init(&r, 91, 0);
  struct layers L;
  make_mlp(&L, &r);
  struct core_conf c = test_conf();
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_HEAP4, 1);
  struct core_array *a = NULL;
  struct sm_err err = {0};
  uint16_t fits = SIM_MAX_KINDS - CORE_NKINDS;
  ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, fits, net_send, NULL, &a,
                                  &err), 0);
  ck_assert_ptr_nonnull(a);
  core_array_free(a);
  const uint16_t bad[] = {fits + 1, SIM_MAX_KINDS, UINT16_MAX};
  for (size_t i = 0; i < SM_ARRAY_LEN(bad); i++) {
    a = (struct core_array *)&err; /* must be reset to NULL */
    ck_assert_int_eq(core_array_new(k, &c, L.l, L.n, bad[i], net_send, NULL,
                                    &a, &err), SM_ERANGE);
    ck_assert_ptr_null(a);
    char kinds[64], limit[64];
    snprintf(kinds, sizeof kinds, "kinds %u..%u", (unsigned)bad[i],
             (unsigned)bad[i] + CORE_NKINDS - 1);
    snprintf(limit, sizeof limit, "limit of %d", SIM_MAX_KINDS);
    ck_assert_msg(strstr(err.msg, "core") && strstr(err.msg, kinds) &&
                      strstr(err.msg, limit),
                  "%s", err.msg);
  }
  sim_kernel_free(k);
  free_layers(&L);
}
END_TEST

/* ---- configuration and energy ---------------------------------------------- */

START_TEST(test_core_and_energy_options_have_valid_defaults) {
  struct core_conf c;
  struct core_energy_conf e;
  struct sm_conf conf;
  struct sm_err err = {0};
  sm_conf_init(&conf);
  sm_conf_add(&conf, core_conf_opts, core_conf_nopts, &c);
  sm_conf_add(&conf, core_energy_conf_opts, core_energy_conf_nopts, &e);
  ck_assert_int_eq(sm_conf_defaults(&conf, &err), 0);
  ck_assert_uint_eq(c.neurons_per_core, 1024);
  ck_assert_uint_eq(c.steps_per_window, 10);
  ck_assert_uint_eq(c.weight_bits, 4);
  ck_assert(e.e_sop_pj == 20 && e.e_hop_pj == 100 && e.e_static_uj == 3.52);
  ck_assert_int_eq(e.static_mode, CORE_STATIC_PER_FRAME);
  ck_assert_int_eq(sm_conf_set(&conf, "energy.static_mode=power", "test", &err), 0);
  ck_assert_int_eq(e.static_mode, CORE_STATIC_POWER);
  ck_assert_int_eq(sm_conf_set(&conf, "core.steps_per_window=0", "test", &err),
                   SM_ERANGE);
  ck_assert_int_eq(sm_conf_set(&conf, "core.fire_round=up", "test", &err), SM_EINVAL);
  ck_assert_int_eq(sm_conf_set(&conf, "energy.e_sop=3", "test", &err), SM_ENOKEY);
}
END_TEST

START_TEST(test_energy_terms_recompute_from_counts) {
  struct core_energy_conf c = {.e_sop_pj = 20, .e_hop_pj = 100,
                               .static_mode = CORE_STATIC_PER_FRAME,
                               .e_static_uj = 3.52, .p_static_mw = 0};
  struct core_energy e;
  /* 71,000 SOPs x 20 pJ = 1.42 uJ; 45,400 hops x 100 pJ = 4.54 uJ */
  core_energy_frame(&c, 71000, 45400, 123456789, NULL, &e);
  ck_assert_double_eq_tol(e.sop_uj, 1.42, 1e-12);
  ck_assert_double_eq_tol(e.hop_uj, 4.54, 1e-12);
  ck_assert_double_eq_tol(e.static_uj, 3.52, 1e-15);
  ck_assert_double_eq_tol(e.total_uj, 1.42 + 4.54 + 3.52, 1e-12);
  /* power mode: 10 mW x 30 us = 300 nJ = 0.3 uJ, whatever the counts */
  c.static_mode = CORE_STATIC_POWER;
  c.p_static_mw = 10;
  core_energy_frame(&c, 0, 0, 30000000, NULL, &e);
  ck_assert_double_eq_tol(e.static_uj, 0.3, 1e-12);
  ck_assert_double_eq_tol(e.total_uj, 0.3, 1e-12);
  ck_assert(e.sop_uj == 0 && e.hop_uj == 0);
  /* 1 SOP at 1 pJ is 1e-6 uJ exactly as the unit says */
  c.e_sop_pj = 1;
  core_energy_frame(&c, 1, 0, 0, NULL, &e);
  ck_assert_double_eq_tol(e.sop_uj, 1e-6, 1e-20);
}
END_TEST

START_TEST(test_chip_static_energy_scales_with_cores_and_routers) {
  struct core_energy_conf c = {.e_sop_pj = 20, .e_hop_pj = 100,
                               .static_mode = CORE_STATIC_CHIP,
                               .e_static_uj = 3.52, .p_static_mw = 7,
                               .p_core_mw = 0.5, .p_router_mw = 0.125};
  struct core_energy e;
  /* 3 cores x 0.5 mW + 4 routers x 0.125 mW = 2 mW; x 20 us = 40 nJ */
  struct core_chip small = {3, 4};
  core_energy_frame(&c, 0, 0, 20000000, &small, &e);
  ck_assert_double_eq_tol(e.static_uj, 0.04, 1e-15);
  ck_assert_double_eq_tol(core_chip_static_mw(&c, &small), 2.0, 1e-15);
  /* neither e_static_uj nor p_static_mw enters chip mode */
  ck_assert_double_eq_tol(e.total_uj, 0.04, 1e-15);
  /* one more core: +0.5 mW; a 3x3 mesh instead of 2x2: +5 x 0.125 mW */
  struct core_chip more = {4, 4}, bigger = {3, 9};
  struct core_energy e2, e3;
  core_energy_frame(&c, 0, 0, 20000000, &more, &e2);
  core_energy_frame(&c, 0, 0, 20000000, &bigger, &e3);
  ck_assert_double_eq_tol(e2.static_uj - e.static_uj, 0.5 * 20e6 * 1e-9,
                          1e-15);
  ck_assert_double_eq_tol(e3.static_uj - e.static_uj,
                          5 * 0.125 * 20e6 * 1e-9, 1e-15);
  /* no cores (a packet replay): the routers alone */
  struct core_chip none = {0, 16};
  core_energy_frame(&c, 0, 0, 1000000, &none, &e);
  ck_assert_double_eq_tol(e.static_uj, 16 * 0.125 * 1e6 * 1e-9, 1e-15);
  /* the mode's key parses */
  struct core_energy_conf d;
  struct sm_conf conf;
  struct sm_err err = {0};
  sm_conf_init(&conf);
  sm_conf_add(&conf, core_energy_conf_opts, core_energy_conf_nopts, &d);
  ck_assert_int_eq(sm_conf_defaults(&conf, &err), 0);
  ck_assert(d.p_core_mw == 0 && d.p_router_mw == 0);
  ck_assert_int_eq(sm_conf_set(&conf, "energy.static_mode=chip", "t", &err), 0);
  ck_assert_int_eq(d.static_mode, CORE_STATIC_CHIP);
  ck_assert_int_eq(sm_conf_set(&conf, "energy.p_core_mw=-1", "t", &err),
                   SM_ERANGE);
}
END_TEST

/* ---- Eq. 11, normalized ------------------------------------------------------ */

/* Write `text` to a fresh temporary file; its name goes to path[32]. */
static void write_table(char *path, const char *text) {
  snprintf(path, 32, "/tmp/check_core.XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  size_t n = strlen(text);
  ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
  close(fd);
}

START_TEST(test_theory_keeps_printed_values_of_every_architecture) {
  /* 10 architectures in the table and 6 extra: the limit of 16, with
   * printed values for the first, the tenth and an extra one. */
  char path[32];
  write_table(path,
              "{\"baseline\": \"a\", \"architectures\": ["
              "{\"name\":\"A0\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A1\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A2\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A3\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A4\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A5\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A6\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A7\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A8\",\"e_static\":1,\"e_dynamic\":0},"
              "{\"name\":\"A9\",\"e_static\":0,\"e_dynamic\":1}],"
              "\"rows\": [{\"coding\":\"a\",\"time_steps\":2,\"spikes_1e6\":4,"
              "\"printed\":{\"A0\":1.5,\"A9\":2.5,\"X5\":3.5}},"
              "{\"coding\":\"b\",\"time_steps\":4,\"spikes_1e6\":1}]}");
  struct core_theory_arch extra[6];
  for (int i = 0; i < 6; i++)
    extra[i] = (struct core_theory_arch){.es = 0.5, .ed = 0.5};
  for (int i = 0; i < 6; i++)
    snprintf(extra[i].name, sizeof extra[i].name, "X%d", i);
  struct core_theory t;
  struct sm_err err = {0};
  ck_assert_msg(core_theory_load(path, extra, 6, NULL, 0, &t, &err) == 0, "%s",
                err.msg);
  ck_assert_uint_eq(t.narch, CORE_THEORY_MAX_ARCH);
  for (size_t a = 0; a < t.narch; a++) {
    int given = a == 0 || a == 9 || a == 15;
    ck_assert_int_eq(t.rows[0].has_printed[a], given);
    ck_assert_int_eq(t.rows[1].has_printed[a], 0);
  }
  ck_assert(t.rows[0].printed[0] == 1.5 && t.rows[0].printed[9] == 2.5 &&
            t.rows[0].printed[15] == 3.5);
  ck_assert_double_eq(core_theory_eval(&t, 1, 0), 2);    /* 4/2 */
  ck_assert_double_eq(core_theory_eval(&t, 1, 9), 0.25); /* 1/4 */
  ck_assert_double_eq(core_theory_eval(&t, 1, 15), 1.125);
  core_theory_free(&t);
  /* one more is refused */
  struct core_theory_arch seven[7];
  memcpy(seven, extra, sizeof extra);
  seven[6] = extra[0];
  ck_assert_int_eq(core_theory_load(path, seven, 7, NULL, 0, &t, &err),
                   SM_EFORMAT);
  ck_assert_ptr_null(t.rows);
  unlink(path);
}
END_TEST

#define TABLE2 SM_SRCDIR "/models/paper/table2.json"

/* Entry (row, arch) of a loaded table as printed to 4 decimals, minus the
 * printed value, in units of the 4th decimal. */
static long theory_ulps(const struct core_theory *t, size_t row, size_t arch) {
  return lround(core_theory_eval(t, row, arch) * 1e4) -
         lround(t->rows[row].printed[arch] * 1e4);
}

START_TEST(test_theory_reproduces_table2) {
  struct core_theory t;
  struct sm_err err = {0};
  ck_assert_msg(core_theory_load(TABLE2, NULL, 0, NULL, 0, &t, &err) == 0,
                "%s", err.msg);
  ck_assert_uint_eq(t.narch, 2);
  ck_assert_str_eq(t.arch[0].name, "TrueNorth");
  ck_assert_str_eq(t.arch[1].name, "SpiNNaker");
  ck_assert_uint_eq(t.nrows, 6);
  ck_assert_uint_eq(t.base, 0);
  ck_assert_str_eq(t.rows[t.base].coding, "Rate [19]");
  /* 11 of the 12 printed entries exactly; the phase row's TrueNorth entry,
   * which no spike count reconciles with its SpiNNaker entry, is one unit
   * of the 4th decimal above (7.1477 for 7.1476; doc/energy.md). */
  int exact = 0;
  for (size_t i = 0; i < t.nrows; i++)
    for (size_t a = 0; a < t.narch; a++) {
      ck_assert(t.rows[i].has_printed[a]);
      long d = theory_ulps(&t, i, a);
      if (!strcmp(t.rows[i].coding, "Phase [26]") && a == 0)
        ck_assert_int_eq(d, 1);
      else
        ck_assert_msg(d == 0, "%s %s: %.6f printed %.4f", t.rows[i].coding,
                      t.arch[a].name, core_theory_eval(&t, i, a),
                      t.rows[i].printed[a]);
      exact += d == 0;
    }
  ck_assert_int_eq(exact, 11);
  /* per-term normalization: DTA-TTFS on TrueNorth is
   * 0.6 x 160/512 + 0.4 x 0.073/2.612 = 0.19867, not the plain ratio 0.3115 */
  ck_assert_str_eq(t.rows[5].coding, "DTA-TTFS");
  ck_assert_double_eq_tol(core_theory_eval(&t, 5, 0),
                          0.6 * 160 / 512 + 0.4 * 0.073 / 2.612, 1e-15);
  ck_assert_double_eq_tol(core_theory_eval(&t, 5, 0), 0.19867, 1e-5);
  /* the burst row uses its unrounded spike count */
  ck_assert_double_eq(t.rows[2].spikes, 6.9198);
  core_theory_free(&t);
  ck_assert_ptr_null(t.rows);

  /* with the spike column as printed, burst on SpiNNaker is 2.4866 */
  ck_assert_int_eq(core_theory_load(TABLE2, NULL, 0, NULL, 1, &t, &err), 0);
  ck_assert_double_eq(t.rows[2].spikes, 6.92);
  ck_assert_int_eq(theory_ulps(&t, 2, 1), 1);
  ck_assert_int_eq(theory_ulps(&t, 2, 0), 0);
  core_theory_free(&t);

  /* another baseline and an extra, latency-only architecture: the rate row
   * is 512 / 160 = 3.2 times DTA-TTFS */
  struct core_theory_arch mine = {"mine", 1, 0};
  ck_assert_int_eq(core_theory_load(TABLE2, &mine, 1, "DTA-TTFS", 0, &t, &err),
                   0);
  ck_assert_uint_eq(t.narch, 3);
  ck_assert_uint_eq(t.base, 5);
  ck_assert_int_eq(t.rows[0].has_printed[2], 0);
  ck_assert_double_eq_tol(core_theory_eval(&t, 0, 2), 3.2, 1e-15);
  ck_assert_double_eq(core_theory_eval(&t, 5, 0), 1);
  ck_assert_double_eq(core_theory_eval(&t, 5, 1), 1);
  core_theory_free(&t);
}
END_TEST

START_TEST(test_theory_refuses_bad_tables) {
  static const struct {
    const char *json;
    int code;
    const char *msg; /* in the message, after the file name */
  } cases[] = {
      /* a missing key */
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": rows[0]: 'time_steps' must be a number"},
      {"{\"baseline\":\"a\",\"architectures\":[{\"name\":\"X\","
       "\"e_static\":1}],\"rows\":[{\"coding\":\"a\",\"time_steps\":1,"
       "\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": architectures[0]: 'e_dynamic' must be a number"},
      {"{\"baseline\":\"a\",\"architectures\":[{\"e_static\":1,"
       "\"e_dynamic\":1}],\"rows\":[{\"coding\":\"a\",\"time_steps\":1,"
       "\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": architectures[0]: 'name' must be a short string"},
      {"{\"baseline\":\"a\",\"architectures\":[]}", SM_EFORMAT,
       ": expected \"architectures\" (an array of at most 16) and \"rows\""},
      {"{\"baseline\":\"a\",\"rows\":[{\"coding\":\"a\",\"time_steps\":1,"
       "\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": expected \"architectures\""},
      /* a wrong type */
      {"{\"architectures\":[],\"rows\":[{\"coding\":\"x\",\"time_steps\":"
       "\"many\",\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": rows[0]: 'time_steps' must be a number"},
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1},{\"coding\":7,\"time_steps\":1,"
       "\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": rows[1]: 'coding' must be a short string"},
      {"{\"baseline\":\"a\",\"architectures\":[{\"name\":\"X\",\"e_static\":"
       "\"0.6\",\"e_dynamic\":0.4}],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": architectures[0]: 'e_static' must be a number"},
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1,\"spikes_1e6_unrounded\":null}]}",
       SM_EFORMAT, ": rows[0]: 'spikes_1e6_unrounded' must be a number"},
      {"{\"baseline\":\"a\",\"architectures\":{},\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1}]}",
       SM_EFORMAT, ": expected \"architectures\""},
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[]}", SM_EFORMAT,
       ": expected \"architectures\" (an array of at most 16) and \"rows\" (a "
       "non-empty array)"},
      /* out of range */
      {"{\"baseline\":\"a\",\"architectures\":[{\"name\":\"X\",\"e_static\":"
       "-0.6,\"e_dynamic\":0.4}],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1}]}",
       SM_ERANGE, ": architectures[0]: 'e_static' must be >= 0"},
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1},{\"coding\":\"b\",\"time_steps\":1,"
       "\"spikes_1e6\":-3}]}",
       SM_ERANGE, ": rows[1]: 'spikes_1e6' must be >= 0"},
      /* a non-positive baseline */
      {"{\"baseline\":\"a\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":0,\"spikes_1e6\":1}]}",
       SM_ERANGE, ": baseline row 'a' needs time_steps > 0 and spikes_1e6 > 0"},
      {"{\"baseline\":\"b\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1},{\"coding\":\"b\",\"time_steps\":1,"
       "\"spikes_1e6\":0}]}",
       SM_ERANGE, ": baseline row 'b' needs time_steps > 0 and spikes_1e6 > 0"},
      /* no baseline row */
      {"{\"baseline\":\"z\",\"architectures\":[],\"rows\":[{\"coding\":\"a\","
       "\"time_steps\":1,\"spikes_1e6\":1}]}",
       SM_EINVAL, ": baseline row 'z' not found"},
      {"{\"architectures\":[],\"rows\":[{\"coding\":\"a\",\"time_steps\":1,"
       "\"spikes_1e6\":1}]}",
       SM_EINVAL, ": baseline row '(none given)' not found"},
      /* not JSON */
      {"{\"rows\": [", SM_EFORMAT, ":1:10: invalid JSON"},
  };
  for (size_t i = 0; i < SM_ARRAY_LEN(cases); i++) {
    char path[32], want[256];
    write_table(path, cases[i].json);
    snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
    struct core_theory t;
    struct sm_err err = {0};
    int rc = core_theory_load(path, NULL, 0, NULL, 0, &t, &err);
    ck_assert_msg(rc == cases[i].code, "case %zu: rc %d (%s)", i, rc, err.msg);
    ck_assert_int_eq(err.code, cases[i].code);
    ck_assert_msg(strstr(err.msg, want) == err.msg,
                  "case %zu: '%s' does not start with '%s'", i, err.msg, want);
    ck_assert_ptr_null(t.rows);
    core_theory_free(&t); /* harmless after a refusal */
    unlink(path);
  }
  /* a missing file, and bad extra architectures */
  struct core_theory t;
  struct sm_err err = {0};
  ck_assert_int_eq(core_theory_load("/nonexistent/table.json", NULL, 0, NULL,
                                    0, &t, &err),
                   SM_ENOENT);
  ck_assert(strstr(err.msg, "/nonexistent/table.json: cannot open") == err.msg);
  struct core_theory_arch neg = {"neg", -1, 0}, nan_arch = {"nan", NAN, 0};
  ck_assert_int_eq(core_theory_load(TABLE2, &neg, 1, NULL, 0, &t, &err),
                   SM_ERANGE);
  ck_assert(strstr(err.msg, "'neg'"));
  ck_assert_int_eq(core_theory_load(TABLE2, &nan_arch, 1, NULL, 0, &t, &err),
                   SM_ERANGE);
  struct core_theory_arch many[CORE_THEORY_MAX_ARCH + 1] = {{"x", 1, 1}};
  ck_assert_int_eq(core_theory_load(TABLE2, many, SM_ARRAY_LEN(many), NULL, 0,
                                    &t, &err),
                   SM_ELIMIT);
  ck_assert_ptr_null(t.rows);
  /* a NULL err is allowed */
  ck_assert_int_eq(core_theory_load("/nonexistent/table.json", NULL, 0, NULL,
                                    0, &t, NULL),
                   SM_ENOENT);
}
END_TEST


/* ---- the output unit's tie rule --------------------------------------------- */

START_TEST(test_crossing_cmp_orders_fractions_exactly) {
  ck_assert_int_eq(core_crossing_cmp(1, 3, 2, 6), 0);
  ck_assert_int_eq(core_crossing_cmp(1, 3, 1, 2), -1);
  ck_assert_int_eq(core_crossing_cmp(1, 2, 1, 3), 1);
  ck_assert_int_eq(core_crossing_cmp(0, 1, 0, 7), 0);
  /* neighbours that double precision cannot tell apart */
  int64_t big = ((int64_t)1 << 62) - 1;
  ck_assert_int_eq(core_crossing_cmp(big - 1, big, big - 2, big - 1), 1);
  ck_assert_int_eq(core_crossing_cmp(big, big - 1, big - 1, big - 2), -1);
  ck_assert_int_eq(core_crossing_cmp(INT64_MAX, 1, big, 1), 1);
  /* against 128-bit products on random fractions */
  struct sim_rng r;
  sim_rng_init(&r, 11, 0);
  for (int i = 0; i < 100000; i++) {
    int sh = (int)sim_rng_below(&r, 63);
    int64_t n1 = (int64_t)(sim_rng_next(&r) >> 1) >> sh;
    int64_t d1 = ((int64_t)(sim_rng_next(&r) >> 1) >> sh) + 1;
    int64_t n2 = i & 1 ? n1 + (int64_t)sim_rng_below(&r, 3) - 1
                       : (int64_t)(sim_rng_next(&r) >> 1) >> sh;
    int64_t d2 = i & 2 ? d1 : ((int64_t)(sim_rng_next(&r) >> 1) >> sh) + 1;
    if (n2 < 0)
      n2 = 0;
    unsigned __int128 p1 = (unsigned __int128)n1 * (uint64_t)d2;
    unsigned __int128 p2 = (unsigned __int128)n2 * (uint64_t)d1;
    ck_assert_int_eq(core_crossing_cmp(n1, d1, n2, d2),
                     p1 < p2 ? -1 : p1 > p2 ? 1 : 0);
  }
}
END_TEST

START_TEST(test_crossing_lies_in_the_fire_step) {
  struct sim_rng r;
  sim_rng_init(&r, 12, 0);
  int64_t m;
  int f;
  ck_assert_int_eq(core_scale_fixed(0.037, &m, &f), 0);
  int fired = 0;
  for (int i = 0; i < 20000; i++) {
    int64_t a = (int64_t)sim_rng_below(&r, 400) - 150;
    int64_t b = (int64_t)sim_rng_below(&r, 4000) - 1000;
    int32_t u = core_fire_step(a, b, m, f, 10, 0, CORE_ROUND_CEIL);
    if (u == CORE_SILENT)
      continue;
    fired++;
    int64_t num, den;
    core_crossing(a, b, m, f, 10, &num, &den);
    ck_assert(num >= 0 && den > 0);
    /* ceil rounding: the crossing is in (u-1, u] (0 when u = 0) */
    ck_assert_int_le(core_crossing_cmp(num, den, u, 1), 0);
    if (u > 0)
      ck_assert_int_gt(core_crossing_cmp(num, den, u - 1, 1), 0);
    else
      ck_assert_int_eq(num, 0);
  }
  ck_assert_int_gt(fired, 1000);
}
END_TEST

/* Two outputs fire at the same step 5; output 1 crosses at 4.31 steps,
 * output 0 at 4.81: the exact rule picks 1, the index rule 0. */
START_TEST(test_output_tie_decided_by_exact_crossing_then_index) {
  static int8_t q[6] = {7, 0,  /* output 0: crossing (10 - 3.5) / 1.35 */
                        6, 3,  /* output 1: crossing (10 - 3.75) / 1.45 */
                        6, 3}; /* output 2: the same as output 1 */
  struct layers L;
  memset(&L, 0, sizeof L);
  L.n = 2;
  L.l[0] = (struct core_layer){.kind = CORE_LAYER_INPUT, .out_c = 2,
                               .out_h = 1, .out_w = 1, .pool = 1};
  L.l[1] = (struct core_layer){.kind = CORE_LAYER_DENSE, .in_c = 2, .in_h = 1,
                               .in_w = 1, .out_c = 3, .out_h = 1, .out_w = 1,
                               .pool = 1, .bits = 4, .scale = 0.05, .q = q};
  for (int rule = CORE_TIE_EXACT; rule <= CORE_TIE_INDEX; rule++) {
    struct core_conf c = test_conf();
    c.tie_rule = rule;
    struct net *n = net_new(&c, &L, 1);
    net_frame(n, 0, (int32_t[]){0, 5}); /* x = 10 and 5 steps */
    const int32_t *u = core_array_fire_steps(n->a, 1);
    ck_assert_int_eq(u[0], 5);
    ck_assert_int_eq(u[1], 5);
    ck_assert_int_eq(u[2], 5);
    ck_assert_int_eq(core_array_output_cmp(n->a, 1, 1, 0), -1);
    ck_assert_int_eq(core_array_output_cmp(n->a, 1, 1, 2), 0);
    if (rule == CORE_TIE_EXACT) {
      ck_assert(core_array_output_before(n->a, 1, 1, 0));
      ck_assert(!core_array_output_before(n->a, 1, 0, 1));
      ck_assert(core_array_output_before(n->a, 1, 1, 2)); /* exact tie */
      ck_assert(!core_array_output_before(n->a, 1, 2, 1));
    } else {
      ck_assert(core_array_output_before(n->a, 1, 0, 1));
      ck_assert(!core_array_output_before(n->a, 1, 1, 0));
    }
    /* an output that did not fire comes after every one that did */
    net_frame(n, sim_now(n->k), (int32_t[]){CORE_SILENT, 5});
    ck_assert_int_eq(core_array_fire_steps(n->a, 1)[0], CORE_SILENT);
    ck_assert_int_eq(core_array_fire_steps(n->a, 1)[1], 9); /* 8.04 */
    ck_assert_int_eq(core_array_output_cmp(n->a, 1, 0, 1), 1);
    net_free(n);
  }
}
END_TEST

static Suite *core_suite(void) {
  Suite *s = suite_create("core");
  TCase *t = tcase_create("neuron");
  tcase_add_test(t, test_scale_fixed_is_normalized_and_close);
  tcase_add_test(t, test_fire_step_closed_form_equals_step_by_step_membrane);
  tcase_add_test(t, test_integer_fire_step_equals_float_formula_up_to_quantization);
  tcase_add_test(t, test_fire_step_never_before_the_arrival_step);
  suite_add_tcase(s, t);
  t = tcase_create("array");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, test_mlp_spike_times_equal_layer_by_layer_reference);
  tcase_add_test(t, test_conv_pool_spike_times_and_sops_equal_reference);
  tcase_add_test(t, test_tiled_cores_equal_reference_and_count_their_own_sops);
  tcase_add_test(t, test_sop_time_delays_application_but_not_results);
  tcase_add_test(t, test_late_spike_counted_when_target_already_fired);
  tcase_add_test(t, test_network_delay_beyond_window_drops_every_spike);
  tcase_add_test(t, test_mid_window_arrivals_match_step_by_step_membrane);
  suite_add_tcase(s, t);
  t = tcase_create("ties");
  tcase_add_test(t, test_crossing_cmp_orders_fractions_exactly);
  tcase_add_test(t, test_crossing_lies_in_the_fire_step);
  tcase_add_test(t, test_output_tie_decided_by_exact_crossing_then_index);
  suite_add_tcase(s, t);
  t = tcase_create("refusals");
  tcase_add_test(t, test_core_refuses_too_many_neurons_and_small_sram);
  tcase_add_test(t, test_core_rejects_bad_layers);
  tcase_add_test(t, test_core_refuses_bad_tiles);
  tcase_add_test(t, test_core_refuses_event_kinds_past_the_kernel_limit);
  suite_add_tcase(s, t);
  t = tcase_create("energy");
  tcase_add_test(t, test_core_and_energy_options_have_valid_defaults);
  tcase_add_test(t, test_energy_terms_recompute_from_counts);
  tcase_add_test(t, test_chip_static_energy_scales_with_cores_and_routers);
  suite_add_tcase(s, t);
  t = tcase_create("theory");
  tcase_add_test(t, test_theory_reproduces_table2);
  tcase_add_test(t, test_theory_refuses_bad_tables);
  tcase_add_test(t, test_theory_keeps_printed_values_of_every_architecture);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(core_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
