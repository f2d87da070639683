/*
 * run.c -- the assembly of an inference run (see run.h).
 *
 * Wiring.  Group g of the mapping is core g of the core array (holding the
 * group's tile) and sits on mesh node map->groups[g].node.  A core's send
 * request becomes one noc_send from its node to the spike's destination
 * set (model_map_spike_dests: the cores holding a neuron it has a synapse
 * to); a delivery at a node becomes core_array_receive on the core there.  Output-layer spikes are not sent: the earliest one is the frame's
 * decision, taken in the output unit; spikes at the same step are ordered
 * by core.tie_rule (core_array_output_before: exact crossing time, then
 * lowest index).
 *
 * Frames.  Frame n starts when frame n-1 has drained (no event left in the
 * kernel, so no packet in the network and no spike in an SRAM pipeline);
 * its input spikes enter at the input cores' nodes at t0 + step * step_ps.
 * Frames are independent: run_sim_reset (at the start of every run_sim_frame) restarts the kernel's clock and schedule order at 0 and puts the
 * mesh back as new (round-robin pointers, credit rings, times); the cores
 * are reset by core_array_frame.  So t0 is 0 and a frame's rows depend only
 * on the configuration, the model, its image and its index.
 *
 * Cost per frame: the cores' and the network's events; no allocation.
 */
#include "run/run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct run_sim {
  const struct model *m;
  struct model_map *map;
  struct sim_kernel *k;
  struct noc_mesh *noc;
  struct core_array *cores;
  struct core_conf core;
  struct core_energy_conf energy;
  uint32_t nlayers;         /* mapping layers, input included */
  uint32_t *core_of_node;   /* [nodes] core on a node, UINT32_MAX if none */
  int32_t *input_steps;     /* [input neurons] */
  uint32_t ninputs;
  /* frame state */
  int have_decision;
  sim_time_t t_decision;    /* ps */
  uint32_t decision;
  int32_t decision_step;
  sim_time_t t_first_in;    /* ps */
  int have_input;
  uint64_t packets;
  int failed;               /* a noc_send was refused (a wiring bug) */
  const struct train_data *data; /* run_sim_engine's frames */
  /* recording hook (run/record.c) */
  run_spike_fn spike_hook;
  void *spike_ctx;
};

static void on_send(void *ctx, uint32_t core, uint32_t layer, uint32_t neuron,
                    uint32_t step, sim_time_t t) {
  struct run_sim *r = ctx;
  /* recording hook */
  if (r->spike_hook)
    r->spike_hook(r->spike_ctx, core, layer, neuron, step, t);
  if (layer == 0 && (!r->have_input || t < r->t_first_in)) {
    r->have_input = 1;
    r->t_first_in = t;
  }
  if (layer + 1 == r->nlayers) {
    if (!r->have_decision || t < r->t_decision ||
        (t == r->t_decision &&
         core_array_output_before(r->cores, layer, neuron, r->decision))) {
      r->have_decision = 1;
      r->t_decision = t;
      r->decision = neuron;
      r->decision_step = (int32_t)step;
    }
    return;
  }
  uint32_t n;
  const uint32_t *dst = model_map_spike_dests(r->map, core, neuron, &n);
  if (!n)
    return; /* an output no neuron of the next layer reads */
  r->packets++;
  if (noc_send(r->noc, r->map->groups[core].node, dst, n, 1,
               core_payload(layer, neuron, step)))
    r->failed = 1;
}

static void on_deliver(void *ctx, uint32_t node, uint64_t payload, uint32_t src,
                       sim_time_t t_send) {
  (void)src;
  (void)t_send;
  struct run_sim *r = ctx;
  uint32_t c = r->core_of_node[node];
  if (c == UINT32_MAX) {
    r->failed = 1;
    return;
  }
  core_array_receive(r->cores, c, payload);
}

/* The cores' view of mapping layer l. */
static void core_layer_of(const struct model *m, const struct model_map *mp,
                          uint32_t l, struct core_layer *cl) {
  memset(cl, 0, sizeof *cl);
  const struct model_map_layer *L = &mp->layers[l];
  cl->pool = L->pool;
  if (L->model_layer < 0) {
    cl->kind = CORE_LAYER_INPUT;
    cl->out_c = m->in_c;
    cl->out_h = m->in_h;
    cl->out_w = m->in_w;
    cl->pool = 1;
    return;
  }
  const struct model_layer *ml = &m->layers[L->model_layer];
  cl->kind = ml->type == MODEL_CONV ? CORE_LAYER_CONV : CORE_LAYER_DENSE;
  cl->in_c = ml->in_c;
  cl->in_h = ml->in_h;
  cl->in_w = ml->in_w;
  cl->out_c = ml->out_c;
  cl->out_h = ml->out_h;
  cl->out_w = ml->out_w;
  cl->kernel = ml->kernel;
  cl->stride = ml->stride > 0 ? ml->stride : 1;
  cl->pad = ml->pad;
  cl->bits = ml->bits;
  cl->scale = ml->scale;
  cl->q = ml->q;
}

