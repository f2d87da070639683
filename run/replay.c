/*
 * replay.c -- traces for replay: a run's recorded spikes as a spike trace,
 * and spikes turned into packets through a mapping (see run.h).
 */
#include "run/run.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ---- a run's spikes as a spike trace ------------------------------------ */

int run_trace_from_db(const char *path, int64_t run, struct trace_file *t,
                      struct sm_err *err) {
  sqlite3 *c;
  if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sqlite3_close(c);
    return sm_fail(err, SM_EIO, "%s: cannot open database", path);
  }
  sqlite3_busy_timeout(c, 2000);
  sqlite3_stmt *st;
  int e = 0;
  json_t *meta = json_object();
  if (sqlite3_prepare_v2(c,
                         "SELECT coalesce(model_path,''), "
                         "coalesce(model_hash,''), config, detail FROM runs "
                         "WHERE run_id=?",
                         -1, &st, NULL) != SQLITE_OK) {
    e = sm_fail(err, SM_EFORMAT, "%s: %s", path, sqlite3_errmsg(c));
  } else {
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) != SQLITE_ROW) {
      e = sm_fail(err, SM_ENOENT, "%s: no run %lld", path, (long long)run);
    } else {
      const char *detail = (const char *)sqlite3_column_text(st, 3);
      enum trace_detail d;
      if (!detail || trace_detail_parse(detail, &d) || d < TRACE_SPIKE)
        e = sm_fail(err, SM_EINVAL,
                    "%s: run %lld was recorded at detail '%s'; a trace needs "
                    "spike or packet detail",
                    path, (long long)run, detail ? detail : "?");
      json_object_set_new(meta, "model",
                          json_string((const char *)sqlite3_column_text(st, 0)));
      json_object_set_new(meta, "model_hash",
                          json_string((const char *)sqlite3_column_text(st, 1)));
      json_error_t je;
      json_t *cfg = json_loads((const char *)sqlite3_column_text(st, 2), 0, &je);
      const char *keys[] = {"run.mesh_width", "run.mesh_height"};
      for (size_t i = 0; cfg && i < SM_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(cfg, keys[i]);
        if (v)
          json_object_set(meta, keys[i], v);
      }
      /* the run's whole configuration: the mapping can be rebuilt */
      if (cfg)
        json_object_set(meta, "config", cfg);
      json_decref(cfg);
      json_object_set_new(meta, "run", json_integer(run));
      json_object_set_new(meta, "database", json_string(path));
    }
    sqlite3_finalize(st);
  }
  char *m = json_dumps(meta, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(meta);
  trace_file_init(t, TRACE_KIND_SPIKE, m);
  free(m);
  if (!e && sqlite3_prepare_v2(c,
                               "SELECT frame, layer, neuron, core, time_ps, "
                               "coalesce(step,0) FROM spikes WHERE run_id=? "
                               "ORDER BY rowid",
                               -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run);
    while (sqlite3_step(st) == SQLITE_ROW) {
      struct trace_spike s = {sqlite3_column_int64(st, 4),
                              (uint32_t)sqlite3_column_int64(st, 0),
                              (uint32_t)sqlite3_column_int64(st, 1),
                              (uint32_t)sqlite3_column_int64(st, 5),
                              (uint32_t)sqlite3_column_int64(st, 2),
                              (uint32_t)sqlite3_column_int64(st, 3)};
      trace_file_add_spike(t, &s);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(c);
  if (e)
    trace_file_free(t);
  return e;
}

/* Spikes to packets through a mapping (records of the output layer, which
 * sends nothing, are left out). */
int run_trace_to_packets(const struct trace_file *in, const struct model *m,
                         const struct model_map *map,
                         const struct core_conf *cc, struct trace_file *out,
                         struct sm_err *err) {
  trace_file_init(out, TRACE_KIND_PACKET, in->meta);
  for (size_t i = 0; i < in->n; i++) {
    const struct trace_spike *s = &in->spikes[i];
    if (s->layer >= map->nlayers) {
      trace_file_free(out);
      return sm_fail(err, SM_EINVAL,
                     "trace record %zu: layer %u, but the model has %u "
                     "(input included)",
                     i, s->layer, map->nlayers);
    }
    const struct model_map_layer *L = &map->layers[s->layer];
    /* neurons per channel after the fused pooling */
    uint32_t per_ch = L->plane;
    if (L->pool > 1 && L->model_layer >= 0) {
      const struct model_layer *ml = &m->layers[L->model_layer];
      per_ch = (uint32_t)(ml->out_h / L->pool) * (uint32_t)(ml->out_w / L->pool);
    }
    uint32_t ch = per_ch ? s->neuron / per_ch : 0;
    if (ch >= L->channels || s->step > cc->steps_per_window) {
      trace_file_free(out);
      return sm_fail(err, SM_EINVAL,
                     "trace record %zu: layer %u neuron %u step %u is not in "
                     "this model and window",
                     i, s->layer, s->neuron, s->step);
    }
    uint32_t g = L->first_group;
    while (g + 1 < L->first_group + L->ngroups && map->groups[g].c1 <= ch)
      g++;
    uint32_t nd;
    const uint32_t *dst = model_map_dests(map, g, &nd);
    if (!nd)
      continue;
    int64_t slack = (int64_t)(2 * cc->steps_per_window - s->step) *
                    (int64_t)cc->step_ps;
    struct trace_packet q = {.time_ps = s->time_ps,
                             .deadline_ps = s->time_ps + slack,
                             .payload = core_payload(s->layer, s->neuron,
                                                     s->step),
                             .frame = s->frame,
                             .src = map->groups[g].node,
                             .ndst = nd};
    trace_file_add_packet(out, &q, dst);
  }
  return 0;
}

