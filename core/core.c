/*
 * core.c -- neuromorphic cores: closed-form DFT/ReL-PSP neurons on integer
 * weights, SRAM accounting, SOP counting, fused pooling, late spikes.
 *
 * Per frame a core does three kinds of work, each an event:
 *   OPEN   its layer's window opens: every neuron's fire step is computed
 *          in closed form from the slope/offset accumulated so far, and one
 *          TICK is queued per step that some neuron fires at;
 *   TICK   a step boundary: neurons whose fire step is this step fire (in
 *          index order) and are sent through the network interface; fused
 *          pooling lets only the first spike of a pool window through;
 *   APPLY  an arrived spike leaves the SRAM pipeline: its synapses are added
 *          to the touched neurons; inside the window only those neurons are
 *          recomputed (never to a step in the past).
 * Cost: OPEN is O(neurons), TICK O(neurons) per distinct fire step (at most
 * S+1 per window), APPLY O(synapses touched).  A spike arriving at a core
 * whose pipeline is free at zero SOP time is applied in the receive call,
 * without an event.
 *
 * Rejected: one event per neuron with cancellation by version numbers
 * (more events per frame than neurons; the tick scan is cheaper up to the
 * 1024 neurons a core holds), and stepping every neuron at every step (the
 * brute-force reference in the tests does that).
 */
#include "core/core-int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct sm_opt core_conf_opts[] = {
    SM_OPT_U(struct core_conf, neurons_per_core, "core.neurons_per_core",
             "1024", "neurons", 1, 1048576,
             "neurons one core holds (one tile of a layer: channels x rows "
             "x columns)"),
    SM_OPT_U(struct core_conf, sram_bytes, "core.sram_bytes", "1048576",
             "bytes", 1, 1.0e12,
             "synapse SRAM per core: weights of its neurons' incoming "
             "synapses (conv: its channels' kernels) plus 4 bytes of scale"),
    SM_OPT_U(struct core_conf, weight_bits, "core.weight_bits", "4", "bits", 1,
             8, "bits per stored weight (a model layer may use fewer)"),
    SM_OPT_U(struct core_conf, steps_per_window, "core.steps_per_window", "10",
             "steps", 1, CORE_MAX_STEPS,
             "time steps in one layer's window (spike times are whole steps)"),
    SM_OPT_U(struct core_conf, step_ps, "core.step_ps", "1000000", "ps", 1,
             1.0e12, "length of one time step"),
    SM_OPT_U(struct core_conf, sop_ps, "core.sop_ps", "1000", "ps", 0, 1.0e9,
             "time of one SRAM access round (sop_lanes synaptic operations)"),
    SM_OPT_U(struct core_conf, sop_lanes, "core.sop_lanes", "1024", "SOPs", 1,
             1048576, "synaptic operations served by one SRAM access round"),
    SM_OPT_E(struct core_conf, fire_round, "core.fire_round", "ceil",
             CORE_ROUND_CHOICES,
             "crossing time to step: first step boundary above threshold "
             "(ceil) or nearest step"),
    SM_OPT_E(struct core_conf, tie_rule, "core.tie_rule", "exact",
             CORE_TIE_CHOICES,
             "output spikes at the same step: earliest exact crossing time "
             "from the integer slope and offset, then lowest index (exact), "
             "or lowest index only (index)"),
};
const size_t core_conf_nopts = SM_ARRAY_LEN(core_conf_opts);

/* ---- the neuron ---------------------------------------------------------- */

int core_scale_fixed(double scale, int64_t *m, int *f) {
  if (!(scale > 0) || !isfinite(scale))
    return SM_ERANGE;
  int e;
  double fr = frexp(scale, &e); /* scale = fr * 2^e, fr in [0.5, 1) */
  int64_t mm = (int64_t)llround(ldexp(fr, CORE_SCALE_BITS));
  int ff = CORE_SCALE_BITS - e;
  if (mm == (int64_t)1 << CORE_SCALE_BITS) { /* rounded up to the next power */
    mm >>= 1;
    ff -= 1;
  }
  if (ff < 0 || ff > 62)
    return SM_ERANGE;
  *m = mm;
  *f = ff;
  return 0;
}

double core_scale_value(int64_t m, int f) { return ldexp((double)m, -f); }

int32_t core_fire_step(int64_t a, int64_t b, int64_t m, int f, int64_t s,
                       int64_t k, int round) {
  int64_t d = m * a + ((int64_t)1 << f); /* 2^f (1 + sum w) */
  int64_t n = (s << f) - m * b;          /* 2^f (S - sum w x) */
  if (k > s)
    return CORE_SILENT;
  if (d > 0) {
    /* V - threshold grows with u: fires from the crossing N/D on, if the
     * crossing is strictly before the window end. */
    if (n >= s * d)
      return CORE_SILENT;
    int64_t u;
    if (n <= 0)
      u = 0;
    else if (round == CORE_ROUND_NEAREST)
      u = (2 * n + d) / (2 * d);
    else
      u = (n + d - 1) / d;
    if (u < k)
      u = k;
    return u > s ? CORE_SILENT : (int32_t)u;
  }
  /* D <= 0: V - threshold never grows; above threshold at step k or never
   * (at the window end only strictly above: x_out > 0, as for D > 0). */
  if (k < s ? k * d >= n : k * d > n)
    return (int32_t)k;
  return CORE_SILENT;
}

