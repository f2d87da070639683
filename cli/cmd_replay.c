/*
 * cmd_replay.c -- `spikemesh replay`: inject a recorded spike or packet
 * trace into a chosen architecture (mesh size, placement, router timing,
 * multicast mode) and record hops, congestion, latency, energy and late
 * arrivals as a run would.
 *
 * Spike traces go through a model's connectivity: each spike of a
 * non-output layer becomes one noc_send from the node of the core that
 * holds its neuron under the new mapping to that core's destination set
 * (output-layer spikes are decisions, not packets).  Packet traces are
 * injected as they are (nodes must exist on the new mesh).  Spikes keep
 * their recorded times (times x --time-scale); frames stay sequential: a
 * frame whose first send would fall before the previous frame drained is
 * shifted to start then.  Each packet's payload is its record index, so a
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
#include "cli/cli.h"
#include "run/run.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ---- the replay --------------------------------------------------------- */

struct replay {
  struct sim_kernel *k;
  struct noc_mesh *noc;
  const struct trace_file *t;
  double scale;
  int64_t shift;          /* ps added to this frame's (scaled) times */
  size_t next, end;       /* records [next, end) of the frame to inject */
  int failed;
  /* per frame */
  uint64_t late, deliveries;
  sim_time_t t_first, t_last; /* ps */
  struct trace_stream *s;
  enum trace_detail detail;
  int64_t frame;
  uint64_t layer_hops[256], layer_late[256], layer_sends[256];
  int layers;             /* payloads carry core layers */
};

#define KIND_INJECT NOC_NKINDS

static sim_time_t when(const struct replay *r, size_t i) {
  return (sim_time_t)llround((double)r->t->packets[i].time_ps * r->scale) +
         (sim_time_t)r->shift;
}

static void on_inject(struct sim_kernel *k, const struct sim_event *ev,
                      void *ctx) {
  (void)ev;
  struct replay *r = ctx;
  sim_time_t now = sim_now(k);
  while (r->next < r->end && when(r, r->next) == now) {
    const struct trace_packet *q = &r->t->packets[r->next];
    if (noc_send(r->noc, q->src, r->t->dst + q->dst_off, q->ndst, 1,
                 r->next))
      r->failed = 1;
    if (r->layers)
      r->layer_sends[core_payload_layer(q->payload)]++;
    r->next++;
  }
  if (r->next < r->end)
    sim_schedule(k, when(r, r->next), KIND_INJECT, 0, 0, 0, NULL);
}

static void on_deliver(void *ctx, uint32_t node, uint64_t payload,
                       uint32_t src, sim_time_t t_send) {
  (void)node;
  (void)src;
  (void)t_send;
  struct replay *r = ctx;
  const struct trace_packet *q = &r->t->packets[payload];
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
  struct replay *r = ctx;
  if (r->layers)
    r->layer_hops[core_payload_layer(r->t->packets[p->payload].payload)] +=
        p->hops;
  if (r->s && r->detail >= TRACE_PACKET) {
    struct trace_packet_row row = {r->frame,           p->src,
                                   p->dst,             (int64_t)p->t_send,
                                   (int64_t)p->t_inject, (int64_t)p->t_eject,
                                   p->hops,            (int64_t)p->blocked_ps};
    trace_put_packet(r->s, &row);
  }
}

static void usage(FILE *out, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh replay (--trace FILE | --from-db FILE [--run N])\n"
          "                        [OPTIONS] [key=value...]\n"
          "\n"
          "Injects a spike trace (through a model's connectivity, mapped\n"
          "anew on the chosen architecture) or a packet trace (as is) into a\n"
          "mesh and reports hops, blocked time, latency, energy (E_Hop x\n"
          "hops + E_static; no cores, so no SOPs) and how many spikes would\n"
          "now arrive after the receiving layer's window closed.  Spikes keep\n"
          "their recorded times (x --time-scale); frames stay sequential.\n"
          "\n"
          "Options:\n"
          "  --trace FILE      binary or CSV trace (spikemesh trace export)\n"
          "  --from-db FILE    the spikes of a run recorded at spike or\n"
          "                    packet detail\n"
          "  --run N           run id in --from-db [newest]\n"
          "  --model FILE      model for a spike trace [the trace's own]\n"
          "  --arch PRESET|FILE  architecture preset or JSON file [%s]\n"
          "  --mesh WxH|auto   mesh; spike traces: auto maps as `run` does;\n"
          "                    packet traces: [the trace's own mesh]\n"
          "  --time-scale X    multiply every time by X (> 0) [1]\n"
          "  --db FILE         record the replay (a run of kind 'replay')\n"
          "  --detail LEVEL    " TRACE_DETAIL_CHOICES " [link]\n"
          "\nkey=value overrides apply after the preset.  Options:\n",
          MODEL_DEFAULT_PRESET);
  sm_conf_print_help(c, out);
}

