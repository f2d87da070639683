/*
 * check.c -- `spikemesh db check`: an audit of a recorded run that
 * recomputes every figure of the summary rows from the rows beneath them
 * and checks the invariants a complete, untampered run must hold (see
 * trace.h).
 *
 * Each check is one SQL query that returns the rows violating it, as
 * (frame, what was recorded, what it should be); the audit prints "ok" or
 * "FAIL" with how many rows broke it and the first few, and counts the
 * violations.  Checks whose rows the run's detail level does not record
 * are listed as skipped, never passed silently.
 *
 * The checks:
 *   - SQLite's integrity_check;
 *   - the run row: mesh size and model digest present (kinds with a mesh
 *     and a model), the model file, if it is still there, hashes the same;
 *   - a complete run has every frame it planned, numbered 0..n-1;
 *   - labels in -1..9 range of the data, replays and synthetic inputs
 *     unlabelled (-1), predictions -1 (none) or a class;
 *   - Eq. 12: each frame's energy terms equal its counts times the run's
 *     coefficients (energy.* of the run's configuration), and the total the
 *     sum of the terms; in chip mode E_static is (run.cores x p_core_mw +
 *     the run row's mesh routers x p_router_mw) x latency, and the
 *     configuration's run.mesh_width x run.mesh_height is the row's mesh;
 *   - at link detail, one cores row per core of the mapping (run.cores);
 *   - per frame, the layers' spikes, SOPs, late spikes and hops add up to
 *     the frame's, and layer 0's spikes are the frame's input spikes;
 *   - the cores' spikes and SOPs add up to the frame's, and the link rows'
 *     flits between routers to its hops;
 *   - spike rows per frame and layer equal the layer's spikes;
 *   - packet rows: one per delivered copy, their hops at least the
 *     frame's (unicast: equal);
 *   - every node of a row inside the recorded mesh;
 *   - the mapping rows: every neuron of every layer in exactly one group,
 *     groups numbered 0..n-1 (core = group), one per node inside the
 *     recorded mesh, within the cores' capacity, and one cores row per
 *     group each frame (link detail) agreeing with it.
 */
#include "traces/trace-int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_SHOW 3 /* violating rows printed per check */

struct audit {
  sqlite3 *c;
  const char *path;
  int64_t run;
  FILE *out;
  int64_t violations;
  enum trace_detail detail;
  char kind[16];
};

/* A check: sql returns the violating rows as (frame, got, want) -- or
 * (text naming the row, got, want) -- and takes
 * the run id as ?1.  `needs`: the detail it needs (or -1: any). */
static void check(struct audit *a, const char *what, int needs,
                  const char *sql) {
  if (needs >= 0 && a->detail < (enum trace_detail)needs) {
    fprintf(a->out, "  --    %s: not recorded at detail %s\n", what,
            trace_detail_name(a->detail));
    return;
  }
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(a->c, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(a->out, "  FAIL  %s: the query failed: %s\n", what,
            sqlite3_errmsg(a->c));
    a->violations++;
    return;
  }
  sqlite3_bind_int64(st, 1, a->run);
  int64_t n = 0;
  char first[CHECK_SHOW][160];
  while (sqlite3_step(st) == SQLITE_ROW) {
    /* the first column: a frame number, or a text naming the row */
    char where[48];
    if (sqlite3_column_type(st, 0) == SQLITE_TEXT)
      snprintf(where, sizeof where, "%s", sqlite3_column_text(st, 0));
    else
      snprintf(where, sizeof where, "frame %lld",
               (long long)sqlite3_column_int64(st, 0));
    if (n < CHECK_SHOW)
      snprintf(first[n], sizeof first[n], "%s: %s, expected %s", where,
               sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1)
                                          : "NULL",
               sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2)
                                          : "NULL");
    n++;
  }
  sqlite3_finalize(st);
  if (!n) {
    fprintf(a->out, "  ok    %s\n", what);
    return;
  }
  a->violations += n;
  fprintf(a->out, "  FAIL  %s: %lld violation%s\n", what, (long long)n,
          n == 1 ? "" : "s");
  for (int64_t i = 0; i < n && i < CHECK_SHOW; i++)
    fprintf(a->out, "          %s\n", first[i]);
  if (n > CHECK_SHOW)
    fprintf(a->out, "          (and %lld more)\n", (long long)(n - CHECK_SHOW));
}