struct model_map_params run_map_params(const struct run_options *o,
                                       uint32_t mesh_w, uint32_t mesh_h) {
  return (struct model_map_params){
      .neurons_per_core = o->core.neurons_per_core,
      .sram_bytes = o->core.sram_bytes,
      .weight_bits = o->core.weight_bits,
      .width = mesh_w,
      .height = mesh_h,
      .placement = o->map.placement,
      .sram_fit = o->map.sram_fit,
      .seed = o->map.seed};
}

int run_sim_new(const struct model *m, const struct run_options *o,
                uint32_t mesh_w, uint32_t mesh_h, struct run_sim **out,
                struct sm_err *err) {
  *out = NULL;
  struct model_map_params mp = run_map_params(o, mesh_w, mesh_h);
  struct model_map *map;
  int rc = o->mapping
               ? model_mapfile_load(o->mapping, m, &mp, &map, NULL, err)
               : model_map_build(m, &mp, &map, err);
  if (rc)
    return rc;
  struct run_sim *r = sm_xcalloc(1, sizeof *r);
  r->m = m;
  r->map = map;
  r->core = o->core;
  r->energy = o->energy;
  r->nlayers = map->nlayers;
  r->k = sim_kernel_new((enum sim_queue_kind)o->sim.queue, o->sim.seed);
  struct noc_conf nc = o->noc;
  nc.width = map->width;
  nc.height = map->height;
  rc = noc_mesh_new(r->k, &nc, RUN_KIND_NOC, on_deliver, r, &r->noc, err);
  if (rc)
    goto fail;
  struct core_layer *cls = sm_xcalloc(map->nlayers, sizeof *cls);
  for (uint32_t l = 0; l < map->nlayers; l++)
    core_layer_of(m, map, l, &cls[l]);
  rc = core_array_new(r->k, &o->core, cls, map->nlayers, RUN_KIND_CORE,
                      on_send, r, &r->cores, err);
  r->ninputs = rc ? 0 : (uint32_t)(cls[0].out_c * cls[0].out_h * cls[0].out_w);
  free(cls);
  if (rc)
    goto fail;
  for (uint32_t g = 0; g < map->ngroups; g++) {
    uint32_t id;
    const struct model_map_group *G = &map->groups[g];
    struct core_tile t = {G->c0, G->c1, G->y0, G->y1, G->x0, G->x1};
    rc = core_array_add(r->cores, G->layer, &t, &id, err);
    if (rc)
      goto fail;
  }
  r->core_of_node = sm_xmallocarray((size_t)map->width * map->height,
                                    sizeof *r->core_of_node);
  memcpy(r->core_of_node, map->node_group,
         (size_t)map->width * map->height * sizeof *r->core_of_node);
  r->input_steps = sm_xmallocarray(r->ninputs, sizeof *r->input_steps);
  *out = r;
  return 0;
fail:
  run_sim_free(r);
  return rc;
}

void run_sim_free(struct run_sim *r) {
  if (!r)
    return;
  core_array_free(r->cores);
  noc_mesh_free(r->noc);
  sim_kernel_free(r->k);
  model_map_free(r->map);
  free(r->core_of_node);
  free(r->input_steps);
  free(r);
}

/* ps of one frame (its windows and one to drain), or 0 past the horizon. */
static uint64_t frame_ps(const struct core_conf *c, uint32_t layers) {
  uint64_t tw = core_window_ps(c); /* <= 65535 x 1e12: no overflow */
  if (!tw || (uint64_t)layers + 1 > RUN_CLOCK_MAX_PS / tw)
    return 0;
  return ((uint64_t)layers + 1) * tw;
}

int run_clock_check(const struct core_conf *c, uint32_t layers,
                    uint64_t frames, struct sm_err *err) {
  /* every frame starts the clock again at 0 (run_sim_reset): one frame
   * must fit, whatever the number of frames */
  (void)frames;
  if (frame_ps(c, layers))
    return 0;
  return sm_fail(err, SM_ELIMIT,
                 "core.step_ps = %llu ps x core.steps_per_window = %llu: a "
                 "frame of %u layers and a window to drain lasts %.4g ps, "
                 "past the simulated clock's horizon of 2^63 - 1 ps (about "
                 "106 days): lower core.step_ps or core.steps_per_window",
                 (unsigned long long)c->step_ps,
                 (unsigned long long)c->steps_per_window, layers,
                 (double)(layers + 1) * (double)core_window_ps(c));
}

int32_t run_encode(uint8_t a, double a_max, uint32_t steps) {
  if (a == 0)
    return CORE_SILENT;
  double x = (double)a / a_max;
  if (x > 1)
    x = 1;
  return (int32_t)steps - (int32_t)llround(x * (double)steps);
}

