/*
 * query.c -- reading a recorder database: a digest of a run's rows, a
 * summary of the whole database, two runs side by side, and a run's
 * spikes as a spike trace.
 *
 * The database is opened read-only (a run may still be writing it: WAL
 * readers never block the writer).  The digest walks every table in a
 * fixed order, rows in key order (spikes and packets in insertion order,
 * which is send and delivery order), hashing each value with its type, and
 * skips the columns that are not results (run_id, started_at, ended_at).
 */
#include "traces/trace-int.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trace__open_ro(const char *path, sqlite3 **c, struct sm_err *err) {
  *c = NULL;
  if (access(path, F_OK) != 0)
    return sm_fail(err, SM_ENOENT, "%s: no such database file", path);
  if (sqlite3_open_v2(path, c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    int e = sm_fail(err, SM_EIO, "%s: cannot open database: %s", path,
                    *c ? sqlite3_errmsg(*c) : "out of memory");
    sqlite3_close(*c);
    return e;
  }
  sqlite3_busy_timeout(*c, 2000);
  sqlite3_stmt *st;
  int version = -1;
  if (sqlite3_prepare_v2(*c, "SELECT value FROM meta WHERE key='schema_version'",
                         -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  /* version 3 differs only by the claims table, which no reader needs */
  if (version < TRACE_SCHEMA_OLDEST || version > TRACE_SCHEMA_VERSION) {
    sqlite3_close(*c);
    if (version < 0)
      return sm_fail(err, SM_EFORMAT,
                     "%s: not a spikemesh database (no schema version)", path);
    return sm_fail(err, SM_EVERSION,
                   "%s: database schema version %d, this spikemesh reads "
                   "version %d (and %d)",
                   path, version, TRACE_SCHEMA_VERSION, TRACE_SCHEMA_OLDEST);
  }
  return 0;
}

static uint64_t mix(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* The configuration keys db digest --data leaves out: paths (the model's
 * contents are in model_hash, the data's in the frames' labels and
 * counts, a mapping file's in the mapping rows), options that give the
 * same results by construction (every event queue, every allocation
 * schedule), the preset's names and notes, the options of other commands
 * (train.*, synth.*), the mesh asked for (auto or WxH: the mesh used is in
 * the row), and, for a run with mapping rows, the mapper's options and the
 * mapping file's digest (where every group went is in those rows, so a run
 * of `run --mapping` digests as the run whose mapping it read). */
static int neutral_key(const char *k, int mapped) {
  static const char *const keys[] = {"run.model", "run.data", "replay.source",
                                     "run.mesh_width", "run.mesh_height",
                                     "run.mapping", "sim.queue",
                                     "traffic.schedule"};
  static const char *const prefixes[] = {"preset.", "train.", "synth."};
  for (size_t i = 0; i < SM_ARRAY_LEN(keys); i++)
    if (!strcmp(k, keys[i]))
      return 1;
  for (size_t i = 0; i < SM_ARRAY_LEN(prefixes); i++)
    if (!strncmp(k, prefixes[i], strlen(prefixes[i])))
      return 1;
  return mapped && (!strcmp(k, "run.mapping_digest") || !strncmp(k, "map.", 4));
}

/* Rows of the run in the mapping table (0 in a file older than version 5,
 * which has none). */
static int64_t mapping_rows(sqlite3 *c, int64_t run_id) {
  sqlite3_stmt *st;
  int64_t n = 0;
  if (sqlite3_prepare_v2(c, "SELECT count(*) FROM mapping WHERE run_id=?", -1,
                         &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64(st, 1, run_id);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

/* The run row's columns that are not results: always run_id and the
 * timestamps; for the data digest also the paths, the kind, the program
 * version and the sweep point key (its values are in config). */
static int skip_column(const char *name, int data) {
  static const char *const always[] = {"run_id", "started_at", "ended_at"};
  static const char *const not_data[] = {"model_path", "point_key", "kind",
                                         "version"};
  for (size_t i = 0; i < SM_ARRAY_LEN(always); i++)
    if (!strcmp(name, always[i]))
      return 1;
  for (size_t i = 0; data && i < SM_ARRAY_LEN(not_data); i++)
    if (!strcmp(name, not_data[i]))
      return 1;
  return 0;
}

static int digest(const char *path, int64_t run_id, int data, uint64_t *out,
                  struct sm_err *err) {
  static const char *const q[] = {
      "SELECT * FROM runs WHERE run_id=?",
      "SELECT * FROM frames WHERE run_id=? ORDER BY frame",
      "SELECT * FROM layer_frames WHERE run_id=? ORDER BY frame, layer",
      "SELECT * FROM links WHERE run_id=? ORDER BY frame, node, dir",
      "SELECT * FROM ports WHERE run_id=? ORDER BY frame, node, port",
      "SELECT * FROM cores WHERE run_id=? ORDER BY frame, core",
      "SELECT * FROM spikes WHERE run_id=? ORDER BY rowid",
      "SELECT * FROM packets WHERE run_id=? ORDER BY rowid",
      "SELECT * FROM noc_points WHERE run_id=? ORDER BY rowid",
      "SELECT * FROM layers WHERE run_id=? ORDER BY layer",
      "SELECT * FROM mapping WHERE run_id=? ORDER BY grp"};
  const size_t t_mapping = SM_ARRAY_LEN(q) - 1;
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  uint64_t h = 1469598103934665603ull;
  int found = 0;
  /* a run without mapping rows (older files, kinds that map nothing)
   * digests as before the table existed */
  int mapped = mapping_rows(c, run_id) > 0;
  for (size_t t = 0; t < SM_ARRAY_LEN(q) && !e; t++) {
    if (t == t_mapping && !mapped)
      break;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c, q[t], -1, &st, NULL) != SQLITE_OK) {
      e = sm_fail(err, SM_EFORMAT, "%s: %s", path, sqlite3_errmsg(c));
      break;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int nc = sqlite3_column_count(st);
    h = mix(h, &t, sizeof t);
    while (sqlite3_step(st) == SQLITE_ROW) {
      found |= t == 0;
      for (int i = 0; i < nc; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (t == 0 ? skip_column(name, data) : !strcmp(name, "run_id"))
          continue;
        int type = sqlite3_column_type(st, i);
        h = mix(h, &type, sizeof type);
        if (type == SQLITE_INTEGER) {
          int64_t v = sqlite3_column_int64(st, i);
          h = mix(h, &v, sizeof v);
        } else if (type == SQLITE_FLOAT) {
          double v = sqlite3_column_double(st, i);
          h = mix(h, &v, sizeof v);
        } else if (type == SQLITE_TEXT && data && t == 0 &&
                   !strcmp(name, "config")) {
          /* the options that shape results, in key order */
          json_error_t je;
          json_t *j = json_loads((const char *)sqlite3_column_text(st, i), 0,
                                 &je);
          if (json_is_object(j)) {
            const char *k;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(j, tmp, k, v) {
              if (neutral_key(k, mapped))
                json_object_del(j, k);
            }
          }
          char *txt = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT |
                                            JSON_ENCODE_ANY)
                        : NULL;
          if (txt)
            h = mix(h, txt, strlen(txt));
          free(txt);
          json_decref(j);
        } else if (type == SQLITE_TEXT) {
          h = mix(h, sqlite3_column_text(st, i),
                  (size_t)sqlite3_column_bytes(st, i));
        }
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(c);
  if (!e && data && !found)
    e = sm_fail(err, SM_ENOENT, "%s: no run %lld", path, (long long)run_id);
  *out = h;
  return e;
}

int trace_db_digest(const char *path, int64_t run_id, uint64_t *out,
                    struct sm_err *err) {
  return digest(path, run_id, 0, out, err);
}

int trace_db_digest_data(const char *path, int64_t run_id, uint64_t *out,
                         struct sm_err *err) {
  return digest(path, run_id, 1, out, err);
}

int trace_db_quick_check(const char *path, char *msg, size_t len,
                         struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  int ok = 0;
  msg[0] = '\0';
  if (sqlite3_prepare_v2(c, "PRAGMA quick_check(5)", -1, &st, NULL) !=
      SQLITE_OK) {
    snprintf(msg, len, "%s", sqlite3_errmsg(c));
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const char *t = (const char *)sqlite3_column_text(st, 0);
      if (t && !strcmp(t, "ok")) {
        ok = 1;
        break;
      }
      /* one line per finding, without the "*** in database main ***"
       * heading of the first */
      for (const char *p = t; p && *p;) {
        size_t n = strcspn(p, "\n");
        size_t l = strlen(msg);
        if (n && strncmp(p, "*** in database", 15) && l + 3 < len)
          snprintf(msg + l, len - l, "%s%.*s", l ? "; " : "", (int)n, p);
        p += n + (p[n] == '\n');
      }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE && !msg[0])
      snprintf(msg, len, "%s", sqlite3_errmsg(c));
    sqlite3_finalize(st);
  }
  sqlite3_close(c);
  return ok;
}

int trace_db_last_run(const char *path, int64_t *run_id, struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  e = sm_fail(err, SM_ENOENT, "%s: no runs recorded", path);
  if (sqlite3_prepare_v2(c, "SELECT max(run_id) FROM runs", -1, &st, NULL) ==
      SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL) {
      *run_id = sqlite3_column_int64(st, 0);
      e = 0;
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(c);
  return e;
}

int trace_db_run_kind(const char *path, int64_t run_id, char *kind,
                      size_t len, struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  e = sm_fail(err, SM_ENOENT, "%s: no run %lld", path, (long long)run_id);
  if (sqlite3_prepare_v2(c, "SELECT kind FROM runs WHERE run_id=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      snprintf(kind, len, "%s", (const char *)sqlite3_column_text(st, 0));
      e = 0;
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(c);
  return e;
}

/* Totals of one run, from its frames. */
struct totals {
  int64_t frames, correct, decided, spikes, sops, hops, late;
  int64_t labelled; /* frames with label >= 0: accuracy is over these */
  char *config;     /* the run's configuration (owned) */
  double latency_us, e_total_uj, e_sop_uj, e_hop_uj, e_static_uj;
  char kind[16], status[16], detail[16], model[256];
  int64_t done, planned, seed;
  int found;
};

static void run_totals(sqlite3 *c, int64_t run, struct totals *t) {
  memset(t, 0, sizeof *t);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c,
                         "SELECT kind, status, coalesce(detail,''), "
                         "coalesce(model_path,''), frames_done, "
                         "frames_planned, seed, config FROM runs WHERE "
                         "run_id=?",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) == SQLITE_ROW) {
      t->found = 1;
      snprintf(t->kind, sizeof t->kind, "%s", sqlite3_column_text(st, 0));
      snprintf(t->status, sizeof t->status, "%s", sqlite3_column_text(st, 1));
      snprintf(t->detail, sizeof t->detail, "%s", sqlite3_column_text(st, 2));
      snprintf(t->model, sizeof t->model, "%s", sqlite3_column_text(st, 3));
      t->done = sqlite3_column_int64(st, 4);
      t->planned = sqlite3_column_int64(st, 5);
      t->seed = sqlite3_column_int64(st, 6);
      const char *cfg = (const char *)sqlite3_column_text(st, 7);
      t->config = sm_xstrdup(cfg ? cfg : "{}");
    }
    sqlite3_finalize(st);
  }
  if (sqlite3_prepare_v2(
          c,
          "SELECT count(*), total(label >= 0 AND label=prediction), "
          "total(prediction>=0), "
          "total(spikes), total(sops), total(hops), total(late_spikes), "
          "total(latency_ps)*1e-6, total(e_total_pj)*1e-6, "
          "total(e_sop_pj)*1e-6, total(e_hop_pj)*1e-6, "
          "total(e_static_pj)*1e-6, total(label >= 0) FROM frames WHERE "
          "run_id=?",
          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) == SQLITE_ROW) {
      int64_t *iv[] = {&t->frames, &t->correct, &t->decided, &t->spikes,
                       &t->sops,   &t->hops,    &t->late};
      for (int i = 0; i < 7; i++)
        *iv[i] = (int64_t)sqlite3_column_double(st, i);
      t->frames = sqlite3_column_int64(st, 0);
      t->latency_us = sqlite3_column_double(st, 7);
      t->e_total_uj = sqlite3_column_double(st, 8);
      t->e_sop_uj = sqlite3_column_double(st, 9);
      t->e_hop_uj = sqlite3_column_double(st, 10);
      t->e_static_uj = sqlite3_column_double(st, 11);
      t->labelled = (int64_t)sqlite3_column_double(st, 12);
    }
    sqlite3_finalize(st);
  }
}

static double per(double v, int64_t n) { return n ? v / (double)n : 0; }

/* Accuracy over the labelled frames, or "n/a" (a replay, synthetic
 * inputs: no labels). */
static void accuracy_text(const struct totals *t, char *buf, size_t len) {
  if (t->labelled)
    snprintf(buf, len, "%.2f%%", 100.0 * (double)t->correct /
                                     (double)t->labelled);
  else
    snprintf(buf, len, "n/a");
}

/* What a run's latency measures (frames.latency_ps). */
static const char *latency_means(const struct totals *t) {
  return !strcmp(t->kind, "replay") ? "first send to last delivery"
                                    : "first input spike to decision";
}

/* The configuration keys whose values differ between two runs. */
static void config_diff(const struct totals *a, const struct totals *b,
                        FILE *out) {
  json_error_t je;
  json_t *ja = json_loads(a->config ? a->config : "{}", 0, &je);
  json_t *jb = json_loads(b->config ? b->config : "{}", 0, &je);
  if (!json_is_object(ja) || !json_is_object(jb)) {
    fprintf(out, "\nconfiguration: not comparable (not JSON objects)\n");
    json_decref(ja);
    json_decref(jb);
    return;
  }
  json_t *keys = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(ja, k, v) json_object_set_new(keys, k, json_true());
  json_object_foreach(jb, k, v) json_object_set_new(keys, k, json_true());
  size_t ndiff = 0;
  /* sorted, so the listing is stable */
  const char **names = sm_xmallocarray(json_object_size(keys) + 1,
                                       sizeof *names);
  size_t n = 0;
  json_object_foreach(keys, k, v) names[n++] = k;
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *s = names[j];
      names[j] = names[j - 1];
      names[j - 1] = s;
    }
  for (size_t i = 0; i < n; i++) {
    json_t *va = json_object_get(ja, names[i]), *vb = json_object_get(jb, names[i]);
    if (va && vb && json_equal(va, vb))
      continue;
    char *sa = va ? json_dumps(va, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char *sb = vb ? json_dumps(vb, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    if (!ndiff++)
      fprintf(out, "\nconfiguration keys that differ (A -> B):\n");
    fprintf(out, "  %s: %s -> %s\n", names[i], sa ? sa : "(absent)",
            sb ? sb : "(absent)");
    free(sa);
    free(sb);
  }
  if (!ndiff)
    fprintf(out, "\nconfiguration: the same in both runs\n");
  free(names);
  json_decref(keys);
  json_decref(ja);
  json_decref(jb);
}

int trace_db_info(const char *path, FILE *out, struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  int version = TRACE_SCHEMA_VERSION;
  if (sqlite3_prepare_v2(c, "SELECT value FROM meta WHERE "
                         "key='schema_version'", -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  fprintf(out, "%s: spikemesh database, schema version %d\n", path, version);
  if (sqlite3_prepare_v2(c,
                         "SELECT run_id, started_at, coalesce(ended_at,'-') "
                         "FROM runs ORDER BY run_id",
                         -1, &st, NULL) == SQLITE_OK) {
    fprintf(out, "%4s %-7s %-12s %-8s %13s %4s %9s %9s %11s %9s %10s  %s\n",
            "run", "kind", "status", "detail", "frames", "seed", "accuracy",
            "hops/fr", "late/fr", "lat us", "uJ/frame", "started, model");
    while (sqlite3_step(st) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(st, 0);
      struct totals t;
      run_totals(c, id, &t);
      char fr[32], acc[16];
      snprintf(fr, sizeof fr, "%lld/%lld", (long long)t.done,
               (long long)t.planned);
      accuracy_text(&t, acc, sizeof acc);
      fprintf(out,
              "%4lld %-7s %-12s %-8s %13s %4lld %9s %9.1f %11.3f %9.3f "
              "%10.4f  %s %s\n",
              (long long)id, t.kind, t.status, t.detail, fr, (long long)t.seed,
              acc, per((double)t.hops, t.frames), per((double)t.late, t.frames),
              per(t.latency_us, t.frames), per(t.e_total_uj, t.frames),
              sqlite3_column_text(st, 1), t.model);
      free(t.config);
    }
    sqlite3_finalize(st);
  }
  /* who records the runs still running (version 4) */
  if (sqlite3_prepare_v2(c, "SELECT run_id, pid, host, since FROM claims "
                         "ORDER BY run_id", -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW)
      fprintf(out, "run %lld is claimed by pid %lld on host %s since %s\n",
              (long long)sqlite3_column_int64(st, 0),
              (long long)sqlite3_column_int64(st, 1),
              sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
  }
  static const char *const tables[] = {
      "runs",  "frames", "layer_frames", "layers",     "mapping",
      "links", "ports",  "cores",        "spikes", "packets", "noc_points"};
  fprintf(out, "rows:");
  for (size_t i = 0; i < SM_ARRAY_LEN(tables); i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK) {
      if (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, " %s %lld", tables[i],
                (long long)sqlite3_column_int64(st, 0));
      sqlite3_finalize(st);
    }
  }
  fputc('\n', out);
  sqlite3_close(c);
  return 0;
}

int trace_db_compare(const char *path_a, int64_t run_a, const char *path_b,
                     int64_t run_b, int max_frames, FILE *out,
                     struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path_a, &c, err);
  if (e)
    return e;
  char sql[512];
  char *qb = sqlite3_mprintf("%q", path_b);
  snprintf(sql, sizeof sql, "ATTACH '%s' AS b", qb);
  sqlite3_free(qb);
  if (sqlite3_exec(c, sql, NULL, NULL, NULL) != SQLITE_OK) {
    e = sm_fail(err, SM_EIO, "%s: cannot open database: %s", path_b,
                sqlite3_errmsg(c));
    sqlite3_close(c);
    return e;
  }
  struct totals ta, tb;
  run_totals(c, run_a, &ta);
  /* the same query on the attached database */
  sqlite3 *cb;
  e = trace__open_ro(path_b, &cb, err);
  if (e) {
    sqlite3_close(c);
    return e;
  }
  run_totals(cb, run_b, &tb);
  sqlite3_close(cb);
  if (!ta.found || !tb.found) {
    sqlite3_close(c);
    free(ta.config);
    free(tb.config);
    return sm_fail(err, SM_ENOENT, "%s: no run %lld",
                   ta.found ? path_b : path_a,
                   (long long)(ta.found ? run_b : run_a));
  }
  fprintf(out, "%-22s %16s %16s %12s\n", "", "A", "B", "B - A");
  fprintf(out, "%-22s %16s %16s\n", "run", path_a, path_b);
  fprintf(out, "%-22s %16lld %16lld\n", "run id", (long long)run_a,
          (long long)run_b);
  char ks_a[40], ks_b[40];
  snprintf(ks_a, sizeof ks_a, "%s / %s", ta.kind, ta.status);
  snprintf(ks_b, sizeof ks_b, "%s / %s", tb.kind, tb.status);
  fprintf(out, "%-22s %16s %16s\n", "kind / status", ks_a, ks_b);
#define ROW(name, a, b)                                                        \
  fprintf(out, "%-22s %16.4f %16.4f %12.4f\n", name, (double)(a), (double)(b), \
          (double)(b) - (double)(a))
  ROW("frames", ta.frames, tb.frames);
  if (ta.labelled && tb.labelled) {
    ROW("accuracy %", 100.0 * per((double)ta.correct, ta.labelled),
        100.0 * per((double)tb.correct, tb.labelled));
  } else {
    char aa[16], ab[16];
    accuracy_text(&ta, aa, sizeof aa);
    accuracy_text(&tb, ab, sizeof ab);
    fprintf(out, "%-22s %16s %16s %12s\n", "accuracy % (labelled)", aa, ab,
            "n/a");
  }
  /* a replay's frames count the packets it injected, not spikes */
  int ra = !strcmp(ta.kind, "replay"), rb = !strcmp(tb.kind, "replay");
  ROW(ra == rb ? (ra ? "packets / frame" : "spikes / frame")
               : "spikes|packets/frame",
      per((double)ta.spikes, ta.frames), per((double)tb.spikes, tb.frames));
  ROW("SOPs / frame", per((double)ta.sops, ta.frames),
      per((double)tb.sops, tb.frames));
  ROW("hops / frame", per((double)ta.hops, ta.frames),
      per((double)tb.hops, tb.frames));
  ROW("late spikes / frame", per((double)ta.late, ta.frames),
      per((double)tb.late, tb.frames));
  ROW("latency us / frame", per(ta.latency_us, ta.frames),
      per(tb.latency_us, tb.frames));
  fprintf(out, "%-22s A: %s; B: %s%s\n", "  (latency measures)",
          latency_means(&ta), latency_means(&tb),
          strcmp(latency_means(&ta), latency_means(&tb))
              ? " (different definitions: the difference means nothing)"
              : "");
  ROW("E_SOP uJ / frame", per(ta.e_sop_uj, ta.frames),
      per(tb.e_sop_uj, tb.frames));
  ROW("E_Hop uJ / frame", per(ta.e_hop_uj, ta.frames),
      per(tb.e_hop_uj, tb.frames));
  ROW("E_static uJ / frame", per(ta.e_static_uj, ta.frames),
      per(tb.e_static_uj, tb.frames));
  ROW("E_total uJ / frame", per(ta.e_total_uj, ta.frames),
      per(tb.e_total_uj, tb.frames));
#undef ROW
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          c,
          "SELECT a.frame, a.prediction, b.prediction, a.spikes, b.spikes, "
          "a.hops, b.hops, a.late_spikes, b.late_spikes, a.latency_ps, "
          "b.latency_ps FROM main.frames a JOIN b.frames b ON a.frame = "
          "b.frame WHERE a.run_id=?1 AND b.run_id=?2 AND (a.prediction IS NOT "
          "b.prediction OR a.spikes IS NOT b.spikes OR a.hops IS NOT b.hops "
          "OR a.late_spikes IS NOT b.late_spikes OR a.latency_ps IS NOT "
          "b.latency_ps) ORDER BY a.frame",
          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run_a);
    sqlite3_bind_int64(st, 2, run_b);
    int64_t ndiff = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (ndiff == 0)
        fprintf(out, "\nframes that differ (A / B):\n%6s %9s %13s %13s %11s "
                     "%19s\n",
                "frame", "pred", "spikes", "hops", "late", "latency ps");
      if (ndiff++ < max_frames)
        fprintf(out, "%6lld %4lld/%-4lld %6lld/%-6lld %6lld/%-6lld "
                     "%5lld/%-5lld %9lld/%-9lld\n",
                (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1),
                (long long)sqlite3_column_int64(st, 2),
                (long long)sqlite3_column_int64(st, 3),
                (long long)sqlite3_column_int64(st, 4),
                (long long)sqlite3_column_int64(st, 5),
                (long long)sqlite3_column_int64(st, 6),
                (long long)sqlite3_column_int64(st, 7),
                (long long)sqlite3_column_int64(st, 8),
                (long long)sqlite3_column_int64(st, 9),
                (long long)sqlite3_column_int64(st, 10));
    }
    sqlite3_finalize(st);
    fprintf(out, "%s%lld frames differ\n", ndiff ? "" : "\n",
            (long long)ndiff);
  }
  config_diff(&ta, &tb, out);
  free(ta.config);
  free(tb.config);
  sqlite3_close(c);
  return 0;
}

int trace_db_frames(const char *path, int64_t run_id,
                    struct trace_frame_row **rows, size_t *n, char **config,
                    struct sm_err *err) {
  *rows = NULL;
  *n = 0;
  if (config)
    *config = NULL;
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  if (config &&
      sqlite3_prepare_v2(c, "SELECT config FROM runs WHERE run_id=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      *config = sm_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  if (sqlite3_prepare_v2(c,
                         "SELECT frame, label, prediction, input_spikes, "
                         "spikes, sops, hops, late_spikes, t_start_ps, "
                         "latency_ps, e_sop_pj, e_hop_pj, e_static_pj, "
                         "e_total_pj FROM frames WHERE run_id=? ORDER BY frame",
                         -1, &st, NULL) != SQLITE_OK) {
    e = sm_fail(err, SM_EFORMAT, "%s: %s", path, sqlite3_errmsg(c));
    sqlite3_close(c);
    return e;
  }
  sqlite3_bind_int64(st, 1, run_id);
  size_t cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 256;
      *rows = sm_xreallocarray(*rows, cap, sizeof **rows);
    }
    struct trace_frame_row *r = &(*rows)[(*n)++];
    int64_t *v[] = {&r->frame,  &r->label, &r->prediction, &r->input_spikes,
                    &r->spikes, &r->sops,  &r->hops,       &r->late,
                    &r->t_start, &r->latency};
    for (int i = 0; i < 10; i++)
      *v[i] = sqlite3_column_int64(st, i);
    r->e_sop = sqlite3_column_double(st, 10);
    r->e_hop = sqlite3_column_double(st, 11);
    r->e_static = sqlite3_column_double(st, 12);
    r->e_total = sqlite3_column_double(st, 13);
  }
  sqlite3_finalize(st);
  sqlite3_close(c);
  if (!*n) {
    free(*rows);
    *rows = NULL;
    if (config) {
      free(*config);
      *config = NULL;
    }
    return sm_fail(err, SM_ENOENT, "%s: run %lld has no recorded frames", path,
                   (long long)run_id);
  }
  return 0;
}

/* ---- a run's spikes as a spike trace ------------------------------------ */

int trace_db_spikes(const char *path, int64_t run, struct trace_file *t,
                    struct sm_err *err) {
  sqlite3 *c;
  int e = trace__open_ro(path, &c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
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
