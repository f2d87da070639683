/*
 * replay.c -- a recorded spike or packet trace injected into a chosen
 * architecture (mesh size, placement, router timing, multicast mode),
 * frame by frame through the frame loop, recording hops, congestion,
 * latency, energy and late arrivals as a run would (see run.h).
 *
 * Spike traces go through a model's connectivity: each spike of a
 * non-output layer becomes one noc_send from the node of the core that
 * holds its neuron under the new mapping (by channel and, for tiles,
 * position after pooling) to the spike's destination set, the cores
 * holding a neuron it has a synapse to (output-layer spikes are decisions,
 * not packets).  Packet traces are
 * injected as they are (nodes must exist on the new mesh).  Spikes keep
 * their recorded times (times x the time scale); each frame starts on a
 * fresh clock (0) and mesh, as a run's frames do, so frames are
 * independent (a run records times from its frame's start).  Each packet's payload is its record index, so a
 * delivery finds its deadline: the end of the receiving layer's window,
 * t_send + (2S - step) x step_ps for a spike at step `step` (scaled), or
 * the packet record's own deadline.  A delivery after it is late (the run
 * calls these dropped; spikes that arrive in the window but after the
 * neuron fired cannot be told without the cores).  Energy is E_Hop x hops
 * + E_static per frame: replay has no cores, so no SOPs.
 *
 * Injection order: one event per distinct send time, chained (the next is
 * scheduled when one fires), sends at that time in trace order -- the
 * order a run's cores sent them in.
 */
#include "run/run.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct spike_key {
  uint32_t frame, layer, neuron;
  size_t i;
};