static void fail(struct audit *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct audit *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(a->out, "  FAIL  ");
  vfprintf(a->out, fmt, ap);
  fputc('\n', a->out);
  va_end(ap);
  a->violations++;
}

/* The run row: geometry, model digest, the model file, frames planned. */
static void check_run_row(struct audit *a) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(a->c,
                         "SELECT mesh_width, mesh_height, model_path, "
                         "model_hash, status, frames_done, frames_planned, "
                         "(SELECT CASE WHEN kind = 'replay' THEN coalesce("
                         "max(frame) + 1, 0) ELSE count(*) END FROM frames "
                         "WHERE run_id=?1), "
                         "(SELECT count(*) FROM noc_points WHERE run_id=?1) "
                         "FROM runs WHERE run_id=?1",
                         -1, &st, NULL) != SQLITE_OK ||
      (sqlite3_bind_int64(st, 1, a->run), sqlite3_step(st) != SQLITE_ROW)) {
    fail(a, "run row: not readable: %s", sqlite3_errmsg(a->c));
    sqlite3_finalize(st);
    return;
  }
  int has_model = strcmp(a->kind, "noc") != 0;
  if (sqlite3_column_type(st, 0) == SQLITE_NULL ||
      sqlite3_column_int64(st, 0) < 1 || sqlite3_column_int64(st, 1) < 1)
    fail(a, "run row: no mesh size (mesh_width, mesh_height)");
  else
    fprintf(a->out, "  ok    run row: mesh %lldx%lld\n",
            (long long)sqlite3_column_int64(st, 0),
            (long long)sqlite3_column_int64(st, 1));
  const char *mpath = (const char *)sqlite3_column_text(st, 2);
  const char *mhash = (const char *)sqlite3_column_text(st, 3);
  if (has_model && strcmp(a->kind, "replay") && (!mhash || !*mhash)) {
    fail(a, "run row: no model digest (model_hash)");
  } else if (mhash && *mhash && mpath && *mpath) {
    char now[17];
    struct sm_err e = {0};
    if (sm_file_digest(mpath, now, &e))
      fprintf(a->out, "  --    model file %s: not found from here, digest "
                      "not compared\n", mpath);
    else if (strcmp(now, mhash))
      fail(a, "model file %s: digest %s, the run recorded %s (the file "
              "changed since the run)", mpath, now, mhash);
    else
      fprintf(a->out, "  ok    model file %s: digest %s as recorded\n", mpath,
              mhash);
  }
  const char *status = (const char *)sqlite3_column_text(st, 4);
  int64_t done = sqlite3_column_int64(st, 5), planned = sqlite3_column_int64(st, 6);
  int64_t rows = sqlite3_column_int64(st, 7), points = sqlite3_column_int64(st, 8);
  int64_t have = strcmp(a->kind, "noc") ? rows : points;
  /* a replay's frames keep its trace's numbers: up to the last one */
  const char *unit = !strcmp(a->kind, "noc")      ? "load points"
                     : !strcmp(a->kind, "replay") ? "frames (up to the last)"
                                                  : "frames";
  if (have != done)
    fail(a, "run row: frames_done %lld, but %lld %s recorded", (long long)done,
         (long long)have, unit);
  else if (status && !strcmp(status, "complete") && done != planned)
    fail(a, "run row: complete with %lld of %lld %s", (long long)done,
         (long long)planned, unit);
  else
    fprintf(a->out, "  ok    %lld of %lld %s recorded (%s)\n", (long long)have,
            (long long)planned, unit, status ? status : "?");
  sqlite3_finalize(st);
}

/* The energy coefficients of the run, from its configuration. */
#define CONF(k) "json_extract(r.config, '$.\"" k "\"')"
/* |a - b| beyond a relative 1e-9 (and an absolute 1e-6 pJ) */
#define DIFF(a, b) "abs((" a ") - (" b ")) > 1e-6 + 1e-9 * abs(" b ")"

