/*
 * record.c -- the rows a run records (see run.h).
 *
 * Once per run (at every detail level): the layers rows and the mapping
 * rows (each group's layer, ranges, core and node).
 * Per frame: one frames row; at layer detail one layer_frames row per
 * mapping layer (its hops: each spike sent is charged the link traversals
 * of its packet, computed once per routing cell from the routes to its
 * destinations, so the layers' hops add up to the frame's); at link detail the frame's links (router outputs that
 * carried flits), ports (input buffers that passed flits or blocked) and
 * cores; at spike detail every spike a core sends (output layer
 * included), in send order; at packet detail every delivered packet copy.
 * Network counters restart at each frame (noc_reset_stats), so link and
 * port rows are per frame and their sums over frames are run totals --
 * which is what makes a resumed run add up to an uninterrupted one.
 *
 * Cost: rows are copied into the stream's batch (no I/O, no allocation in
 * steady state); per-event work exists only at the levels that need it.
 * Rejected: links and ports for every (node, dir) each frame (most are
 * idle in a small model: 10x the rows for zeros).
 */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

struct run_rec {
  struct run_sim *r;
  struct trace_stream *s;
  enum trace_detail detail;
  const struct model_map *map;
  int64_t frame;
  uint32_t nlayers, ncores, nodes;
  struct core_layer_stats *prev; /* [nlayers] cumulative at frame start */
  uint64_t *core_sops;           /* [ncores] cumulative SOPs at frame start */
  uint64_t *core_spikes;         /* [ncores] spikes this frame */
  uint64_t *layer_hops;          /* [nlayers] hops of a layer's spikes */
  uint64_t *cell_links;          /* [map cells] hops one spike of a routing
                                    cell costs (noc_route_links of its
                                    destinations) */
};

static void on_spike(void *ctx, uint32_t core, uint32_t layer, uint32_t neuron,
                     uint32_t step, sim_time_t t) {
  struct run_rec *rec = ctx;
  rec->layer_hops[layer] +=
      rec->cell_links[model_map_spike_cell(rec->map, core, neuron)];
  rec->core_spikes[core]++;
  if (rec->detail >= TRACE_SPIKE) {
    struct trace_spike_row row = {rec->frame, layer, neuron,
                                  core,       (int64_t)t, step};
    trace_put_spike(rec->s, &row);
  }
}

static void on_packet(void *ctx, const struct noc_packet_record *p) {
  struct run_rec *rec = ctx;
  {
    struct trace_packet_row row = {rec->frame,          p->src,
                                   p->dst,              (int64_t)p->t_send,
                                   (int64_t)p->t_inject, (int64_t)p->t_eject,
                                   p->hops,             (int64_t)p->blocked_ps};
    trace_put_packet(rec->s, &row);
  }
}

static void snapshot(struct run_rec *rec) {
  const struct core_array *ca = run_sim_cores(rec->r);
  for (uint32_t l = 0; l < rec->nlayers; l++)
    rec->prev[l] = *core_array_stats(ca, l);
  for (uint32_t c = 0; c < rec->ncores; c++)
    rec->core_sops[c] = core_array_core_sops(ca, c);
}

void run_put_layerdefs(struct trace_stream *s, const struct model *m,
                       const struct model_map *map) {
  for (uint32_t l = 0; l < map->nlayers; l++) {
    const struct model_map_layer *L = &map->layers[l];
    const struct model_layer *ml =
        L->model_layer >= 0 ? &m->layers[L->model_layer] : NULL;
    int64_t h = ml ? ml->out_h : m->in_h, w = ml ? ml->out_w : m->in_w;
    int64_t per = L->pool > 1 ? (h / L->pool) * (w / L->pool) : h * w;
    struct trace_layerdef_row row = {
        .layer = l,
        .type = !ml                       ? TRACE_LAYER_INPUT
                : ml->type == MODEL_CONV ? TRACE_LAYER_CONV
                                         : TRACE_LAYER_DENSE,
        .channels = L->channels,
        .height = h,
        .width = w,
        .pool = L->pool,
        .neurons = (int64_t)L->channels * L->plane,
        .outputs = (int64_t)L->channels * per};
    trace_put_layerdef(s, &row);
  }
}