static int cmp_spike_key(const void *a, const void *b) {
  const struct spike_key *x = a, *y = b;
  if (x->frame != y->frame)
    return x->frame < y->frame ? -1 : 1;
  if (x->layer != y->layer)
    return x->layer < y->layer ? -1 : 1;
  if (x->neuron != y->neuron)
    return x->neuron < y->neuron ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* A neuron fires at most once per frame: 1 with the first two records of
 * the same (frame, layer, neuron) in *a < *b, else 0. */
static int duplicate_spike(const struct trace_file *t, size_t *a, size_t *b) {
  if (t->n < 2)
    return 0;
  struct spike_key *k = sm_xmallocarray(t->n, sizeof *k);
  for (size_t i = 0; i < t->n; i++)
    k[i] = (struct spike_key){t->spikes[i].frame, t->spikes[i].layer,
                              t->spikes[i].neuron, i};
  qsort(k, t->n, sizeof *k, cmp_spike_key);
  int found = 0;
  for (size_t i = 1; i < t->n; i++)
    if (k[i].frame == k[i - 1].frame && k[i].layer == k[i - 1].layer &&
        k[i].neuron == k[i - 1].neuron && (!found || k[i].i < *b)) {
      found = 1;
      *a = k[i - 1].i;
      *b = k[i].i;
    }
  free(k);
  return found;
}

/* Spikes to packets through a mapping (records of the output layer, which
 * sends nothing, are left out). */
int run_trace_to_packets(const struct trace_file *in, const struct model *m,
                         const struct model_map *map,
                         const struct core_conf *cc, struct trace_file *out,
                         struct sm_err *err) {
  (void)m; /* the mapping holds the layers' shapes */
  size_t da = 0, db = 0;
  if (duplicate_spike(in, &da, &db)) {
    const struct trace_spike *s = &in->spikes[db];
    return sm_fail(err, SM_EINVAL,
                   "trace records %zu and %zu: frame %u layer %u neuron %u "
                   "spikes twice (a neuron fires at most once per frame)",
                   da, db, s->frame, s->layer, s->neuron);
  }
  trace_file_init(out, TRACE_KIND_PACKET, in->meta);
  /* the group holding each output of each layer (tiles: by position) */
  uint64_t *first = sm_xcalloc(map->nlayers + 1, sizeof *first);
  for (uint32_t l = 0; l < map->nlayers; l++)
    first[l + 1] = first[l] + model_map_layer_outputs(&map->layers[l]);
  uint32_t *owner = sm_xmallocarray(first[map->nlayers] + 1, sizeof *owner);
  for (uint32_t l = 0; l < map->nlayers; l++)
    model_map_output_owners(map, l, owner + first[l]);
  int e = 0;
  for (size_t i = 0; i < in->n && !e; i++) {
    const struct trace_spike *s = &in->spikes[i];
    if (s->layer >= map->nlayers) {
      e = sm_fail(err, SM_EINVAL,
                  "trace record %zu: layer %u, but the model has %u "
                  "(input included)",
                  i, s->layer, map->nlayers);
      break;
    }
    if (s->neuron >= first[s->layer + 1] - first[s->layer] ||
        s->step > cc->steps_per_window) {
      e = sm_fail(err, SM_EINVAL,
                  "trace record %zu: layer %u neuron %u step %u is not in "
                  "this model and window",
                  i, s->layer, s->neuron, s->step);
      break;
    }
    uint32_t g = owner[first[s->layer] + s->neuron];
    uint32_t nd;
    const uint32_t *dst = model_map_spike_dests(map, g, s->neuron, &nd);
    if (!nd)
      continue;
    /* <= 2 x 65535 x 1e12 ps: no overflow; the sum is checked */
    int64_t slack = (int64_t)(2 * cc->steps_per_window - s->step) *
                    (int64_t)cc->step_ps;
    if (s->time_ps > INT64_MAX - slack) {
      e = sm_fail(err, SM_ELIMIT,
                  "trace record %zu: time %lld ps: its deadline, %lld ps "
                  "later (the receiving window's end), is past the "
                  "simulated clock's horizon of 2^63 - 1 ps",
                  i, (long long)s->time_ps, (long long)slack);
      break;
    }
    struct trace_packet q = {.time_ps = s->time_ps,
                             .deadline_ps = s->time_ps + slack,
                             .payload = core_payload(s->layer, s->neuron,
                                                     s->step),
                             .frame = s->frame,
                             .src = map->groups[g].node,
                             .ndst = nd};
    trace_file_add_packet(out, &q, dst);
  }
  free(owner);
  free(first);
  if (e)
    trace_file_free(out);
  return e;
}

void run_trace_model_path(const struct trace_file *t, const char *given,
                          char *path, size_t len) {
  json_error_t je;
  json_t *meta = json_loads(t->meta, 0, &je);
  json_t *v = json_object_get(meta, "model");
  snprintf(path, len, "%s",
           given ? given : json_is_string(v) ? json_string_value(v) : "");
  json_decref(meta);
}

/* The options a run was recorded with: the run row's configuration in the
 * trace's meta (its own run.* keys are not options), over the defaults. */
static int recorded_options(json_t *meta, const char *db,
                            struct run_options *o, struct sm_err *err) {
  struct sm_conf c;
  run_options_init(o, &c);
  sm_conf_defaults(&c, err);
  json_t *rc_cfg = json_object_get(meta, "config");
  if (!json_is_object(rc_cfg))
    return 0;
  json_t *cfg = json_object();
  const char *key;
  json_t *v;
  json_object_foreach(rc_cfg, key, v) if (strncmp(key, "run.", 4))
      json_object_set(cfg, key, v);
  int e = sm_conf_load_json(&c, cfg, db, err);
  json_decref(cfg);
  return e;
}

int run_recorded_packets(const struct trace_file *spikes,
                         const char *model_path, const char *db,
                         struct trace_file *out, struct sm_err *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *meta = json_loads(spikes->meta, 0, &je);
  struct run_options o;
  struct model *m = NULL;
  struct model_map *map = NULL;
  int e = recorded_options(meta, db, &o, err);
  if (!e)
    e = model_load(model_path, &m, err);
  if (!e) {
    json_t *w = json_object_get(meta, "run.mesh_width"),
           *h = json_object_get(meta, "run.mesh_height");
    struct model_map_params mp =
        run_map_params(&o, (uint32_t)json_integer_value(w),
                       (uint32_t)json_integer_value(h));
    e = model_map_build(m, &mp, &map, err);
  }
  if (!e)
    e = run_trace_to_packets(spikes, m, map, &o.core, out, err);
  if (!e) {
    json_object_set_new(meta, "run.mesh_width", json_integer(map->width));
    json_object_set_new(meta, "run.mesh_height", json_integer(map->height));
    free(out->meta);
    out->meta = json_dumps(meta, JSON_SORT_KEYS | JSON_COMPACT);
  }
  model_map_free(map);
  model_free(m);
  json_decref(meta);
  return e;
}

/* ---- the replay --------------------------------------------------------- */

struct run_replay {
  struct sim_kernel *k;
  struct noc_mesh *noc;
  struct model_map *map;  /* spike traces: the new mapping; else NULL */
  const struct model *m;  /* spike traces: its model */
  struct trace_file tp;   /* the packets injected (owned) */
  struct core_energy_conf energy;
  size_t *start;          /* [nframes + 1] first record of each frame */
  sim_time_t *span;       /* [nframes] ps from the frame's first (scaled)
                             send to its last send or deadline */
  size_t nframes;
  size_t unsorted;        /* records that were out of time order */
  double scale;
  int64_t shift;          /* ps added to this frame's (scaled) times */
  size_t next, end;       /* records [next, end) of the frame to inject */
  int failed;
  /* per frame */
  uint64_t late, deliveries;
  sim_time_t t_first, t_last; /* ps */
  int64_t frame;
  uint64_t layer_hops[256], layer_late[256], layer_sends[256];
  int layers;             /* payloads carry core layers */
  /* recording */
  struct trace_stream *s;
  enum trace_detail detail;
};

#define KIND_INJECT NOC_NKINDS

static sim_time_t when(const struct run_replay *r, size_t i) {
  return (sim_time_t)llround((double)r->tp.packets[i].time_ps * r->scale) +
         (sim_time_t)r->shift;
}

static void on_inject(struct sim_kernel *k, const struct sim_event *ev,
                      void *ctx) {
  (void)ev;
  struct run_replay *r = ctx;
  sim_time_t now = sim_now(k);
  while (r->next < r->end && when(r, r->next) == now) {
    const struct trace_packet *q = &r->tp.packets[r->next];
    if (noc_send(r->noc, q->src, r->tp.dst + q->dst_off, q->ndst, 1,
                 r->next))
      r->failed = 1;
    if (r->layers) {
      uint32_t l = core_payload_layer(q->payload);
      r->layer_sends[l]++;
      r->layer_hops[l] +=
          noc_route_links(r->noc, q->src, r->tp.dst + q->dst_off, q->ndst);
    }
    r->next++;
  }
  /* records are in time order (sort_frame), so this is never in the past */
  if (r->next < r->end &&
      sim_schedule(k, when(r, r->next), KIND_INJECT, 0, 0, 0, NULL))
    r->failed = 1;
}

static void on_deliver(void *ctx, uint32_t node, uint64_t payload,
                       uint32_t src, sim_time_t t_send) {
  (void)node;
  (void)src;
  (void)t_send;
  struct run_replay *r = ctx;
  const struct trace_packet *q = &r->tp.packets[payload];
  sim_time_t now = sim_now(r->k);
  r->deliveries++;
  if (now > r->t_last)
    r->t_last = now;
  if (q->deadline_ps) {
    sim_time_t dl = (sim_time_t)llround((double)q->deadline_ps * r->scale) +
                    (sim_time_t)r->shift;
    if (now > dl) {
      r->late++;
      if (r->layers)
        r->layer_late[(core_payload_layer(q->payload) + 1) & 0xff]++;
    }
  }
}

static void on_packet(void *ctx, const struct noc_packet_record *p) {
  struct run_replay *r = ctx;
  if (r->s && r->detail >= TRACE_PACKET) {
    struct trace_packet_row row = {r->frame,           p->src,
                                   p->dst,             (int64_t)p->t_send,
                                   (int64_t)p->t_inject, (int64_t)p->t_eject,
                                   p->hops,            (int64_t)p->blocked_ps};
    trace_put_packet(r->s, &row);
  }
}

/* A spike trace through model m mapped anew; o->noc gets the mesh used. */
static int prepare_spikes(struct run_replay *r, const struct run_replay_spec *sp,
                          struct run_options *o, struct sm_err *err) {
  struct model_map_params mp = run_map_params(o, sp->mesh_w, sp->mesh_h);
  int e = model_map_build(sp->m, &mp, &r->map, err);
  if (!e)
    e = run_trace_to_packets(sp->trace, sp->m, r->map, &o->core, &r->tp, err);
  if (e)
    return e;
  o->noc.width = r->map->width;
  o->noc.height = r->map->height;
  r->m = sp->m;
  r->layers = 1;
  return 0;
}

/* A packet trace as it is, on its own mesh unless one was given. */
static int prepare_packets(struct run_replay *r,
                           const struct run_replay_spec *sp,
                           struct run_options *o, struct sm_err *err) {
  const struct trace_file *t = sp->trace;
  uint32_t mesh_w = sp->mesh_w, mesh_h = sp->mesh_h;
  json_error_t je;
  json_t *meta = json_loads(t->meta, 0, &je);
  json_t *w = json_object_get(meta, "run.mesh_width"),
         *h = json_object_get(meta, "run.mesh_height");
  if (!sp->mesh_given && json_integer_value(w) > 0 &&
      json_integer_value(h) > 0) {
    mesh_w = (uint32_t)json_integer_value(w);
    mesh_h = (uint32_t)json_integer_value(h);
  }
  json_decref(meta);
  if (!mesh_w) /* auto, and the trace names no mesh */
    mesh_w = mesh_h = RUN_MESH_FALLBACK;
  o->noc.width = mesh_w;
  o->noc.height = mesh_h;
  uint32_t nodes = (uint32_t)(o->noc.width * o->noc.height);
  for (size_t i = 0; i < t->n; i++) {
    const struct trace_packet *q = &t->packets[i];
    int bad = q->src >= nodes;
    for (uint32_t j = 0; j < q->ndst; j++)
      bad |= t->dst[q->dst_off + j] >= nodes;
    if (bad)
      return sm_fail(err, SM_EINVAL,
                     "%s: record %zu: a node is outside the %llux%llu mesh "
                     "(give --mesh WxH)",
                     sp->source, i, (unsigned long long)o->noc.width,
                     (unsigned long long)o->noc.height);
  }
  r->tp = *sp->trace; /* taken over */
  memset(sp->trace, 0, sizeof *sp->trace);
  return 0;
}

struct order {
  int64_t t;
  size_t i;
};

static int cmp_order(const void *a, const void *b) {
  const struct order *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Records [i, j) of one frame in time order, ties in trace order (a stable
 * sort): the injection chain schedules the next send time after the
 * current one, so a trace out of order within a frame would otherwise lose
 * every record after the first step back.  Counts the records moved. */
static void sort_frame(struct run_replay *r, size_t i, size_t j) {
  struct trace_packet *p = r->tp.packets;
  size_t k = i + 1;
  while (k < j && p[k].time_ps >= p[k - 1].time_ps)
    k++;
  if (k >= j)
    return;
  struct order *o = sm_xmallocarray(j - i, sizeof *o);
  for (size_t a = i; a < j; a++)
    o[a - i] = (struct order){p[a].time_ps, a};
  qsort(o, j - i, sizeof *o, cmp_order);
  struct trace_packet *tmp = sm_xmallocarray(j - i, sizeof *tmp);
  for (size_t a = 0; a < j - i; a++) {
    tmp[a] = p[o[a].i];
    r->unsorted += o[a].i != i + a;
  }
  memcpy(p + i, tmp, (j - i) * sizeof *tmp);
  free(tmp);
  free(o);
}

/* Frame boundaries: records must come in frame order. */
static int split_frames(struct run_replay *r, struct sm_err *err) {
  const struct trace_file *tp = &r->tp;
  for (size_t i = 1; i < tp->n; i++)
    if (tp->packets[i].frame < tp->packets[i - 1].frame)
      return sm_fail(err, SM_EINVAL, "trace record %zu: frame %u after frame "
                     "%u: records must be in frame order",
                     i, tp->packets[i].frame, tp->packets[i - 1].frame);
  r->start = sm_xmallocarray(tp->n + 1, sizeof *r->start);
  for (size_t i = 0; i < tp->n; i++)
    if (i == 0 || tp->packets[i].frame != tp->packets[i - 1].frame)
      r->start[r->nframes++] = i;
  r->start[r->nframes] = tp->n;
  for (size_t f = 0; f < r->nframes; f++)
    sort_frame(r, r->start[f], r->start[f + 1]);
  return 0;
}

/* The clock horizon, before anything runs: every time and deadline x the
 * time scale below RUN_CLOCK_MAX_PS (llround and the sums after it stay
 * defined), and the frames one after another (each starts at its first
 * send or when the one before it ended, whichever is later) ending before
 * it too.  Fills r->span. */
static int check_horizon(struct run_replay *r, const char *source,
                         struct sm_err *err) {
  const double lim = (double)RUN_CLOCK_MAX_PS; /* 2^63 */
  r->span = sm_xmallocarray(r->nframes ? r->nframes : 1, sizeof *r->span);
  double clock = 0;
  for (size_t f = 0; f < r->nframes; f++) {
    size_t i0 = r->start[f], i1 = r->start[f + 1];
    double first = (double)r->tp.packets[i0].time_ps * r->scale, last = first;
    for (size_t i = i0; i < i1; i++) {
      const struct trace_packet *q = &r->tp.packets[i];
      double t = (double)q->time_ps * r->scale,
             dl = (double)q->deadline_ps * r->scale;
      if (!(t < lim) || !(dl < lim))
        return sm_fail(err, SM_ELIMIT,
                       "%s: record %zu: %s %lld ps x the time scale %g is "
                       "not below the simulated clock's horizon of 2^63 - 1 "
                       "ps",
                       source, i, t < lim ? "deadline" : "time",
                       (long long)(t < lim ? q->deadline_ps : q->time_ps),
                       r->scale);
      last = t > last ? t : last;
      last = dl > last ? dl : last;
    }
    double span = last - first;
    clock = (clock > first ? clock : first) + span;
    if (!(clock < lim))
      return sm_fail(err, SM_ELIMIT,
                     "%s: frame %u: the frames one after another (each "
                     "starts when the one before it ended) run past the "
                     "simulated clock's horizon of 2^63 - 1 ps",
                     source, r->tp.packets[i0].frame);
    /* llround of each end: the span in whole ps, rounded up */
    r->span[f] = (sim_time_t)llround(last) - (sim_time_t)llround(first);
  }
  return 0;
}

int run_replay_new(const struct run_replay_spec *sp, struct run_options *o,
                   struct run_replay **out, struct sm_err *err) {
  *out = NULL;
  struct run_replay *r = sm_xcalloc(1, sizeof *r);
  r->scale = sp->scale;
  r->energy = o->energy;
  int e = sp->trace->kind == TRACE_KIND_SPIKE ? prepare_spikes(r, sp, o, err)
                                              : prepare_packets(r, sp, o, err);
  if (!e)
    e = split_frames(r, err);
  if (!e)
    e = check_horizon(r, sp->source, err);
  if (!e) {
    r->k = sim_kernel_new((enum sim_queue_kind)o->sim.queue, o->sim.seed);
    e = noc_mesh_new(r->k, &o->noc, 0, on_deliver, r, &r->noc, err);
  }
  if (e) {
    run_replay_free(r);
    return e;
  }
  sim_register(r->k, KIND_INJECT, on_inject, r);
  noc_set_observer(r->noc, on_packet, r);
  *out = r;
  return 0;
}

void run_replay_free(struct run_replay *r) {
  if (!r)
    return;
  noc_mesh_free(r->noc);
  sim_kernel_free(r->k);
  model_map_free(r->map);
  trace_file_free(&r->tp);
  free(r->start);
  free(r->span);
  free(r);
}

uint32_t run_replay_cores(const struct run_replay *r) {
  return r->map ? r->map->ngroups : 0;
}

size_t run_replay_nframes(const struct run_replay *r) { return r->nframes; }
size_t run_replay_npackets(const struct run_replay *r) { return r->tp.n; }
size_t run_replay_unsorted(const struct run_replay *r) { return r->unsorted; }
int64_t run_replay_frames_planned(const struct run_replay *r) {
  return r->tp.n ? (int64_t)r->tp.packets[r->tp.n - 1].frame + 1 : 0;
}

static int replay_frame(void *hw, size_t fi, struct run_frame *f,
                        struct sm_err *err) {
  struct run_replay *r = hw;
  size_t i = r->start[fi], j = r->start[fi + 1];
  r->frame = r->tp.packets[i].frame;
  r->next = i;
  r->end = j;
  r->shift = 0;
  r->late = r->deliveries = 0;
  memset(r->layer_hops, 0, sizeof r->layer_hops);
  memset(r->layer_late, 0, sizeof r->layer_late);
  memset(r->layer_sends, 0, sizeof r->layer_sends);
  /* each frame on a fresh clock and mesh, as a run's frames (run_sim_reset):
   * a frame's rows do not depend on the frames before it */
  if (sim_kernel_reset(r->k) || noc_mesh_reset(r->noc))
    return sm_fail(err, SM_ESTATE, "replay: the frame before frame %u did "
                   "not drain", r->tp.packets[i].frame);
  sim_time_t now = sim_now(r->k);
  /* the frames before may have drained late: the horizon once more */
  sim_time_t t_start = when(r, i) > now ? when(r, i) : now;
  if (t_start > RUN_CLOCK_MAX_PS - r->span[fi])
    return sm_fail(err, SM_ELIMIT,
                   "replay: frame %u, starting at %llu ps, would end past "
                   "the simulated clock's horizon of 2^63 - 1 ps",
                   r->tp.packets[i].frame, (unsigned long long)t_start);
  if (when(r, i) < now)
    r->shift = (int64_t)(now - when(r, i));
  noc_reset_stats(r->noc);
  r->t_first = r->t_last = when(r, i);
  sim_schedule(r->k, r->t_first, KIND_INJECT, 0, 0, 0, NULL);
  sim_run(r->k, SIM_TIME_MAX, 0);
  if (r->failed || !noc_idle(r->noc))
    return sm_fail(err, SM_ESTATE, "replay: frame %u did not drain",
                   r->tp.packets[i].frame);
  struct noc_totals nt;
  noc_totals(r->noc, &nt);
  memset(f, 0, sizeof *f);
  f->index = r->frame;
  f->label = -1;
  f->pred = -1;
  f->packets = f->spikes = j - i;
  f->hops = nt.hops;
  f->blocked_ps = nt.blocked_ps;
  f->late_spikes = r->late;
  f->deliveries = r->deliveries;
  f->t_first_in = r->t_first;
  f->latency_ps = r->t_last - r->t_first;
  struct core_chip chip = {run_replay_cores(r), noc_nodes(r->noc)};
  core_energy_frame(&r->energy, 0, nt.hops, f->latency_ps, &chip, &f->energy);
  return 0;
}

static void *replay_rec_new(void *hw, struct trace_stream *s,
                            enum trace_detail d) {
  struct run_replay *r = hw;
  r->s = s;
  r->detail = d;
  if (r->layers)
    run_put_layerdefs(s, r->m, r->map);
  if (r->map) /* a spike trace: the mapping it was replayed through */
    run_put_mapping(s, r->map);
  return r;
}

static void replay_rec_begin(void *rec, size_t i) {
  (void)rec;
  (void)i;
}

static void replay_rec_end(void *rec, size_t i, const struct run_frame *f) {
  (void)i;
  struct run_replay *r = rec;
  if (r->detail >= TRACE_LAYER && r->layers)
    for (uint32_t l = 0; l < r->map->nlayers; l++) {
      struct trace_layer_row lr = {r->frame,
                                   l,
                                   (int64_t)r->map->layers[l].channels *
                                       r->map->layers[l].plane,
                                   (int64_t)r->layer_sends[l],
                                   0,
                                   (int64_t)r->layer_hops[l],
                                   (int64_t)r->layer_late[l],
                                   0,
                                   TRACE_NULL};
      trace_put_layer(r->s, &lr);
    }
  if (r->detail >= TRACE_LINK)
    run_rec_put_network(r->s, r->noc, r->frame);
  struct trace_frame_row fr = {.frame = r->frame,
                               .label = -1,
                               .prediction = -1,
                               .input_spikes = (int64_t)r->layer_sends[0],
                               .spikes = (int64_t)f->spikes,
                               .hops = (int64_t)f->hops,
                               .late = (int64_t)f->late_spikes,
                               .t_start = (int64_t)f->t_first_in,
                               .latency = (int64_t)f->latency_ps,
                               .e_hop = f->energy.hop_uj * 1e6,
                               .e_static = f->energy.static_uj * 1e6,
                               .e_total = f->energy.total_uj * 1e6};
  trace_put_frame(r->s, &fr);
  trace_frame_end(r->s, r->frame);
}

static void replay_rec_free(void *rec) {
  struct run_replay *r = rec;
  r->s = NULL;
}

void run_replay_engine(struct run_replay *r, struct run_engine *e) {
  *e = (struct run_engine){.hw = r,
                           .frame = replay_frame,
                           .rec_new = replay_rec_new,
                           .rec_begin = replay_rec_begin,
                           .rec_end = replay_rec_end,
                           .rec_free = replay_rec_free};
}

int run_replay_record_open(struct run_record *rr, const char *db,
                           enum trace_detail detail, const struct sm_conf *c,
                           const struct run_options *o,
                           const struct run_replay_spec *sp,
                           const struct run_replay *rp, struct sm_err *err) {
  json_t *j = sm_conf_to_json(c);
  json_object_set_new(j, "replay.source", json_string(sp->source));
  json_object_set_new(j, "replay.time_scale", json_real(sp->scale));
  run_config_set_chip(j, (uint32_t)o->noc.width, (uint32_t)o->noc.height,
                      run_replay_cores(rp));
  char *cfg = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  int has_model = sp->model_path && *sp->model_path;
  struct trace_run_info info = {.kind = "replay",
                                .config_json = cfg,
                                .model_path = has_model ? sp->model_path : NULL,
                                .detail = trace_detail_name(detail),
                                .seed = o->sim.seed,
                                .frames_planned =
                                    run_replay_frames_planned(rp),
                                .mesh_width = (uint32_t)o->noc.width,
                                .mesh_height = (uint32_t)o->noc.height};
  int e = run_record_open(rr, db, 0, &info, err);
  free(cfg);
  return e;
}