static void check_frames(struct audit *a) {
  int unlabelled = !strcmp(a->kind, "replay");
  if (!unlabelled) /* a replay's frames keep its trace's numbers */
    check(a, "frames numbered 0..n-1", -1,
          "SELECT frame, frame, 'a frame number in 0..frames-1' FROM frames f "
          "WHERE run_id=?1 AND (frame < 0 OR frame >= (SELECT count(*) FROM "
          "frames WHERE run_id=?1))");
  if (unlabelled)
    check(a, "labels and predictions: a replay's frames carry none (-1)", -1,
          "SELECT frame, label || '/' || prediction, '-1/-1' FROM frames "
          "WHERE run_id=?1 AND (label != -1 OR prediction != -1)");
  else
    check(a, "labels and predictions: -1 (none) or a class of the output "
             "layer", -1,
          "SELECT f.frame, f.label || '/' || f.prediction, 'in -1..' || "
          "(SELECT max(outputs) - 1 FROM layers l WHERE l.run_id=?1 AND "
          "l.layer = (SELECT max(layer) FROM layers WHERE run_id=?1)) FROM "
          "frames f WHERE f.run_id=?1 AND (f.label < -1 OR f.prediction < -1 "
          "OR EXISTS (SELECT 1 FROM layers l WHERE l.run_id=?1 AND l.layer = "
          "(SELECT max(layer) FROM layers WHERE run_id=?1) AND (f.label >= "
          "l.outputs OR f.prediction >= l.outputs)))");
  check(a, "synthetic inputs carry no labels", -1,
        "SELECT f.frame, f.label, -1 FROM frames f JOIN runs r ON r.run_id = "
        "f.run_id WHERE f.run_id=?1 AND " CONF("run.data") " LIKE "
        "'synthetic:%' AND f.label != -1");
  check(a, "Eq. 12: E_SOP = SOPs x energy.e_sop_pj", -1,
        "SELECT f.frame, f.e_sop_pj, f.sops * " CONF("energy.e_sop_pj")
        " FROM frames f JOIN runs r ON r.run_id = f.run_id WHERE f.run_id=?1 "
        "AND " DIFF("f.e_sop_pj", "f.sops * " CONF("energy.e_sop_pj")));
  check(a, "Eq. 12: E_Hop = hops x energy.e_hop_pj", -1,
        "SELECT f.frame, f.e_hop_pj, f.hops * " CONF("energy.e_hop_pj")
        " FROM frames f JOIN runs r ON r.run_id = f.run_id WHERE f.run_id=?1 "
        "AND " DIFF("f.e_hop_pj", "f.hops * " CONF("energy.e_hop_pj")));
  /* chip mode: the cores of the configuration (run.cores) and every
   * router of the mesh the run row says it used */
#define STATIC_PJ                                                              \
  "(CASE " CONF("energy.static_mode") " WHEN 'power' THEN "                  \
  CONF("energy.p_static_mw") " * f.latency_ps * 1e-3 WHEN 'chip' THEN ("     \
  CONF("run.cores") " * " CONF("energy.p_core_mw") " + r.mesh_width * "      \
  "r.mesh_height * " CONF("energy.p_router_mw") ") * f.latency_ps * 1e-3 "   \
  "ELSE " CONF("energy.e_static_uj") " * 1e6 END)"
  check(a, "Eq. 12: E_static = energy.e_static_uj per frame, "
           "energy.p_static_mw x latency, or (chip) (run.cores x "
           "energy.p_core_mw + mesh routers x energy.p_router_mw) x latency",
        -1,
        "SELECT f.frame, f.e_static_pj, " STATIC_PJ " FROM frames f JOIN runs "
        "r ON r.run_id = f.run_id WHERE f.run_id=?1 AND "
        DIFF("f.e_static_pj", STATIC_PJ));
  check(a, "Eq. 12 (chip): the configuration names the cores used "
           "(run.cores) and the run row's mesh (run.mesh_width x "
           "run.mesh_height)",
        -1,
        "SELECT 0, coalesce(" CONF("run.cores") ", 'no run.cores') || ' on ' "
        "|| coalesce(" CONF("run.mesh_width") ", '?') || 'x' || coalesce("
        CONF("run.mesh_height") ", '?'), 'cores on ' || r.mesh_width || 'x' "
        "|| r.mesh_height FROM runs r WHERE r.run_id=?1 AND "
        CONF("energy.static_mode") " = 'chip' AND (" CONF("run.cores")
        " IS NULL OR " CONF("run.mesh_width") " IS NOT r.mesh_width OR "
        CONF("run.mesh_height") " IS NOT r.mesh_height)");
  check(a, "Eq. 12: E_total = E_SOP + E_Hop + E_static", -1,
        "SELECT frame, e_total_pj, e_sop_pj + e_hop_pj + e_static_pj FROM "
        "frames WHERE run_id=?1 AND "
        DIFF("e_total_pj", "e_sop_pj + e_hop_pj + e_static_pj"));
  check(a, "latency >= 0", -1,
        "SELECT frame, latency_ps, '>= 0' FROM frames WHERE run_id=?1 AND "
        "latency_ps < 0");
}