void run_put_mapping(struct trace_stream *s, const struct model_map *map) {
  for (uint32_t g = 0; g < map->ngroups; g++) {
    const struct model_map_group *G = &map->groups[g];
    struct trace_mapping_row row = {
        .grp = g,
        .layer = G->layer,
        .c0 = G->c0,
        .c1 = G->c1,
        .y0 = G->y0,
        .y1 = G->y1,
        .x0 = G->x0,
        .x1 = G->x1,
        /* the input's groups read no layer: no halo */
        .iy0 = G->layer ? (int64_t)G->iy0 : TRACE_NULL,
        .iy1 = G->layer ? (int64_t)G->iy1 : TRACE_NULL,
        .ix0 = G->layer ? (int64_t)G->ix0 : TRACE_NULL,
        .ix1 = G->layer ? (int64_t)G->ix1 : TRACE_NULL,
        .core = g, /* core g holds group g (run_sim_new) */
        .node = G->node,
        .x = G->node % map->width,
        .y = G->node / map->width,
        .neurons = (int64_t)G->neurons,
        .sram_bytes = (int64_t)G->sram_bytes};
    trace_put_mapping(s, &row);
  }
}

static struct run_rec *rec_new(struct run_sim *r, struct trace_stream *s,
                               enum trace_detail d, int defs);

struct run_rec *run_rec_new(struct run_sim *r, struct trace_stream *s,
                            enum trace_detail d) {
  return rec_new(r, s, d, 1);
}

struct run_rec *run_rec_new_frames(struct run_sim *r, struct trace_stream *s,
                                   enum trace_detail d) {
  return rec_new(r, s, d, 0);
}

static struct run_rec *rec_new(struct run_sim *r, struct trace_stream *s,
                               enum trace_detail d, int defs) {
  struct run_rec *rec = sm_xcalloc(1, sizeof *rec);
  rec->r = r;
  rec->s = s;
  rec->detail = d;
  rec->map = run_sim_map(r);
  rec->nlayers = rec->map->nlayers;
  rec->ncores = core_array_ncores(run_sim_cores(r));
  rec->nodes = noc_nodes(run_sim_noc(r));
  rec->prev = sm_xcalloc(rec->nlayers, sizeof *rec->prev);
  rec->core_sops = sm_xcalloc(rec->ncores, sizeof *rec->core_sops);
  rec->core_spikes = sm_xcalloc(rec->ncores, sizeof *rec->core_spikes);
  rec->layer_hops = sm_xcalloc(rec->nlayers, sizeof *rec->layer_hops);
  rec->cell_links = sm_xcalloc(rec->map->ncells, sizeof *rec->cell_links);
  for (uint32_t g = 0; g < rec->map->ngroups; g++) {
    const struct model_map_route *R = &rec->map->route[g];
    for (uint32_t c = R->cell0; c < R->cell0 + R->ncells; c++) {
      uint32_t n;
      const uint32_t *dst = model_map_cell_dests(rec->map, c, &n);
      if (n) /* the output layer sends no packets: its spikes are decisions */
        rec->cell_links[c] = noc_route_links(
            run_sim_noc(r), rec->map->groups[g].node, dst, n);
    }
  }
  snapshot(rec);
  if (defs) {
    run_put_layerdefs(s, run_sim_model(r), rec->map);
    run_put_mapping(s, rec->map);
  }
  if (d >= TRACE_LAYER)
    run_sim_set_spike_hook(r, on_spike, rec);
  if (d >= TRACE_PACKET)
    noc_set_observer(run_sim_noc(r), on_packet, rec);
  return rec;
}

void run_rec_free(struct run_rec *rec) {
  if (!rec)
    return;
  run_sim_set_spike_hook(rec->r, NULL, NULL);
  noc_set_observer(run_sim_noc(rec->r), NULL, NULL);
  free(rec->prev);
  free(rec->core_sops);
  free(rec->core_spikes);
  free(rec->layer_hops);
  free(rec->cell_links);
  free(rec);
}

