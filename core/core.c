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
             "neurons one core holds (a layer slice per core)"),
    SM_OPT_U(struct core_conf, sram_bytes, "core.sram_bytes", "1048576",
             "bytes", 1, 1.0e12,
             "synapse SRAM per core: weights of the slice's incoming synapses "
             "plus 4 bytes of scale"),
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
    free(a->lay[i].key_n);
    free(a->lay[i].key_d);
  }
  free(a->lay);
  free(a);
}

int core_array_add(struct core_array *a, uint32_t layer, uint32_t c0,
                   uint32_t c1, uint32_t *id, struct sm_err *err) {
  if (layer >= a->nlayers)
    return sm_fail(err, SM_EINVAL, "core for layer %u: the network has %u layers",
                   layer, a->nlayers);
  struct core_lay *L = &a->lay[layer];
  const char *kn = kind_name(L->spec.kind);
  if (c0 >= c1 || c1 > (uint32_t)L->spec.out_c)
    return sm_fail(err, SM_EINVAL,
                   "layer %u (%s): channel range [%u, %u) outside [0, %d)",
                   layer, kn, c0, c1, L->spec.out_c);
  if (c0 != L->covered)
    return sm_fail(err, SM_EINVAL,
                   "layer %u (%s): cores must cover channels in order; next "
                   "is %u, got %u",
                   layer, kn, L->covered, c0);
  uint64_t n = (uint64_t)(c1 - c0) * L->plane;
  if (n > a->conf.neurons_per_core)
    return sm_fail(err, SM_ENOFIT,
                   "layer %u (%s): a core of channels [%u, %u) holds %llu "
                   "neurons; core.neurons_per_core = %llu (short by %llu)",
                   layer, kn, c0, c1, (unsigned long long)n,
                   (unsigned long long)a->conf.neurons_per_core,
                   (unsigned long long)(n - a->conf.neurons_per_core));
  uint64_t need = core_slice_sram(&L->spec, c1 - c0, a->conf.weight_bits);
  if (need > a->conf.sram_bytes)
    return sm_fail(err, SM_ENOFIT,
                   "layer %u (%s): a core of channels [%u, %u) needs %llu "
                   "bytes of SRAM; core.sram_bytes = %llu (short by %llu)",
                   layer, kn, c0, c1, (unsigned long long)need,
                   (unsigned long long)a->conf.sram_bytes,
                   (unsigned long long)(need - a->conf.sram_bytes));
  if (a->ncores == a->capcores) {
    a->capcores = a->capcores ? 2 * a->capcores : 16;
    a->cores = sm_xreallocarray(a->cores, a->capcores, sizeof *a->cores);
  }
  struct core *c = &a->cores[a->ncores];
  memset(c, 0, sizeof *c);
  c->layer = layer;
  c->c0 = c0;
  c->c1 = c1;
  c->n = (uint32_t)n;
  c->n0 = c0 * L->plane;
  c->a = sm_xcalloc(n, sizeof *c->a);
  c->b = sm_xcalloc(n, sizeof *c->b);
  c->fired = sm_xcalloc(n, 1);
  c->pool_sent = sm_xcalloc((size_t)(c1 - c0) * L->pooled_plane + 1, 1);
  c->tick_pending = sm_xcalloc(a->conf.steps_per_window + 1, 1);
  c->fire = L->fire + c->n0;
  if (L->spec.kind == CORE_LAYER_DENSE) {
    uint32_t fi = fan_in(&L->spec);
    c->wt = sm_xmallocarray((size_t)fi * n, 1);
    for (uint32_t j = 0; j < n; j++)
      for (uint32_t i = 0; i < fi; i++)
        c->wt[(size_t)i * n + j] = L->q[(size_t)(c->n0 + j) * fi + i];
    c->w = c->wt;
  } else if (L->spec.kind == CORE_LAYER_CONV) {
    c->w = L->q + (size_t)c0 * fan_in(&L->spec);
  }
  L->covered = c1;
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
    if (a->lay[l].covered != (uint32_t)a->lay[l].spec.out_c)
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
    memset(c->pool_sent, 0,
           (size_t)(c->c1 - c->c0) * a->lay[c->layer].pooled_plane);
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
      c->fire[j] = core_fire_step(c->a[j], c->b[j], L->m, L->f, s, 0,
                                  a->conf.fire_round);
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
  int pw = L->spec.out_w / p, ph = L->spec.out_h / p;
  for (uint32_t j = 0; j < c->n; j++) {
    if (c->fired[j] || c->fire[j] != u)
      continue;
    c->fired[j] = 1;
    L->st.fired++;
    uint32_t out = c->n0 + j;
    if (p > 1) {
      uint32_t ch = j / L->plane, r = j % L->plane;
      int y = (int)(r / (uint32_t)L->spec.out_w) / p;
      int x = (int)(r % (uint32_t)L->spec.out_w) / p;
      if (y >= ph || x >= pw)
        continue; /* cropped by the pooling: feeds nothing */
      uint32_t pl = ch * L->pooled_plane + (uint32_t)(y * pw + x);
      if (c->pool_sent[pl])
        continue; /* a pool-mate fired first: min pooling on times */
      c->pool_sent[pl] = 1;
      out = c->c0 * L->pooled_plane + pl;
    }
    L->st.sent++;
    if (c->layer + 1 == a->nlayers)
      record_crossing(a, c, j, u, out);
    a->send(a->ctx, id, c->layer, out, (uint32_t)u, sim_now(k));
  }
}

