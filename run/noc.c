/*
 * noc.c -- a latency-throughput sweep of synthetic traffic on the mesh
 * (see run.h): the assembly behind `spikemesh noc`.
 *
 * Every offered load of traffic.rates is an independent run of
 * noc_traffic_run() (a fresh kernel and mesh, the same seed): warm-up,
 * measurement window, drain of the measured packets, then injection stops
 * and the network must empty.  Recorded, the sweep is one run of kind
 * 'noc' whose configuration is every option, and each load is one unit
 * ("frame" i) holding one noc_points row, so a resumed sweep skips the
 * loads done before.  A load whose network does not empty, or that loses
 * or duplicates a flit, marks the sweep failed; the loads after it still
 * run.
 */
#include "run/run.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int run_noc_open(struct run_noc *s, const struct run_options *o,
                 const struct sm_conf *c, const char *db, int resume,
                 enum trace_detail detail, struct sm_err *err) {
  memset(s, 0, sizeof *s);
  s->o = o;
  s->rec.run_id = -1;
  int e = noc_traffic_parse_rates(o->traffic.rates, s->rates,
                                  RUN_NOC_MAX_RATES, &s->nrates, err);
  if (!e)
    e = noc_traffic_check(&o->noc, &o->traffic, err);
  if (e || !db)
    return e;
  json_t *j = sm_conf_to_json(c);
  char *cfg = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  struct trace_run_info info = {.kind = "noc",
                                .config_json = cfg,
                                .detail = trace_detail_name(detail),
                                .seed = o->sim.seed,
                                .frames_planned = (int64_t)s->nrates,
                                .mesh_width = (uint32_t)o->noc.width,
                                .mesh_height = (uint32_t)o->noc.height};
  e = run_record_open(&s->rec, db, resume, &info, err);
  free(cfg);
  s->first = s->rec.first_frame;
  return e;
}

int run_noc_conserved(const struct noc_traffic_result *r) {
  return r->idle && r->gen_flits == r->deliv_flits;
}

static void record_point(struct trace_stream *ts, size_t i,
                         const struct noc_traffic_result *r) {
  struct trace_noc_row row = {r->offered,  r->accepted, r->lat_mean,
                              r->lat_p50,  r->lat_p99,  r->lat_max,
                              (int64_t)r->measured, r->saturated};
  trace_put_noc(ts, &row);
  trace_frame_end(ts, (int64_t)i);
}

int run_noc_run(struct run_noc *s, run_noc_point_fn on_point, void *ctx,
                struct sm_err *err) {
  const struct run_options *o = s->o;
  for (size_t i = s->first; i < s->nrates; i++) {
    struct noc_traffic_result r;
    int e = noc_traffic_run(&o->noc, &o->traffic, s->rates[i], o->sim.queue,
                            o->sim.seed, (enum noc_sched)o->traffic.schedule,
                            &r, err);
    if (e) {
      run_record_close(&s->rec, "failed", NULL);
      return e;
    }
    if (s->rec.ts)
      record_point(s->rec.ts, i, &r);
    if (r.saturated && s->first_sat == 0)
      s->first_sat = r.rate;
    if (r.accepted > s->peak)
      s->peak = r.accepted;
    s->failed |= !run_noc_conserved(&r);
    if (on_point)
      on_point(ctx, i, &r);
  }
  return 0;
}

int run_noc_close(struct run_noc *s, struct sm_err *err) {
  if (!s->rec.db)
    return 0;
  return run_record_close(&s->rec, s->failed ? "failed" : "complete", err);
}