void run_rec_frame_begin(struct run_rec *rec, int64_t frame) {
  rec->frame = frame;
  memset(rec->core_spikes, 0, rec->ncores * sizeof *rec->core_spikes);
  memset(rec->layer_hops, 0, rec->nlayers * sizeof *rec->layer_hops);
  if (rec->detail >= TRACE_LINK)
    noc_reset_stats(run_sim_noc(rec->r));
}

void run_rec_put_network(struct trace_stream *s, const struct noc_mesh *noc,
                         int64_t frame) {
  uint32_t nodes = noc_nodes(noc);
  for (uint32_t n = 0; n < nodes; n++)
    for (int d = 0; d < NOC_NDIRS; d++) {
      struct noc_link_stats ls;
      struct noc_port_stats ps;
      if (!noc_link_stats(noc, n, (enum noc_dir)d, &ls) && ls.exists &&
          ls.flits) {
        struct trace_link_row row = {frame, n, d, (int64_t)ls.flits,
                                     (int64_t)ls.busy_ps, ls.utilization};
        trace_put_link(s, &row);
      }
      if (!noc_port_stats(noc, n, (enum noc_dir)d, &ps) && ps.exists &&
          (ps.flits || ps.blocked_ps)) {
        struct trace_port_row row = {frame,
                                     n,
                                     d,
                                     (int64_t)ps.flits,
                                     (int64_t)ps.blocked_ps,
                                     ps.peak_occupancy,
                                     ps.mean_occupancy};
        trace_put_port(s, &row);
      }
    }
}

static void put_network(struct run_rec *rec) {
  run_rec_put_network(rec->s, run_sim_noc(rec->r), rec->frame);
  const struct core_array *ca = run_sim_cores(rec->r);
  for (uint32_t c = 0; c < rec->ncores; c++) {
    const struct model_map_group *g = &rec->map->groups[c];
    struct trace_core_row row = {
        rec->frame,
        c,
        g->node,
        g->layer,
        (int64_t)g->neurons,
        (int64_t)rec->core_spikes[c],
        (int64_t)(core_array_core_sops(ca, c) - rec->core_sops[c]),
        0};
    trace_put_core(rec->s, &row);
  }
}

void run_rec_frame_end(struct run_rec *rec, const struct run_frame *f,
                       int label) {
  const struct core_array *ca = run_sim_cores(rec->r);
  int64_t input_spikes =
      (int64_t)(core_array_stats(ca, 0)->sent - rec->prev[0].sent);
  if (rec->detail >= TRACE_LAYER)
    for (uint32_t l = 0; l < rec->nlayers; l++) {
      const struct core_layer_stats *st = core_array_stats(ca, l);
      const struct model_map_layer *L = &rec->map->layers[l];
      uint64_t nn = (uint64_t)L->channels * L->plane;
      const int32_t *u = core_array_fire_steps(ca, l);
      int64_t ws = 0;
      for (uint64_t j = 0; u && j < nn; j++)
        ws += u[j] == 0;
      struct trace_layer_row row = {
          rec->frame,
          l,
          (int64_t)nn,
          (int64_t)(st->sent - rec->prev[l].sent),
          (int64_t)(st->sops - rec->prev[l].sops),
          (int64_t)rec->layer_hops[l],
          (int64_t)(st->late_spikes - rec->prev[l].late_spikes),
          ws,
          (int64_t)(st->fired - rec->prev[l].fired)};
      trace_put_layer(rec->s, &row);
    }
  if (rec->detail >= TRACE_LINK)
    put_network(rec);
  struct trace_frame_row fr = {.frame = rec->frame,
                               .label = label,
                               .prediction = f->pred,
                               .input_spikes = input_spikes,
                               .spikes = (int64_t)f->spikes,
                               .sops = (int64_t)f->sops,
                               .hops = (int64_t)f->hops,
                               .late = (int64_t)f->late_spikes,
                               .t_start = (int64_t)f->t_first_in,
                               .latency = (int64_t)f->latency_ps,
                               .e_sop = f->energy.sop_uj * 1e6,
                               .e_hop = f->energy.hop_uj * 1e6,
                               .e_static = f->energy.static_uj * 1e6,
                               .e_total = f->energy.total_uj * 1e6};
  trace_put_frame(rec->s, &fr);
  trace_frame_end(rec->s, rec->frame);
  snapshot(rec);
}