/* Sums of a table's rows per frame against the frame's figure. */
static void check_sum(struct audit *a, const char *what, int needs,
                      const char *table, const char *row_expr,
                      const char *where, const char *frame_col) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT f.frame, coalesce(s.v, 0), f.%s FROM frames f LEFT JOIN "
           "(SELECT frame, sum(%s) AS v FROM %s WHERE run_id=?1 %s GROUP BY "
           "frame) s ON s.frame = f.frame WHERE f.run_id=?1 AND "
           "coalesce(s.v, 0) != f.%s",
           frame_col, row_expr, table, where, frame_col);
  check(a, what, needs, sql);
}

/* 1 when the run has rows in `table` (a table of every schema read). */
static int has_rows(struct audit *a, const char *table) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE run_id=?1 LIMIT 1",
           table);
  sqlite3_stmt *st;
  int any = 0;
  if (sqlite3_prepare_v2(a->c, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, a->run);
    any = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
  }
  return any;
}

static void check_rows(struct audit *a) {
  int replay = !strcmp(a->kind, "replay");
  /* a replay of a packet trace has no layers (its packets name none): no
   * layers rows, no layer_frames rows, nothing to add up */
  if (replay && !has_rows(a, "layers"))
    fprintf(a->out, "  --    layers' spikes, late spikes and hops: a packet "
                    "trace's replay has no layers\n");
  else {
    check_sum(a, "layers' spikes add up to the frame's", TRACE_LAYER,
              "layer_frames", "spikes", "", "spikes");
    if (!replay)
      check_sum(a, "layers' SOPs add up to the frame's", TRACE_LAYER,
                "layer_frames", "sops", "", "sops");
    check_sum(a, "layers' late spikes add up to the frame's", TRACE_LAYER,
              "layer_frames", "late_spikes", "", "late_spikes");
    check_sum(a, "layers' hops add up to the frame's", TRACE_LAYER,
              "layer_frames", "hops", "", "hops");
    check_sum(a, "layer 0's spikes are the frame's input spikes", TRACE_LAYER,
              "layer_frames", "spikes", "AND layer = 0", "input_spikes");
  }
  check(a, "layers: fired <= neurons, spikes <= outputs", TRACE_LAYER,
        "SELECT f.frame, f.fired || '/' || f.spikes, '<= ' || f.neurons || "
        "'/' || l.outputs FROM layer_frames f JOIN layers l ON l.run_id = "
        "f.run_id AND l.layer = f.layer WHERE f.run_id=?1 AND (f.fired > "
        "f.neurons OR f.spikes > l.outputs OR f.neurons != l.neurons)");
  check_sum(a, "links: flits between routers add up to the frame's hops",
            TRACE_LINK, "links", "flits", "AND dir != 4", "hops");
  if (!replay) {
    check(a, "cores rows: one per core the mapping uses (run.cores)",
          TRACE_LINK,
          "SELECT f.frame, coalesce(c.n, 0) || ' cores', " CONF("run.cores")
          " FROM frames f JOIN runs r ON r.run_id = f.run_id LEFT JOIN (SELECT "
          "frame, count(*) AS n FROM cores WHERE run_id=?1 GROUP BY frame) c "
          "ON c.frame = f.frame WHERE f.run_id=?1 AND " CONF("run.cores")
          " IS NOT NULL AND coalesce(c.n, 0) != " CONF("run.cores"));
    check_sum(a, "cores' spikes add up to the frame's", TRACE_LINK, "cores",
              "spikes", "", "spikes");
    check_sum(a, "cores' SOPs add up to the frame's", TRACE_LINK, "cores",
              "sops", "", "sops");
    check(a, "spike rows per frame and layer equal the layer's spikes",
          TRACE_SPIKE,
          "SELECT l.frame, coalesce(s.n, 0) || ' rows of layer ' || l.layer, "
          "l.spikes FROM layer_frames l LEFT JOIN (SELECT frame, layer, "
          "count(*) AS n FROM spikes WHERE run_id=?1 GROUP BY frame, layer) "
          "s ON s.frame = l.frame AND s.layer = l.layer WHERE l.run_id=?1 "
          "AND coalesce(s.n, 0) != l.spikes");
  }
  /* every copy's path: with tree multicast copies share links, so their
   * sum is at least the frame's hops; with unicast, equal */
  check(a, "packet rows: their hops are the frame's (unicast) or at least "
           "its hops (tree multicast)",
        TRACE_PACKET,
        "SELECT f.frame, coalesce(p.v, 0), f.hops FROM frames f JOIN runs r "
        "ON r.run_id = f.run_id LEFT JOIN (SELECT frame, sum(hops) AS v FROM "
        "packets WHERE run_id=?1 GROUP BY frame) p ON p.frame = f.frame "
        "WHERE f.run_id=?1 AND (CASE " CONF("noc.multicast") " WHEN 'tree' "
        "THEN coalesce(p.v, 0) < f.hops ELSE coalesce(p.v, 0) != f.hops END)");
  check(a, "nodes of every row inside the recorded mesh", -1,
        "SELECT frame, 'node ' || node, 'below ' || (SELECT mesh_width * "
        "mesh_height FROM runs WHERE run_id=?1) FROM (SELECT frame, node "
        "FROM links WHERE run_id=?1 UNION ALL SELECT frame, node FROM ports "
        "WHERE run_id=?1 UNION ALL SELECT frame, node FROM cores WHERE "
        "run_id=?1 UNION ALL SELECT frame, src FROM packets WHERE run_id=?1 "
        "UNION ALL SELECT frame, dst FROM packets WHERE run_id=?1) WHERE "
        "node >= (SELECT mesh_width * mesh_height FROM runs WHERE run_id=?1)");
}