int run_sim_reset(struct run_sim *r, struct sm_err *err) {
  int rc = sim_kernel_reset(r->k);
  if (!rc)
    rc = noc_mesh_reset(r->noc);
  if (rc)
    return sm_fail(err, rc, "run: cannot start a frame from a fresh clock: "
                   "the previous frame did not drain (%s)", sm_strerror(rc));
  return 0;
}

int run_sim_frame(struct run_sim *r, const uint8_t *image, struct run_frame *f,
                  struct sm_err *err) {
  int rc = run_sim_reset(r, err);
  if (rc)
    return rc;
  uint32_t s = (uint32_t)r->core.steps_per_window;
  for (uint32_t i = 0; i < r->ninputs; i++)
    r->input_steps[i] = run_encode(image[i], r->m->a_max, s);
  uint64_t sops0 = 0, late0 = 0, lsyn0 = 0, sent0 = 0, drop0 = 0;
  for (uint32_t l = 0; l < r->nlayers; l++) {
    const struct core_layer_stats *st = core_array_stats(r->cores, l);
    sops0 += st->sops;
    late0 += st->late_spikes;
    lsyn0 += st->late_synapses;
    sent0 += st->sent;
    drop0 += st->dropped;
  }
  struct noc_totals nt0, nt1;
  noc_totals(r->noc, &nt0);
  r->have_decision = 0;
  r->have_input = 0;
  r->packets = 0;
  r->failed = 0;
  sim_time_t t0 = sim_now(r->k);
  uint64_t fps = frame_ps(&r->core, r->nlayers);
  if (!fps || t0 > RUN_CLOCK_MAX_PS - fps)
    return sm_fail(err, SM_ELIMIT,
                   "run: a frame starting at %llu ps would end past the "
                   "simulated clock's horizon of 2^63 - 1 ps (core.step_ps, "
                   "core.steps_per_window and the frames are too large "
                   "together)",
                   (unsigned long long)t0);
  rc = core_array_frame(r->cores, t0, r->input_steps);
  if (rc)
    return sm_fail(err, rc, "run: cannot start a frame (%s)", sm_strerror(rc));
  sim_run(r->k, SIM_TIME_MAX, 0);
  if (r->failed || !noc_idle(r->noc) || !core_array_idle(r->cores))
    return sm_fail(err, SM_ESTATE,
                   "run: a frame did not drain (wiring or network fault)");
  memset(f, 0, sizeof *f);
  f->perturbed = core_array_settle(r->cores);
  for (uint32_t l = 0; l < r->nlayers; l++) {
    const struct core_layer_stats *st = core_array_stats(r->cores, l);
    f->sops += st->sops;
    f->late_spikes += st->late_spikes;
    f->late_synapses += st->late_synapses;
    f->spikes += st->sent;
    f->dropped += st->dropped;
  }
  f->dropped -= drop0;
  f->sops -= sops0;
  f->late_spikes -= late0;
  f->late_synapses -= lsyn0;
  f->spikes -= sent0;
  noc_totals(r->noc, &nt1);
  f->hops = nt1.hops - nt0.hops;
  f->packets = r->packets;
  f->pred = r->have_decision ? (int)r->decision : -1;
  if (r->have_decision) {
    const struct model_map_layer *out = &r->map->layers[r->nlayers - 1];
    const int32_t *u = core_array_fire_steps(r->cores, r->nlayers - 1);
    for (uint32_t j = 0; j < out->channels * out->plane; j++)
      if (u[j] == r->decision_step) {
        f->tied++;
        f->tied_exact +=
            out->pool <= 1 &&
            core_array_output_cmp(r->cores, r->nlayers - 1, j, r->decision) == 0;
      }
  }
  f->out_step = r->have_decision ? r->decision_step : CORE_SILENT;
  f->t_first_in = r->have_input ? r->t_first_in : t0;
  uint64_t tw = core_window_ps(&r->core);
  f->t_decision = r->have_decision ? r->t_decision : t0 + r->nlayers * tw;
  f->latency_ps = f->t_decision - f->t_first_in;
  struct core_chip chip = {r->map->ngroups, r->map->width * r->map->height};
  core_energy_frame(&r->energy, f->sops, f->hops, f->latency_ps, &chip,
                    &f->energy);
  return 0;
}

struct sim_kernel *run_sim_kernel(struct run_sim *r) { return r->k; }

const struct model_map *run_sim_map(const struct run_sim *r) { return r->map; }

const struct model *run_sim_model(const struct run_sim *r) { return r->m; }

void run_sim_set_data(struct run_sim *r, const struct train_data *d) {
  r->data = d;
}

const struct train_data *run_sim_data(const struct run_sim *r) {
  return r->data;
}

const struct core_array *run_sim_cores(const struct run_sim *r) {
  return r->cores;
}

/* ---- recording hooks ---------------------------------------------------- */

void run_sim_set_spike_hook(struct run_sim *r, run_spike_fn fn,
                            void *ctx) {
  r->spike_hook = fn;
  r->spike_ctx = ctx;
}

struct noc_mesh *run_sim_noc(struct run_sim *r) { return r->noc; }