/* Synapses a spike from input index i touches in core c. */
/* Stride 1: the kernel rows (or columns) k in [*k0, *k1] that put input
 * coordinate v on an output coordinate in [0, out): v + pad - k in range.
 * Empty when *k0 > *k1.  Saves the divisions of the general case. */
static inline void kernel_span(int v, int pad, int kernel, int out, int *k0,
                               int *k1) {
  int lo = v + pad - (out - 1), hi = v + pad;
  *k0 = lo > 0 ? lo : 0;
  *k1 = hi < kernel - 1 ? hi : kernel - 1;
}

static uint64_t touched(const struct core_array *a, const struct core *c,
                        uint32_t i) {
  const struct core_layer *l = &a->lay[c->layer].spec;
  if (l->kind == CORE_LAYER_DENSE)
    return c->n;
  uint32_t inplane = (uint32_t)(l->in_h * l->in_w);
  int iy = (int)((i % inplane) / (uint32_t)l->in_w);
  int ix = (int)(i % (uint32_t)l->in_w);
  if (l->stride == 1) {
    int y0, y1, x0, x1;
    kernel_span(iy, l->pad, l->kernel, l->out_h, &y0, &y1);
    kernel_span(ix, l->pad, l->kernel, l->out_w, &x0, &x1);
    if (y0 > y1 || x0 > x1)
      return 0;
    return (uint64_t)(y1 - y0 + 1) * (uint64_t)(x1 - x0 + 1) *
           (c->c1 - c->c0);
  }
  uint64_t ny = 0, nx = 0;
  for (int ky = 0; ky < l->kernel; ky++) {
    int t = iy + l->pad - ky;
    if (t >= 0 && t % l->stride == 0 && t / l->stride < l->out_h)
      ny++;
  }
  for (int kx = 0; kx < l->kernel; kx++) {
    int t = ix + l->pad - kx;
    if (t >= 0 && t % l->stride == 0 && t / l->stride < l->out_w)
      nx++;
  }
  return ny * nx * (c->c1 - c->c0);
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
      c->fire[j] = u;
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
    if (!c->opened && l->stride == 1) {
      /* before the window (nothing has fired): plain accumulation, the
       * hot path of large conv layers, as for dense cores above */
      int y0, y1, x0, x1;
      kernel_span(iy, l->pad, kk, l->out_h, &y0, &y1);
      kernel_span(ix, l->pad, kk, l->out_w, &x0, &x1);
      int base = (iy + l->pad) * l->out_w + ix + l->pad; /* ky = kx = 0 */
      for (uint32_t oc = 0; oc < c->c1 - c->c0; oc++) {
        const int8_t *w =
            c->w + (size_t)oc * fi + (size_t)ic * (uint32_t)(kk * kk);
        int64_t *pa = c->a + (size_t)oc * L->plane,
                *pb = c->b + (size_t)oc * L->plane;
        for (int ky = y0; ky <= y1; ky++)
          for (int kx = x0; kx <= x1; kx++) {
            int q = w[ky * kk + kx], j = base - ky * l->out_w - kx;
            pa[j] += q;
            pb[j] += (int64_t)q * x;
          }
      }
      return;
    }
    if (!c->opened) {
      for (uint32_t oc = 0; oc < c->c1 - c->c0; oc++) {
        const int8_t *w =
            c->w + (size_t)oc * fi + (size_t)ic * (uint32_t)(kk * kk);
        int64_t *pa = c->a + (size_t)oc * L->plane,
                *pb = c->b + (size_t)oc * L->plane;
        for (int ky = 0; ky < kk; ky++) {
          int ty = iy + l->pad - ky;
          if (ty < 0 || ty % l->stride || ty / l->stride >= l->out_h)
            continue;
          int row = ty / l->stride * l->out_w;
          for (int kx = 0; kx < kk; kx++) {
            int tx = ix + l->pad - kx;
            if (tx < 0 || tx % l->stride || tx / l->stride >= l->out_w)
              continue;
            int q = w[ky * kk + kx];
            pa[row + tx / l->stride] += q;
            pb[row + tx / l->stride] += (int64_t)q * x;
          }
        }
      }
      return;
    }
    for (uint32_t oc = 0; oc < c->c1 - c->c0; oc++) {
      const int8_t *w = c->w + (size_t)oc * fi + (size_t)ic * (uint32_t)(kk * kk);
      for (int ky = 0; ky < kk; ky++) {
        int ty = iy + l->pad - ky;
        if (ty < 0 || ty % l->stride || ty / l->stride >= l->out_h)
          continue;
        int oy = ty / l->stride;
        for (int kx = 0; kx < kk; kx++) {
          int tx = ix + l->pad - kx;
          if (tx < 0 || tx % l->stride || tx / l->stride >= l->out_w)
            continue;
          int ox = tx / l->stride;
          uint32_t j = oc * L->plane + (uint32_t)(oy * l->out_w + ox);
          synapse(a, id, c, j, w[ky * kk + kx], x, kstep, &late);
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