/* 1 when the file has table `name` (the mapping table is version 5's). */
static int has_table(sqlite3 *c, const char *name) {
  sqlite3_stmt *st;
  int found = 0;
  if (sqlite3_prepare_v2(c, "SELECT 1 FROM sqlite_master WHERE type='table' "
                         "AND name=?", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
  }
  return found;
}

/* The mapping rows (once per run): each layer's neurons covered exactly
 * once by its groups (ranges inside the layer's shape, their sizes adding
 * up to its neurons, no two overlapping), groups numbered 0..n-1 on core
 * = group, one per node, inside the recorded mesh, within the cores'
 * capacity, and (link detail) one cores row per group each frame, agreeing
 * with it. */
static void check_mapping(struct audit *a) {
  if (!has_table(a->c, "mapping")) {
    fprintf(a->out, "  --    mapping: not in this file (schema version 4 "
                    "or older)\n");
    return;
  }
  /* a packet-trace replay records no mapping rows (it has no cores); a
   * spike-trace replay records the mapping it replayed through, but no
   * cores rows (its spikes are given, not computed) */
  sqlite3_stmt *st;
  int64_t rows = 0;
  if (sqlite3_prepare_v2(a->c, "SELECT count(*) FROM mapping WHERE run_id=?1",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, a->run);
    if (sqlite3_step(st) == SQLITE_ROW)
      rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  if (!rows && !strcmp(a->kind, "replay"))
    return;
  check(a, "mapping: groups numbered 0..n-1, core = group", -1,
        "SELECT 'group ' || grp, 'core ' || core || ' of ' || (SELECT "
        "count(*) FROM mapping WHERE run_id=?1) || ' groups', 'core ' || grp "
        "|| ', groups 0..n-1' FROM mapping WHERE run_id=?1 AND (core IS NOT "
        "grp OR grp < 0 OR grp >= (SELECT count(*) FROM mapping WHERE "
        "run_id=?1))");
  check(a, "mapping: every layer has groups, every group a layer", -1,
        "SELECT 'layer ' || l.layer, 'no group', 'at least one' FROM layers "
        "l WHERE l.run_id=?1 AND NOT EXISTS (SELECT 1 FROM mapping m WHERE "
        "m.run_id=?1 AND m.layer = l.layer) UNION ALL SELECT 'group ' || "
        "m.grp, 'layer ' || m.layer, 'a layer of the layers table' FROM "
        "mapping m WHERE m.run_id=?1 AND NOT EXISTS (SELECT 1 FROM layers l "
        "WHERE l.run_id=?1 AND l.layer = m.layer)");
  check(a, "mapping: ranges inside the layer's shape, neurons = their "
           "product",
        -1,
        "SELECT 'group ' || m.grp, 'channels [' || m.c0 || ', ' || m.c1 || "
        "'), rows [' || m.y0 || ', ' || m.y1 || '), cols [' || m.x0 || ', ' "
        "|| m.x1 || '), ' || m.neurons || ' neurons', 'non-empty ranges "
        "within ' || l.channels || 'x' || l.height || 'x' || l.width || ', "
        "neurons their product' FROM mapping m JOIN layers l ON l.run_id = "
        "m.run_id AND l.layer = m.layer WHERE m.run_id=?1 AND NOT (0 <= m.c0 "
        "AND m.c0 < m.c1 AND m.c1 <= l.channels AND 0 <= m.y0 AND m.y0 < "
        "m.y1 AND m.y1 <= l.height AND 0 <= m.x0 AND m.x0 < m.x1 AND m.x1 <= "
        "l.width AND m.neurons = (m.c1 - m.c0) * (m.y1 - m.y0) * (m.x1 - "
        "m.x0))");
  check(a, "mapping: every neuron of every layer in exactly one group", -1,
        "SELECT 'layer ' || l.layer, coalesce(sum((m.c1 - m.c0) * (m.y1 - "
        "m.y0) * (m.x1 - m.x0)), 0) || ' neurons in its groups', l.neurons "
        "FROM layers l LEFT JOIN mapping m ON m.run_id = l.run_id AND "
        "m.layer = l.layer WHERE l.run_id=?1 GROUP BY l.layer HAVING "
        "coalesce(sum((m.c1 - m.c0) * (m.y1 - m.y0) * (m.x1 - m.x0)), 0) != "
        "l.neurons UNION ALL SELECT 'groups ' || p.grp || ' and ' || q.grp, "
        "'overlap in layer ' || p.layer, 'disjoint ranges' FROM mapping p "
        "JOIN mapping q ON q.run_id = p.run_id AND q.layer = p.layer AND "
        "q.grp > p.grp WHERE p.run_id=?1 AND p.c0 < q.c1 AND q.c0 < p.c1 AND "
        "p.y0 < q.y1 AND q.y0 < p.y1 AND p.x0 < q.x1 AND q.x0 < p.x1");
  check(a, "mapping: nodes inside the recorded mesh, (x, y) = their "
           "position, one group per node",
        -1,
        "SELECT 'group ' || m.grp, 'node ' || m.node || ' at (' || m.x || "
        "', ' || m.y || ')', 'a node below ' || r.mesh_width * r.mesh_height "
        "|| ' at (node % ' || r.mesh_width || ', node / ' || r.mesh_width || "
        "')' FROM mapping m JOIN runs r ON r.run_id = m.run_id WHERE "
        "m.run_id=?1 AND (r.mesh_width IS NULL OR m.node < 0 OR m.node >= "
        "r.mesh_width * r.mesh_height OR m.x != m.node % r.mesh_width OR m.y "
        "!= m.node / r.mesh_width) UNION ALL SELECT 'node ' || node, "
        "count(*) || ' groups', '1' FROM mapping WHERE run_id=?1 GROUP BY "
        "node HAVING count(*) > 1");
  check(a, "mapping: groups within core.neurons_per_core and "
           "core.sram_bytes",
        -1,
        "SELECT 'group ' || m.grp, m.neurons || ' neurons, ' || m.sram_bytes "
        "|| ' bytes', 'at most ' || " CONF("core.neurons_per_core") " || ', "
        "' || " CONF("core.sram_bytes") " FROM mapping m JOIN runs r ON "
        "r.run_id = m.run_id WHERE m.run_id=?1 AND (m.neurons > "
        CONF("core.neurons_per_core") " OR m.sram_bytes > "
        CONF("core.sram_bytes") " OR m.sram_bytes < 0)");
  if (!strcmp(a->kind, "replay"))
    return;
  check(a, "cores rows: one per group each frame, as the mapping placed it",
        TRACE_LINK,
        "SELECT f.frame, coalesce(c.n, 0) || ' cores rows', (SELECT count(*) "
        "FROM mapping WHERE run_id=?1) || ', one per group' FROM frames f "
        "LEFT JOIN (SELECT frame, count(*) AS n FROM cores WHERE run_id=?1 "
        "GROUP BY frame) c ON c.frame = f.frame WHERE f.run_id=?1 AND "
        "coalesce(c.n, 0) != (SELECT count(*) FROM mapping WHERE run_id=?1) "
        "UNION ALL SELECT c.frame, 'core ' || c.core || ': node ' || c.node "
        "|| ', layer ' || c.layer || ', ' || c.neurons || ' neurons', "
        "coalesce('node ' || m.node || ', layer ' || m.layer || ', ' || "
        "m.neurons || ' neurons', 'no such group') FROM cores c LEFT JOIN "
        "mapping m ON m.run_id = c.run_id AND m.core = c.core WHERE "
        "c.run_id=?1 AND (m.core IS NULL OR m.node != c.node OR m.layer != "
        "c.layer OR m.neurons != c.neurons)");
}

static void audit_run(struct audit *a) {
  sqlite3_stmt *st;
  char detail[16] = "", status[16] = "";
  if (sqlite3_prepare_v2(a->c,
                         "SELECT kind, coalesce(detail, ''), status FROM runs "
                         "WHERE run_id=?1",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, a->run);
    if (sqlite3_step(st) == SQLITE_ROW) {
      snprintf(a->kind, sizeof a->kind, "%s", sqlite3_column_text(st, 0));
      snprintf(detail, sizeof detail, "%s", sqlite3_column_text(st, 1));
      snprintf(status, sizeof status, "%s", sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
  }
  if (trace_detail_parse(detail, &a->detail))
    a->detail = TRACE_SUMMARY;
  fprintf(a->out, "run %lld (%s, %s, detail %s):\n", (long long)a->run,
          a->kind, status, detail);
  check_run_row(a);
  if (!strcmp(a->kind, "noc"))
    return; /* load points, no frames */
  check_frames(a);
  check_rows(a);
  check_mapping(a);
}

int trace_db_check(const char *path, int64_t run_id, FILE *out,
                   int64_t *violations, struct sm_err *err) {
  struct audit a = {.path = path, .out = out};
  int e = trace__open_ro(path, &a.c, err);
  if (e)
    return e;
  sqlite3_stmt *st;
  fprintf(out, "%s:\n", path);
  if (sqlite3_prepare_v2(a.c, "PRAGMA integrity_check", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW &&
      !strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
    fprintf(out, "  ok    SQLite integrity_check\n");
  else
    fail(&a, "SQLite integrity_check: %s",
         sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                    : sqlite3_errmsg(a.c));
  sqlite3_finalize(st);
  int64_t nruns = 0;
  if (sqlite3_prepare_v2(a.c,
                         "SELECT run_id FROM runs WHERE ?1 <= 0 OR run_id = "
                         "?1 ORDER BY run_id",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, run_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      a.run = sqlite3_column_int64(st, 0);
      audit_run(&a);
      nruns++;
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(a.c);
  if (!nruns && run_id > 0)
    return sm_fail(err, SM_ENOENT, "%s: no run %lld", path,
                   (long long)run_id);
  fprintf(out, "%lld violation%s in %lld run%s\n", (long long)a.violations,
          a.violations == 1 ? "" : "s", (long long)nruns, nruns == 1 ? "" : "s");
  *violations = a.violations;
  return 0;
}