void core_crossing(int64_t a, int64_t b, int64_t m, int f, int64_t s,
                   int64_t *num, int64_t *den) {
  int64_t d = m * a + ((int64_t)1 << f);
  int64_t n = (s << f) - m * b;
  if (n <= 0 || d <= 0) { /* above threshold at the opening (or never) */
    *num = 0;
    *den = 1;
    return;
  }
  *num = n;
  *den = d;
}

/* 64 x 64 -> 128-bit unsigned product as (hi, lo), in portable C. */
static void mul_u128(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo) {
  uint64_t x0 = (uint32_t)x, x1 = x >> 32, y0 = (uint32_t)y, y1 = y >> 32;
  uint64_t p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
  uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
  *lo = (mid << 32) | (uint32_t)p00;
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

int core_crossing_cmp(int64_t n1, int64_t d1, int64_t n2, int64_t d2) {
  assert(n1 >= 0 && n2 >= 0 && d1 > 0 && d2 > 0);
  uint64_t h1, l1, h2, l2;
  mul_u128((uint64_t)n1, (uint64_t)d2, &h1, &l1); /* n1/d1 vs n2/d2 */
  mul_u128((uint64_t)n2, (uint64_t)d1, &h2, &l2);
  if (h1 != h2)
    return h1 < h2 ? -1 : 1;
  if (l1 != l2)
    return l1 < l2 ? -1 : 1;
  return 0;
}

/* ---- layers ----------------------------------------------------------------- */

static uint32_t fan_in(const struct core_layer *l) {
  if (l->kind == CORE_LAYER_CONV)
    return (uint32_t)(l->in_c * l->kernel * l->kernel);
  if (l->kind == CORE_LAYER_DENSE)
    return (uint32_t)(l->in_c * l->in_h * l->in_w);
  return 0;
}

uint64_t core_slice_weights(const struct core_layer *l, uint32_t nch) {
  if (l->kind == CORE_LAYER_CONV)
    return (uint64_t)nch * fan_in(l);
  if (l->kind == CORE_LAYER_DENSE)
    return (uint64_t)nch * (uint64_t)l->out_h * (uint64_t)l->out_w * fan_in(l);
  return 0;
}

uint64_t core_slice_sram(const struct core_layer *l, uint32_t nch,
                         uint64_t weight_bits) {
  if (l->kind == CORE_LAYER_INPUT)
    return 0;
  return (core_slice_weights(l, nch) * weight_bits + 7) / 8 + CORE_SCALE_BYTES;
}

static const char *kind_name(enum core_layer_kind k) {
  return k == CORE_LAYER_CONV ? "conv" : k == CORE_LAYER_DENSE ? "dense"
                                                               : "input";
}

static int check_layer(const struct core_conf *c, const struct core_layer *l,
                       const struct core_layer *prev, uint32_t i,
                       struct sm_err *err) {
  if (l->out_c < 1 || l->out_h < 1 || l->out_w < 1)
    return sm_fail(err, SM_EINVAL, "layer %u: empty output shape %dx%dx%d", i,
                   l->out_c, l->out_h, l->out_w);
  if ((uint64_t)l->out_c * (uint64_t)l->out_h * (uint64_t)l->out_w >
      UINT32_MAX / 2)
    return sm_fail(err, SM_ELIMIT, "layer %u: too many neurons", i);
  if (i == 0) {
    if (l->kind != CORE_LAYER_INPUT)
      return sm_fail(err, SM_EINVAL, "layer 0 must be the input layer");
    if (l->pool > 1)
      return sm_fail(err, SM_EINVAL, "layer 0 (input): pooling not allowed");
    return 0;
  }
  if (l->kind == CORE_LAYER_INPUT)
    return sm_fail(err, SM_EINVAL, "layer %u: only layer 0 is an input", i);
  if (l->pool < 1 || l->pool > l->out_h || l->pool > l->out_w)
    return sm_fail(err, SM_EINVAL,
                   "layer %u: pool window %d does not fit the %dx%d map", i,
                   l->pool, l->out_h, l->out_w);
  uint64_t pin = core_layer_outputs(prev);
  if (l->kind == CORE_LAYER_DENSE) {
    if ((uint64_t)l->in_c * (uint64_t)l->in_h * (uint64_t)l->in_w != pin)
      return sm_fail(err, SM_EINVAL,
                     "layer %u (dense): %d inputs, but layer %u sends %llu", i,
                     l->in_c * l->in_h * l->in_w, i - 1,
                     (unsigned long long)pin);
    if (l->out_h != 1 || l->out_w != 1)
      return sm_fail(err, SM_EINVAL, "layer %u (dense): output must be 1x1xN",
                     i);
  } else {
    int p = prev->pool > 1 ? prev->pool : 1;
    if (l->in_c != prev->out_c || l->in_h != prev->out_h / p ||
        l->in_w != prev->out_w / p)
      return sm_fail(err, SM_EINVAL,
                     "layer %u (conv): input %dx%dx%d does not match layer "
                     "%u's output %dx%dx%d",
                     i, l->in_c, l->in_h, l->in_w, i - 1, prev->out_c,
                     prev->out_h / p, prev->out_w / p);
    if (l->kernel < 1 || l->stride < 1 || l->pad < 0 || l->pad >= l->kernel)
      return sm_fail(err, SM_EINVAL,
                     "layer %u (conv): kernel %d, stride %d, pad %d invalid",
                     i, l->kernel, l->stride, l->pad);
    int oh = (l->in_h + 2 * l->pad - l->kernel) / l->stride + 1;
    int ow = (l->in_w + 2 * l->pad - l->kernel) / l->stride + 1;
    if (oh != l->out_h || ow != l->out_w)
      return sm_fail(err, SM_EINVAL,
                     "layer %u (conv): output %dx%d, expected %dx%d from the "
                     "kernel, stride and pad",
                     i, l->out_h, l->out_w, oh, ow);
  }
  if (l->bits < 1 || (uint64_t)l->bits > c->weight_bits)
    return sm_fail(err, SM_ERANGE,
                   "layer %u (%s): %d-bit weights; the cores store "
                   "core.weight_bits = %llu bits (quantize the model)",
                   i, kind_name(l->kind), l->bits,
                   (unsigned long long)c->weight_bits);
  int64_t m;
  int f;
  if (core_scale_fixed(l->scale, &m, &f))
    return sm_fail(err, SM_ERANGE,
                   "layer %u (%s): weight scale %g is not a positive number "
                   "in range",
                   i, kind_name(l->kind), l->scale);
  /* Worst case sums: |A| <= fan*2^7, |B| <= fan*2^7*S; the fire-step
   * arithmetic multiplies by m < 2^21 and by S (and 2 for rounding). */
  double fan = fan_in(l), s = (double)c->steps_per_window;
  if (fan * 128.0 * s * 4.0 * 2097152.0 > 4.0e18 ||
      ldexp(s * 4.0, f) > 4.0e18)
    return sm_fail(err, SM_ELIMIT,
                   "layer %u (%s): fan-in %u with %llu steps per window and "
                   "scale %g would overflow 64-bit neuron arithmetic",
                   i, kind_name(l->kind), fan_in(l),
                   (unsigned long long)c->steps_per_window, l->scale);
  if (!l->q)
    return sm_fail(err, SM_EINVAL, "layer %u: no quantized weights", i);
  int lo = -(1 << (l->bits - 1)), hi = (1 << (l->bits - 1)) - 1;
  uint64_t nw = core_slice_weights(l, (uint32_t)l->out_c);
  for (uint64_t j = 0; j < nw; j++)
    if (l->q[j] < lo || l->q[j] > hi)
      return sm_fail(err, SM_ERANGE,
                     "layer %u: weight %llu is %d, outside the %d-bit range "
                     "[%d, %d]",
                     i, (unsigned long long)j, l->q[j], l->bits, lo, hi);
  return 0;
}

/* ---- array --------------------------------------------------------------- */

static void on_open(struct sim_kernel *k, const struct sim_event *ev, void *ctx);
static void on_tick(struct sim_kernel *k, const struct sim_event *ev, void *ctx);
static void on_apply(struct sim_kernel *k, const struct sim_event *ev,
                     void *ctx);

int core_array_new(struct sim_kernel *k, const struct core_conf *c,
                   const struct core_layer *layers, uint32_t nlayers,
                   uint16_t kind_base, core_send_fn send, void *ctx,
                   struct core_array **out, struct sm_err *err) {
  *out = NULL;
  if (nlayers < 2 || nlayers > CORE_MAX_LAYERS)
    return sm_fail(err, SM_EINVAL,
                   "a network needs 2 to %d layers (input included), got %u",
                   CORE_MAX_LAYERS, nlayers);
  if (c->steps_per_window < 1 || c->steps_per_window > CORE_MAX_STEPS)
    return sm_fail(err, SM_ERANGE, "core.steps_per_window = %llu: expected 1..%d",
                   (unsigned long long)c->steps_per_window, CORE_MAX_STEPS);
  if (c->step_ps < 1 || c->sop_lanes < 1 || c->neurons_per_core < 1)
    return sm_fail(err, SM_ERANGE,
                   "core.step_ps, core.sop_lanes and core.neurons_per_core "
                   "must be >= 1");
  if ((double)c->step_ps * (double)c->steps_per_window * (nlayers + 1) > 1.0e18)
    return sm_fail(err, SM_ELIMIT,
                   "core.step_ps x core.steps_per_window x layers exceeds the "
                   "simulated time range");
  for (uint32_t i = 0; i < nlayers; i++) {
    int rc = check_layer(c, &layers[i], i ? &layers[i - 1] : NULL, i, err);
    if (rc)
      return rc;
  }
  if ((unsigned)kind_base + CORE_NKINDS > SIM_MAX_KINDS)
    return sm_fail(err, SM_ERANGE,
                   "core: event kinds %u..%u exceed the kernel's limit of %d "
                   "kinds (0..%d)",
                   kind_base, kind_base + CORE_NKINDS - 1, SIM_MAX_KINDS,
                   SIM_MAX_KINDS - 1);
  struct core_array *a = sm_xcalloc(1, sizeof *a);
  a->k = k;
  a->conf = *c;
  a->kind_base = kind_base;
  a->send = send;
  a->ctx = ctx;
  a->nlayers = nlayers;
  a->lay = sm_xcalloc(nlayers, sizeof *a->lay);
  for (uint32_t i = 0; i < nlayers; i++) {
    struct core_lay *L = &a->lay[i];
    L->spec = layers[i];
    if (L->spec.pool < 1)
      L->spec.pool = 1;
    L->plane = (uint32_t)(L->spec.out_h * L->spec.out_w);
    L->nneurons = (uint32_t)L->spec.out_c * L->plane;
    L->pooled_plane =
        (uint32_t)((L->spec.out_h / L->spec.pool) * (L->spec.out_w / L->spec.pool));
    L->nout = core_layer_outputs(&L->spec);
    L->ninputs = i ? a->lay[i - 1].nout : 0;
    L->fire = sm_xmallocarray(L->nneurons, sizeof *L->fire);
    L->held = sm_xcalloc(L->nneurons, 1);
    L->key_n = sm_xmallocarray(L->nout, sizeof *L->key_n);
    L->key_d = sm_xmallocarray(L->nout, sizeof *L->key_d);
    for (uint32_t j = 0; j < L->nout; j++) {
      L->key_n[j] = INT64_MAX;
      L->key_d[j] = 1;
    }
    for (uint32_t j = 0; j < L->nneurons; j++)
      L->fire[j] = CORE_SILENT;
    if (i > 0) {
      uint64_t nw = core_slice_weights(&L->spec, (uint32_t)L->spec.out_c);
      L->q = sm_xmalloc(nw);
      memcpy(L->q, layers[i].q, nw);
      L->spec.q = L->q;
      core_scale_fixed(L->spec.scale, &L->m, &L->f);
    } else {
      L->spec.q = NULL;
    }
  }
  sim_register(k, kind_base + CORE_EV_OPEN, on_open, a);
  sim_register(k, kind_base + CORE_EV_TICK, on_tick, a);
  sim_register(k, kind_base + CORE_EV_APPLY, on_apply, a);
  *out = a;
  return 0;
}

static void core_release(struct core *c) {
  free(c->a);
  free(c->b);
  free(c->fire);
  free(c->gidx);
  free(c->oidx);
  free(c->pslot);
  free(c->fired);
  free(c->pool_sent);
  free(c->tick_pending);
  free(c->wt);
}

void core_array_free(struct core_array *a) {
  if (!a)
    return;
  for (uint32_t i = 0; i < a->ncores; i++)
    core_release(&a->cores[i]);
  free(a->cores);
  for (uint32_t i = 0; i < a->nlayers; i++) {
    free(a->lay[i].q);
    free(a->lay[i].fire);
    free(a->lay[i].held);
    free(a->lay[i].key_n);
    free(a->lay[i].key_d);
  }
  free(a->lay);
  free(a);
}

/* A tile edge v of a map side of n splits a pooling window of side p when
 * it falls strictly inside one of the n / p windows. */
static int splits_pool(uint32_t v, uint32_t n, int p) {
  return p > 1 && v % (uint32_t)p && v < n / (uint32_t)p * (uint32_t)p;
}

int core_array_add(struct core_array *a, uint32_t layer,
                   const struct core_tile *t, uint32_t *id,
                   struct sm_err *err) {
  if (layer >= a->nlayers)
    return sm_fail(err, SM_EINVAL, "core for layer %u: the network has %u layers",
                   layer, a->nlayers);
  struct core_lay *L = &a->lay[layer];
  const char *kn = kind_name(L->spec.kind);
  const struct {
    const char *what;
    uint32_t lo, hi, n;
  } r[3] = {{"channels", t->c0, t->c1, (uint32_t)L->spec.out_c},
            {"rows", t->y0, t->y1, (uint32_t)L->spec.out_h},
            {"columns", t->x0, t->x1, (uint32_t)L->spec.out_w}};
  for (int k = 0; k < 3; k++) {
    if (r[k].lo >= r[k].hi || r[k].hi > r[k].n)
      return sm_fail(err, SM_EINVAL,
                     "layer %u (%s): %s range [%u, %u) empty or outside "
                     "[0, %u)",
                     layer, kn, r[k].what, r[k].lo, r[k].hi, r[k].n);
    if (k && (splits_pool(r[k].lo, r[k].n, L->spec.pool) ||
              splits_pool(r[k].hi, r[k].n, L->spec.pool)))
      return sm_fail(err, SM_EINVAL,
                     "layer %u (%s): %s [%u, %u) split a %dx%d pooling window "
                     "(pooling stays inside a core)",
                     layer, kn, r[k].what, r[k].lo, r[k].hi, L->spec.pool,
                     L->spec.pool);
  }
  uint32_t nch = t->c1 - t->c0, th = t->y1 - t->y0, tw = t->x1 - t->x0;
  uint64_t n = (uint64_t)nch * th * tw;
  if (n > a->conf.neurons_per_core)
    return sm_fail(err, SM_ENOFIT,
                   "layer %u (%s): a core of channels [%u, %u), rows [%u, %u), "
                   "columns [%u, %u) holds %llu neurons; "
                   "core.neurons_per_core = %llu (short by %llu)",
                   layer, kn, t->c0, t->c1, t->y0, t->y1, t->x0, t->x1,
                   (unsigned long long)n,
                   (unsigned long long)a->conf.neurons_per_core,
                   (unsigned long long)(n - a->conf.neurons_per_core));
  uint64_t need = core_slice_sram(&L->spec, nch, a->conf.weight_bits);
  if (need > a->conf.sram_bytes)
    return sm_fail(err, SM_ENOFIT,
                   "layer %u (%s): a core of channels [%u, %u) needs %llu "
                   "bytes of SRAM; core.sram_bytes = %llu (short by %llu)",
                   layer, kn, t->c0, t->c1, (unsigned long long)need,
                   (unsigned long long)a->conf.sram_bytes,
                   (unsigned long long)(need - a->conf.sram_bytes));
  uint32_t ow = (uint32_t)L->spec.out_w;
  for (uint32_t ch = t->c0; ch < t->c1; ch++)
    for (uint32_t y = t->y0; y < t->y1; y++)
      for (uint32_t x = t->x0; x < t->x1; x++)
        if (L->held[ch * L->plane + y * ow + x])
          return sm_fail(err, SM_EINVAL,
                         "layer %u (%s): neuron (channel %u, y %u, x %u) is "
                         "held by another core already",
                         layer, kn, ch, y, x);
  if (a->ncores == a->capcores) {
    a->capcores = a->capcores ? 2 * a->capcores : 16;
    a->cores = sm_xreallocarray(a->cores, a->capcores, sizeof *a->cores);
  }
  struct core *c = &a->cores[a->ncores];
  memset(c, 0, sizeof *c);
  c->layer = layer;
  c->t = *t;
  c->tw = tw;
  c->tplane = th * tw;
  c->n = (uint32_t)n;
  c->a = sm_xcalloc(n, sizeof *c->a);
  c->b = sm_xcalloc(n, sizeof *c->b);
  c->fire = sm_xmallocarray(n, sizeof *c->fire);
  c->gidx = sm_xmallocarray(n, sizeof *c->gidx);
  c->oidx = sm_xmallocarray(n, sizeof *c->oidx);
  c->fired = sm_xcalloc(n, 1);
  int p = L->spec.pool;
  uint32_t ph = (uint32_t)(L->spec.out_h / p), pw = (uint32_t)(L->spec.out_w / p);
  /* the tile's pooling windows: pooled rows [py0, py1), columns [px0, px1) */
  uint32_t py0 = t->y0 / (uint32_t)p, px0 = t->x0 / (uint32_t)p;
  uint32_t py1 = (t->y1 < ph * (uint32_t)p ? t->y1 : ph * (uint32_t)p) / (uint32_t)p;
  uint32_t px1 = (t->x1 < pw * (uint32_t)p ? t->x1 : pw * (uint32_t)p) / (uint32_t)p;
  uint32_t tph = py1 > py0 ? py1 - py0 : 0, tpw = px1 > px0 ? px1 - px0 : 0;
  c->npool = nch * tph * tpw;
  c->pool_sent = sm_xcalloc((size_t)c->npool + 1, 1);
  if (p > 1)
    c->pslot = sm_xmallocarray(n, sizeof *c->pslot);
  uint32_t j = 0;
  for (uint32_t ch = t->c0; ch < t->c1; ch++)
    for (uint32_t y = t->y0; y < t->y1; y++)
      for (uint32_t x = t->x0; x < t->x1; x++, j++) {
        uint32_t g = ch * L->plane + y * ow + x;
        L->held[g] = 1;
        c->gidx[j] = g;
        c->fire[j] = CORE_SILENT;
        c->oidx[j] = g;
        if (p > 1) {
          uint32_t py = y / (uint32_t)p, px = x / (uint32_t)p;
          if (py >= ph || px >= pw) {
            c->oidx[j] = UINT32_MAX; /* cropped by the pooling */
            c->pslot[j] = 0;
          } else {
            c->oidx[j] = ch * L->pooled_plane + py * pw + px;
            c->pslot[j] = ((ch - t->c0) * tph + (py - py0)) * tpw + (px - px0);
          }
        }
      }
  c->tick_pending = sm_xcalloc(a->conf.steps_per_window + 1, 1);
  if (L->spec.kind == CORE_LAYER_DENSE) {
    uint32_t fi = fan_in(&L->spec);
    c->wt = sm_xmallocarray((size_t)fi * n, 1);
    for (uint32_t k = 0; k < n; k++)
      for (uint32_t i = 0; i < fi; i++)
        c->wt[(size_t)i * n + k] = L->q[(size_t)c->gidx[k] * fi + i];
    c->w = c->wt;
  } else if (L->spec.kind == CORE_LAYER_CONV) {
    c->w = L->q + (size_t)t->c0 * fan_in(&L->spec);
  }
  L->covered += (uint32_t)n;
  *id = a->ncores++;
  return 0;
}

uint32_t core_array_ncores(const struct core_array *a) { return a->ncores; }

uint32_t core_array_core_layer(const struct core_array *a, uint32_t core) {
  assert(core < a->ncores);
  return a->cores[core].layer;
}

const struct core_layer_stats *core_array_stats(const struct core_array *a,
                                                uint32_t layer) {
  assert(layer < a->nlayers);
  return &a->lay[layer].st;
}

uint64_t core_array_core_sops(const struct core_array *a, uint32_t core) {
  assert(core < a->ncores);
  return a->cores[core].sops;
}

const int32_t *core_array_fire_steps(const struct core_array *a,
                                     uint32_t layer) {
  assert(layer < a->nlayers);
  return a->lay[layer].fire;
}

int core_array_output_cmp(const struct core_array *a, uint32_t layer,
                          uint32_t o1, uint32_t o2) {
  assert(layer < a->nlayers);
  const struct core_lay *L = &a->lay[layer];
  assert(o1 < L->nout && o2 < L->nout);
  return core_crossing_cmp(L->key_n[o1], L->key_d[o1], L->key_n[o2],
                           L->key_d[o2]);
}

int core_array_output_before(const struct core_array *a, uint32_t layer,
                             uint32_t o1, uint32_t o2) {
  if (a->conf.tie_rule == CORE_TIE_EXACT) {
    int c = core_array_output_cmp(a, layer, o1, o2);
    if (c)
      return c < 0;
  }
  return o1 < o2;
}

int core_array_idle(const struct core_array *a) { return a->outstanding == 0; }

uint64_t core_array_settle(struct core_array *a) {
  uint64_t total = 0;
  int64_t s = (int64_t)a->conf.steps_per_window;
  for (uint32_t i = 0; i < a->ncores; i++) {
    struct core *c = &a->cores[i];
    struct core_lay *L = &a->lay[c->layer];
    if (L->spec.kind == CORE_LAYER_INPUT)
      continue;
    uint64_t n = 0;
    for (uint32_t j = 0; j < c->n; j++)
      n += core_fire_step(c->a[j], c->b[j], L->m, L->f, s, 0,
                          a->conf.fire_round) != c->fire[j];
    L->st.perturbed += n;
    total += n;
  }
  return total;
}

/* ---- frames and events ---------------------------------------------------- */

static void schedule(struct core_array *a, sim_time_t t, int kind, uint32_t core,
                     uint64_t arg) {
  int rc = sim_schedule(a->k, t, (uint16_t)(a->kind_base + kind), core, 0, arg,
                        NULL);
  assert(rc == 0);
  (void)rc;
  a->outstanding++;
}

static void ensure_tick(struct core_array *a, uint32_t id, int32_t u) {
  struct core *c = &a->cores[id];
  if (c->tick_pending[u])
    return;
  c->tick_pending[u] = 1;
  schedule(a, a->lay[c->layer].open + (sim_time_t)u * a->conf.step_ps,
           CORE_EV_TICK, id, (uint64_t)u);
}

int core_array_frame(struct core_array *a, sim_time_t t0,
                     const int32_t *input_steps) {
  if (a->outstanding || t0 < sim_now(a->k))
    return SM_ESTATE;
  for (uint32_t l = 0; l < a->nlayers; l++)
    if (a->lay[l].covered != a->lay[l].nneurons)
      return SM_ESTATE;
  int32_t s = (int32_t)a->conf.steps_per_window;
  struct core_lay *in = &a->lay[0];
  for (uint32_t j = 0; j < in->nneurons; j++)
    if (input_steps[j] != CORE_SILENT && (input_steps[j] < 0 || input_steps[j] > s))
      return SM_EINVAL;
  uint64_t tw = core_window_ps(&a->conf);
  for (uint32_t l = 0; l < a->nlayers; l++) {
    struct core_lay *L = &a->lay[l];
    L->open = t0 + (sim_time_t)l * tw;
    if (l + 1 == a->nlayers)
      for (uint32_t j = 0; j < L->nout; j++) {
        L->key_n[j] = INT64_MAX;
        L->key_d[j] = 1;
      }
    if (l == 0)
      memcpy(L->fire, input_steps, (size_t)L->nneurons * sizeof *L->fire);
    else
      for (uint32_t j = 0; j < L->nneurons; j++)
        L->fire[j] = CORE_SILENT;
  }
  for (uint32_t i = 0; i < a->ncores; i++) {
    struct core *c = &a->cores[i];
    memset(c->a, 0, (size_t)c->n * sizeof *c->a);
    memset(c->b, 0, (size_t)c->n * sizeof *c->b);
    memset(c->fired, 0, c->n);
    memset(c->pool_sent, 0, c->npool);
    if (c->layer == 0)
      for (uint32_t j = 0; j < c->n; j++)
        c->fire[j] = input_steps[c->gidx[j]];
    else
      for (uint32_t j = 0; j < c->n; j++)
        c->fire[j] = CORE_SILENT;
    memset(c->tick_pending, 0, (size_t)s + 1);
    c->opened = 0;
    c->busy_until = t0;
    schedule(a, a->lay[c->layer].open, CORE_EV_OPEN, i, 0);
  }
  return 0;
}

static void on_open(struct sim_kernel *k, const struct sim_event *ev,
                    void *ctx) {
  (void)k;
  struct core_array *a = ctx;
  a->outstanding--;
  struct core *c = &a->cores[ev->target];
  struct core_lay *L = &a->lay[c->layer];
  int64_t s = (int64_t)a->conf.steps_per_window;
  c->opened = 1;
  if (L->spec.kind != CORE_LAYER_INPUT)
    for (uint32_t j = 0; j < c->n; j++)
      L->fire[c->gidx[j]] = c->fire[j] = core_fire_step(
          c->a[j], c->b[j], L->m, L->f, s, 0, a->conf.fire_round);
  for (uint32_t j = 0; j < c->n; j++)
    if (c->fire[j] != CORE_SILENT)
      ensure_tick(a, ev->target, c->fire[j]);
}

/* The output unit's key for the spike of neuron j (output index out) at
 * step u: the exact crossing from the slope and offset that made it fire.
 * A neuron that fires later than its closed form says (an input arrived
 * inside the window and it was recomputed from that step on) crossed when
 * that input arrived, which the core knows only to the step: its key is
 * the step boundary u. */
static void record_crossing(struct core_array *a, const struct core *c,
                            uint32_t j, int32_t u, uint32_t out) {
  struct core_lay *L = &a->lay[c->layer];
  int64_t s = (int64_t)a->conf.steps_per_window;
  if (core_fire_step(c->a[j], c->b[j], L->m, L->f, s, 0, a->conf.fire_round) ==
      u) {
    core_crossing(c->a[j], c->b[j], L->m, L->f, s, &L->key_n[out],
                  &L->key_d[out]);
  } else {
    L->key_n[out] = u;
    L->key_d[out] = 1;
  }
}

static void on_tick(struct sim_kernel *k, const struct sim_event *ev,
                    void *ctx) {
  struct core_array *a = ctx;
  a->outstanding--;
  uint32_t id = ev->target;
  struct core *c = &a->cores[id];
  struct core_lay *L = &a->lay[c->layer];
  int32_t u = (int32_t)ev->arg;
  c->tick_pending[u] = 0;
  int p = L->spec.pool;
  for (uint32_t j = 0; j < c->n; j++) {
    if (c->fired[j] || c->fire[j] != u)
      continue;
    c->fired[j] = 1;
    L->st.fired++;
    uint32_t out = c->oidx[j];
    if (p > 1) {
      if (out == UINT32_MAX)
        continue; /* cropped by the pooling: feeds nothing */
      if (c->pool_sent[c->pslot[j]])
        continue; /* a pool-mate fired first: min pooling on times */
      c->pool_sent[c->pslot[j]] = 1;
    }
    L->st.sent++;
    if (c->layer + 1 == a->nlayers)
      record_crossing(a, c, j, u, out);
    a->send(a->ctx, id, c->layer, out, (uint32_t)u, sim_now(k));
  }
}

/* Stride 1: the kernel rows (or columns) k in [*k0, *k1] that put input
 * coordinate v on an output coordinate of the tile, [lo, hi): v + pad - k
 * in range.  Empty when *k0 > *k1.  Saves the divisions of the general
 * case. */
static inline void kernel_span(int v, int pad, int kernel, int lo, int hi,
                               int *k0, int *k1) {
  int a = v + pad - (hi - 1), b = v + pad - lo;
  *k0 = a > 0 ? a : 0;
  *k1 = b < kernel - 1 ? b : kernel - 1;
}

/* Any stride: whether kernel row (or column) k puts input coordinate v on
 * an output coordinate of the tile [lo, hi), which goes to *o. */
static inline int kernel_hits(int v, int pad, int k, int stride, int lo,
                              int hi, int *o) {
  int t = v + pad - k;
  if (t < 0 || t % stride)
    return 0;
  *o = t / stride;
  return *o >= lo && *o < hi;
}

/* Synapses a spike from input index i touches in core c (the neurons of
 * its tile only). */
static uint64_t touched(const struct core_array *a, const struct core *c,
                        uint32_t i) {
  const struct core_layer *l = &a->lay[c->layer].spec;
  if (l->kind == CORE_LAYER_DENSE)
    return c->n;
  uint32_t inplane = (uint32_t)(l->in_h * l->in_w);
  int iy = (int)((i % inplane) / (uint32_t)l->in_w);
  int ix = (int)(i % (uint32_t)l->in_w);
  const struct core_tile *t = &c->t;
  if (l->stride == 1) {
    int y0, y1, x0, x1;
    kernel_span(iy, l->pad, l->kernel, (int)t->y0, (int)t->y1, &y0, &y1);
    kernel_span(ix, l->pad, l->kernel, (int)t->x0, (int)t->x1, &x0, &x1);
    if (y0 > y1 || x0 > x1)
      return 0;
    return (uint64_t)(y1 - y0 + 1) * (uint64_t)(x1 - x0 + 1) *
           (t->c1 - t->c0);
  }
  uint64_t ny = 0, nx = 0;
  int o;
  for (int ky = 0; ky < l->kernel; ky++)
    ny += (uint64_t)kernel_hits(iy, l->pad, ky, l->stride, (int)t->y0,
                                (int)t->y1, &o);
  for (int kx = 0; kx < l->kernel; kx++)
    nx += (uint64_t)kernel_hits(ix, l->pad, kx, l->stride, (int)t->x0,
                                (int)t->x1, &o);
  return ny * nx * (t->c1 - t->c0);
}

/* Add one synapse to neuron j; inside the window, recompute it. */
static inline void synapse(struct core_array *a, uint32_t id, struct core *c,
                           uint32_t j, int q, int64_t x, int64_t kstep,
                           int *late) {
  c->a[j] += q; /* for a fired neuron: only for core_array_settle */
  c->b[j] += (int64_t)q * x;
  if (c->fired[j]) {
    (*late)++;
    return;
  }
  if (c->opened) {
    const struct core_lay *L = &a->lay[c->layer];
    int32_t u = core_fire_step(c->a[j], c->b[j], L->m, L->f,
                               (int64_t)a->conf.steps_per_window, kstep,
                               a->conf.fire_round);
    if (u != c->fire[j]) {
      L->fire[c->gidx[j]] = c->fire[j] = u;
      if (u != CORE_SILENT)
        ensure_tick(a, id, u);
    }
  }
}

static void apply(struct core_array *a, uint32_t id, uint64_t payload,
                  uint64_t ntouched) {
  struct core *c = &a->cores[id];
  struct core_lay *L = &a->lay[c->layer];
  sim_time_t now = sim_now(a->k);
  int64_t s = (int64_t)a->conf.steps_per_window;
  if (now > L->open + (sim_time_t)s * a->conf.step_ps) {
    L->st.late_spikes++;
    L->st.dropped++;
    L->st.late_synapses += ntouched;
    return;
  }
  uint32_t i = core_payload_neuron(payload);
  int64_t x = s - (int64_t)core_payload_step(payload);
  int64_t kstep = 0;
  if (c->opened)
    kstep = (int64_t)((now - L->open + a->conf.step_ps - 1) / a->conf.step_ps);
  int late = 0;
  const struct core_layer *l = &L->spec;
  if (l->kind == CORE_LAYER_DENSE) {
    const int8_t *row = c->w + (size_t)i * c->n;
    if (!c->opened) {
      /* before the window (nothing has fired): plain accumulation, the
       * hot path */
      for (uint32_t j = 0; j < c->n; j++) {
        c->a[j] += row[j];
        c->b[j] += (int64_t)row[j] * x;
      }
    } else {
      for (uint32_t j = 0; j < c->n; j++)
        synapse(a, id, c, j, row[j], x, kstep, &late);
    }
  } else {
    uint32_t inplane = (uint32_t)(l->in_h * l->in_w);
    uint32_t ic = i / inplane;
    int iy = (int)((i % inplane) / (uint32_t)l->in_w);
    int ix = (int)(i % (uint32_t)l->in_w);
    int kk = l->kernel;
    uint32_t fi = (uint32_t)(l->in_c * kk * kk);
    const struct core_tile *t = &c->t;
    int ty0 = (int)t->y0, ty1 = (int)t->y1, tx0 = (int)t->x0, tx1 = (int)t->x1;
    int tw = (int)c->tw;
    uint32_t nch = t->c1 - t->c0;
    if (!c->opened && l->stride == 1) {
      /* before the window (nothing has fired): plain accumulation, the
       * hot path of large conv layers, as for dense cores above */
      int y0, y1, x0, x1;
      kernel_span(iy, l->pad, kk, ty0, ty1, &y0, &y1);
      kernel_span(ix, l->pad, kk, tx0, tx1, &x0, &x1);
      /* the local index of output (iy + pad - ky, ix + pad - kx) */
      int base = (iy + l->pad - ty0) * tw + ix + l->pad - tx0;
      for (uint32_t oc = 0; oc < nch; oc++) {
        const int8_t *w =
            c->w + (size_t)oc * fi + (size_t)ic * (uint32_t)(kk * kk);
        int64_t *pa = c->a + (size_t)oc * c->tplane,
                *pb = c->b + (size_t)oc * c->tplane;
        for (int ky = y0; ky <= y1; ky++)
          for (int kx = x0; kx <= x1; kx++) {
            int q = w[ky * kk + kx], j = base - ky * tw - kx;
            pa[j] += q;
            pb[j] += (int64_t)q * x;
          }
      }
      return;
    }
    for (uint32_t oc = 0; oc < nch; oc++) {
      const int8_t *w = c->w + (size_t)oc * fi + (size_t)ic * (uint32_t)(kk * kk);
      uint32_t j0 = oc * c->tplane;
      for (int ky = 0; ky < kk; ky++) {
        int oy, ox;
        if (!kernel_hits(iy, l->pad, ky, l->stride, ty0, ty1, &oy))
          continue;
        uint32_t row = j0 + (uint32_t)((oy - ty0) * tw);
        for (int kx = 0; kx < kk; kx++) {
          if (!kernel_hits(ix, l->pad, kx, l->stride, tx0, tx1, &ox))
            continue;
          uint32_t j = row + (uint32_t)(ox - tx0);
          int q = w[ky * kk + kx];
          if (!c->opened) {
            c->a[j] += q;
            c->b[j] += (int64_t)q * x;
          } else {
            synapse(a, id, c, j, q, x, kstep, &late);
          }
        }
      }
    }
  }
  if (late) {
    L->st.late_spikes++;
    L->st.late_synapses += (uint64_t)late;
  }
}

static void on_apply(struct sim_kernel *k, const struct sim_event *ev,
                     void *ctx) {
  (void)k;
  struct core_array *a = ctx;
  a->outstanding--;
  struct core *c = &a->cores[ev->target];
  apply(a, ev->target, ev->arg,
        touched(a, c, core_payload_neuron(ev->arg)));
}

void core_array_receive(struct core_array *a, uint32_t id, uint64_t payload) {
  assert(id < a->ncores);
  struct core *c = &a->cores[id];
  struct core_lay *L = &a->lay[c->layer];
  uint32_t i = core_payload_neuron(payload);
  if (c->layer == 0 || core_payload_layer(payload) + 1 != c->layer ||
      i >= L->ninputs ||
      core_payload_step(payload) > a->conf.steps_per_window) {
    L->st.misrouted++;
    return;
  }
  L->st.received++;
  sim_time_t now = sim_now(a->k);
  uint64_t nt = touched(a, c, i);
  if (now > L->open + a->conf.steps_per_window * a->conf.step_ps) {
    /* the window has closed: the interface drops it without SRAM reads */
    L->st.late_spikes++;
    L->st.dropped++;
    L->st.late_synapses += nt;
    return;
  }
  c->sops += nt;
  L->st.sops += nt;
  sim_time_t start = c->busy_until > now ? c->busy_until : now;
  sim_time_t done =
      start + (nt + a->conf.sop_lanes - 1) / a->conf.sop_lanes * a->conf.sop_ps;
  c->busy_until = done;
  if (done == now)
    apply(a, id, payload, nt);
  else
    schedule(a, done, CORE_EV_APPLY, id, payload);
}