static int parse_wxh(const char *s, uint32_t *w, uint32_t *h) {
  if (!strcmp(s, "auto")) {
    *w = *h = 0;
    return 0;
  }
  unsigned a, b;
  char x;
  if (sscanf(s, "%u%c%u", &a, &x, &b) != 3 || (x != 'x' && x != 'X') ||
      a < 1 || b < 1 || a > NOC_MAX_SIDE || b > NOC_MAX_SIDE)
    return -1;
  *w = a;
  *h = b;
  return 0;
}

static const char *meta_str(json_t *meta, const char *key) {
  json_t *v = json_object_get(meta, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int cli_cmd_replay(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("replay", &err);
  const char *trace = NULL, *from_db = NULL, *model_path = NULL,
             *arch = MODEL_DEFAULT_PRESET, *db_path = NULL;
  int64_t run = -1;
  uint32_t mesh_w = 0, mesh_h = 0;
  int mesh_given = 0;
  double scale = 1;
  enum trace_detail detail = TRACE_LINK;
  int first_kv = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout, &c);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--trace") && i + 1 < argc) {
      trace = argv[++i];
    } else if (!strcmp(a, "--from-db") && i + 1 < argc) {
      from_db = argv[++i];
    } else if (!strcmp(a, "--run") && i + 1 < argc) {
      if (sm_parse_i64(argv[++i], &run) || run < 1)
        return cli_usage_error("replay", "--run '%s': expected a run id",
                               argv[i]);
    } else if (!strcmp(a, "--model") && i + 1 < argc) {
      model_path = argv[++i];
    } else if (!strcmp(a, "--arch") && i + 1 < argc) {
      arch = argv[++i];
    } else if (!strcmp(a, "--mesh") && i + 1 < argc) {
      if (parse_wxh(argv[++i], &mesh_w, &mesh_h))
        return cli_usage_error("replay", "--mesh '%s': expected WxH or auto",
                               argv[i]);
      mesh_given = 1;
    } else if (!strcmp(a, "--time-scale") && i + 1 < argc) {
      if (sm_parse_double(argv[++i], &scale) || !(scale > 0) || scale > 1e6)
        return cli_usage_error("replay",
                               "--time-scale '%s': expected a number > 0",
                               argv[i]);
    } else if (!strcmp(a, "--db") && i + 1 < argc) {
      db_path = argv[++i];
    } else if (!strcmp(a, "--detail") && i + 1 < argc) {
      if (trace_detail_parse(argv[++i], &detail))
        return cli_usage_error("replay", "--detail '%s': expected one of "
                               TRACE_DETAIL_CHOICES, argv[i]);
    } else if (strchr(a, '=') && a[0] != '-') {
      if (first_kv == argc)
        first_kv = i;
    } else {
      return cli_usage_error("replay", "unknown or incomplete option '%s'", a);
    }
  }
  if (!trace == !from_db)
    return cli_usage_error("replay", "give one of --trace FILE or --from-db "
                                     "FILE");
  char preset[1024];
  if (model_preset_path(arch, preset, sizeof preset, &err) ||
      sm_conf_load_file(&c, preset, &err))
    return cli_report("replay", &err);
  for (int i = first_kv; i < argc; i++)
    if (strchr(argv[i], '=') && argv[i][0] != '-' &&
        sm_conf_set(&c, argv[i], "command line", &err))
      return cli_report("replay", &err);

  struct trace_file tin, tp;
  memset(&tp, 0, sizeof tp);
  if (from_db) {
    if (run < 0 && trace_db_last_run(from_db, &run, &err))
      return cli_report("replay", &err);
    if (trace_db_spikes(from_db, run, &tin, &err))
      return cli_report("replay", &err);
  } else if (trace_file_read(trace, &tin, &err)) {
    return cli_report("replay", &err);
  }
  json_error_t je;
  json_t *meta = json_loads(tin.meta, 0, &je);
  if (!meta)
    meta = json_object();
  int rc = CLI_EXIT_OK;
  struct model *m = NULL;
  struct model_map *map = NULL;
  struct sim_kernel *k = NULL;
  struct noc_mesh *noc = NULL;
  struct trace_db *db = NULL;
  struct trace_stream *ts = NULL;
  int64_t rid = -1;
  struct replay r;
  memset(&r, 0, sizeof r);
  if (tin.kind == TRACE_KIND_SPIKE) {
    if (!model_path)
      model_path = meta_str(meta, "model");
    if (!model_path || !*model_path) {
      rc = cli_usage_error("replay", "a spike trace needs --model FILE (its "
                                     "meta names none)");
      goto out;
    }
    if (model_load(model_path, &m, &err)) {
      rc = cli_report("replay", &err);
      goto out;
    }
    struct model_map_params mp = {.neurons_per_core = o.core.neurons_per_core,
                                  .sram_bytes = o.core.sram_bytes,
                                  .weight_bits = o.core.weight_bits,
                                  .width = mesh_w,
                                  .height = mesh_h,
                                  .placement = o.map.placement,
                                  .sram_fit = o.map.sram_fit};
    if (model_map_build(m, &mp, &map, &err) ||
        run_trace_to_packets(&tin, m, map, &o.core, &tp, &err)) {
      rc = cli_report("replay", &err);
      goto out;
    }
    o.noc.width = map->width;
    o.noc.height = map->height;
    r.layers = 1;
  } else {
    json_t *w = json_object_get(meta, "run.mesh_width"),
           *h = json_object_get(meta, "run.mesh_height");
    if (!mesh_given && json_integer_value(w) > 0 && json_integer_value(h) > 0) {
      mesh_w = (uint32_t)json_integer_value(w);
      mesh_h = (uint32_t)json_integer_value(h);
    }
    if (mesh_w) {
      o.noc.width = mesh_w;
      o.noc.height = mesh_h;
    }
    tp = tin;
    memset(&tin, 0, sizeof tin);
    uint32_t nodes = (uint32_t)(o.noc.width * o.noc.height);
    for (size_t i = 0; i < tp.n; i++) {
      const struct trace_packet *q = &tp.packets[i];
      int bad = q->src >= nodes;
      for (uint32_t j = 0; j < q->ndst; j++)
        bad |= tp.dst[q->dst_off + j] >= nodes;
      if (bad) {
        sm_fail(&err, SM_EINVAL,
                "%s: record %zu: a node is outside the %llux%llu mesh (give "
                "--mesh WxH)",
                trace, i, (unsigned long long)o.noc.width,
                (unsigned long long)o.noc.height);
        rc = cli_report("replay", &err);
        goto out;
      }
    }
  }
  for (size_t i = 1; i < tp.n; i++)
    if (tp.packets[i].frame < tp.packets[i - 1].frame) {
      sm_fail(&err, SM_EINVAL, "trace record %zu: frame %u after frame %u: "
                               "records must be in frame order",
              i, tp.packets[i].frame, tp.packets[i - 1].frame);
      rc = cli_report("replay", &err);
      goto out;
    }
  k = sim_kernel_new((enum sim_queue_kind)o.sim.queue, o.sim.seed);
  if (noc_mesh_new(k, &o.noc, 0, on_deliver, &r, &noc, &err)) {
    rc = cli_report("replay", &err);
    goto out;
  }
  sim_register(k, KIND_INJECT, on_inject, &r);
  noc_set_observer(noc, on_packet, &r);
  r.k = k;
  r.noc = noc;
  r.t = &tp;
  r.scale = scale;
  r.detail = detail;
  if (db_path) {
    json_t *j = sm_conf_to_json(&c);
    json_object_set_new(j, "replay.source",
                        json_string(trace ? trace : from_db));
    json_object_set_new(j, "replay.time_scale", json_real(scale));
    char *cfg = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    struct trace_run_info info = {.kind = "replay",
                                  .config_json = cfg,
                                  .model_path = model_path,
                                  .detail = trace_detail_name(detail),
                                  .seed = o.sim.seed,
                                  .frames_planned =
                                      tp.n ? tp.packets[tp.n - 1].frame + 1 : 0};
    int e = trace_db_open(db_path, &db, &err);
    if (!e)
      e = trace_run_begin(db, &info, &rid, &err);
    free(cfg);
    if (e) {
      rc = cli_report("replay", &err);
      goto out;
    }
    ts = trace_stream_open(db, rid);
    r.s = ts;
  }
  printf("spikemesh replay: %zu %s records from %s, %zu packets on a "
         "%llux%llu mesh (%s timing, %s multicast), time x %g\n",
         tin.kind ? tin.n : tp.n,
         tin.kind == TRACE_KIND_SPIKE ? "spike" : "packet",
         trace ? trace : from_db, tp.n, (unsigned long long)o.noc.width,
         (unsigned long long)o.noc.height,
         o.noc.timing == NOC_CLOCKED ? "clocked" : "async",
         o.noc.multicast ? "tree" : "unicast", scale);
  uint64_t frames = 0, hops = 0, late = 0, deliveries = 0;
  double lat_sum = 0, e_hop = 0, e_static = 0;
  uint64_t blocked = 0;
  for (size_t i = 0; i < tp.n;) {
    size_t j = i;
    while (j < tp.n && tp.packets[j].frame == tp.packets[i].frame)
      j++;
    r.frame = tp.packets[i].frame;
    r.next = i;
    r.end = j;
    r.shift = 0;
    r.late = r.deliveries = 0;
    memset(r.layer_hops, 0, sizeof r.layer_hops);
    memset(r.layer_late, 0, sizeof r.layer_late);
    memset(r.layer_sends, 0, sizeof r.layer_sends);
    sim_time_t now = sim_now(k);
    if (when(&r, i) < now)
      r.shift = (int64_t)(now - when(&r, i));
    noc_reset_stats(noc);
    r.t_first = r.t_last = when(&r, i);
    sim_schedule(k, r.t_first, KIND_INJECT, 0, 0, 0, NULL);
    sim_run(k, SIM_TIME_MAX, 0);
    if (r.failed || !noc_idle(noc)) {
      sm_fail(&err, SM_ESTATE, "replay: frame %u did not drain",
              tp.packets[i].frame);
      rc = cli_report("replay", &err);
      goto out;
    }
    struct noc_totals nt;
    noc_totals(noc, &nt);
    struct core_energy en;
    sim_time_t lat = r.t_last - r.t_first;
    core_energy_frame(&o.energy, 0, nt.hops, lat, &en);
    frames++;
    hops += nt.hops;
    blocked += nt.blocked_ps;
    late += r.late;
    deliveries += r.deliveries;
    lat_sum += (double)lat;
    e_hop += en.hop_uj;
    e_static += en.static_uj;
    if (ts) {
      if (detail >= TRACE_LAYER && r.layers)
        for (uint32_t l = 0; l < map->nlayers; l++) {
          struct trace_layer_row lr = {r.frame,
                                       l,
                                       (int64_t)map->layers[l].channels *
                                           map->layers[l].plane,
                                       (int64_t)r.layer_sends[l],
                                       0,
                                       (int64_t)r.layer_hops[l],
                                       (int64_t)r.layer_late[l],
                                       0};
          trace_put_layer(ts, &lr);
        }
      if (detail >= TRACE_LINK)
        run_rec_put_network(ts, noc, r.frame);
      struct trace_frame_row fr = {.frame = r.frame,
                                   .label = -1,
                                   .prediction = -1,
                                   .input_spikes = (int64_t)r.layer_sends[0],
                                   .spikes = (int64_t)(j - i),
                                   .hops = (int64_t)nt.hops,
                                   .late = (int64_t)r.late,
                                   .t_start = (int64_t)r.t_first,
                                   .latency = (int64_t)lat,
                                   .e_hop = en.hop_uj * 1e6,
                                   .e_static = en.static_uj * 1e6,
                                   .e_total = en.total_uj * 1e6};
      trace_put_frame(ts, &fr);
      trace_frame_end(ts, r.frame);
    }
    i = j;
  }
  double dn = frames ? (double)frames : 1;
  printf("frames %llu, deliveries %llu, hops %llu (%.1f per frame), blocked "
         "%.3f us in total\n",
         (unsigned long long)frames, (unsigned long long)deliveries,
         (unsigned long long)hops, (double)hops / dn, (double)blocked * 1e-6);
  printf("late: %llu deliveries would now arrive after the receiving "
         "window closed (%.3f per frame)\n",
         (unsigned long long)late, (double)late / dn);
  printf("latency: %.3f us mean per frame, first send to last delivery\n",
         lat_sum / dn * 1e-6);
  printf("energy per frame: hop %.4f uJ (%.1f pJ x %.1f hops) + static "
         "%.4f uJ\n",
         e_hop / dn, o.energy.e_hop_pj, (double)hops / dn, e_static / dn);
  if (db)
    printf("recorded as run %lld in %s\n", (long long)rid, db_path);
out:
  trace_stream_close(ts);
  if (db) {
    trace_run_end(db, rid, rc == CLI_EXIT_OK ? "complete" : "failed", NULL);
    struct sm_err cerr = {0};
    if (trace_db_close(db, &cerr) && rc == CLI_EXIT_OK)
      rc = cli_report("replay", &cerr);
  }
  noc_mesh_free(noc);
  sim_kernel_free(k);
  model_map_free(map);
  model_free(m);
  json_decref(meta);
  trace_file_free(&tin);
  trace_file_free(&tp);
  return rc;
}
