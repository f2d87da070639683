/*
 * check_sweep.c -- `spikemesh sweep` (cli/sweep.c): grid files expand into
 * the right points with the right options; bad grid files are refused with
 * the file, the key and what was expected; a 2x2 sweep runs its points in
 * parallel into four complete runs and a re-run skips them all; the
 * database is the same for any number of jobs; an unfinished point is
 * resumed to the digest of an uninterrupted one.
 *
 * The sweeps run a small model (8x8 input, 4 cores) over a small data set
 * written here as IDX files, so the test needs no downloaded data.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "sim/sim.h"
#include "trainer/train.h"
#include "tests/testmodel.h"

#define NFRAMES 120

static char tmp[256];
static char model_path[300], data_dir[300];


static void put_be32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  ck_assert(fwrite(b, 1, 4, f) == 4);
}

/* A temporary directory with the model and an IDX test set of NFRAMES
 * 8x8 images (labels 0..4). */
static void setup(void) {
  snprintf(tmp, sizeof tmp, "/tmp/check_sweep.XXXXXX");
  ck_assert(mkdtemp(tmp));
  snprintf(model_path, sizeof model_path, "%s/m.json", tmp);
  snprintf(data_dir, sizeof data_dir, "%s", tmp);
  struct model *m = test_small_model(7);
  struct sm_err err = {0};
  ck_assert_msg(model_save(m, model_path, &err) == 0, "%s", err.msg);
  model_free(m);
  char p[400];
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", tmp);
  FILE *f = fopen(p, "wb");
  ck_assert(f);
  put_be32(f, 0x00000803);
  put_be32(f, NFRAMES);
  put_be32(f, 8);
  put_be32(f, 8);
  struct sim_rng r;
  sim_rng_init(&r, 3, 0);
  for (int i = 0; i < NFRAMES * 64; i++)
    fputc((int)sim_rng_below(&r, 256), f);
  fclose(f);
  snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", tmp);
  f = fopen(p, "wb");
  ck_assert(f);
  put_be32(f, 0x00000801);
  put_be32(f, NFRAMES);
  for (int i = 0; i < NFRAMES; i++)
    fputc(i % 5, f);
  fclose(f);
}

static void teardown(void) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  ck_assert(system(cmd) == 0);
}

static struct run_sweep_defaults defaults(void) {
  struct run_sweep_defaults d = {.model = model_path,
                                 .data = data_dir,
                                 .arch = MODEL_DEFAULT_PRESET,
                                 .frames = 0};
  return d;
}

static struct run_sweep *parse(const char *text, struct sm_err *err) {
  struct run_sweep_defaults d = defaults();
  struct run_sweep *s = NULL;
  int rc = run_sweep_parse(text, strlen(text), "g.json", &d, &s, err);
  ck_assert(rc == 0 ? s != NULL : s == NULL);
  return s;
}

static int64_t count(const char *db, const char *sql) {
  sqlite3 *c;
  ck_assert(sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
  sqlite3_stmt *st;
  ck_assert_msg(sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK, "%s",
                sqlite3_errmsg(c));
  ck_assert(sqlite3_step(st) == SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(c);
  return v;
}

static void exec_sql(const char *db, const char *sql) {
  sqlite3 *c;
  ck_assert(sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
  char *msg = NULL;
  ck_assert_msg(sqlite3_exec(c, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
  sqlite3_close(c);
}

static const char grid2x2[] =
    "{\"frames\": 40, \"base\": {\"core.steps_per_window\": 8},"
    " \"grid\": {\"noc.buffer_depth\": [1, 4],"
    "            \"noc.multicast\": [\"unicast\", \"tree\"]}}";

static int run_sweep(struct run_sweep *s, const char *db, unsigned jobs,
                     struct sm_err *err) {
  struct run_sweep_opts opt = {.db = db, .jobs = jobs, .detail = TRACE_LINK};
  return run_sweep_run(s, &opt, err);
}

/* After its first frame, a worker waits (up to 10 s) until a second one
 * has done its first frame too: on a loaded machine a short point could
 * otherwise end before the pool's second thread is scheduled at all. */
static atomic_int arrived;
static void meet(void *ctx, size_t point, int64_t frame) {
  (void)ctx;
  (void)point;
  if (frame)
    return;
  atomic_fetch_add(&arrived, 1);
  for (int i = 0; i < 10000 && atomic_load(&arrived) < 2; i++)
    usleep(1000);
}

START_TEST(test_grid_expands_last_axis_fastest_after_base_and_preset) {
  struct sm_err err = {0};
  struct run_sweep *s = parse(
      "{\"model\": \"x.json\", \"frames\": 30,"
      " \"base\": {\"core.steps_per_window\": 12, \"noc.t_link\": 500},"
      " \"grid\": {\"noc.buffer_depth\": [2, 4], \"mesh\": [\"3x3\", "
      "\"auto\", \"4x2\"]},"
      " \"points\": [{\"run.arch\": \"manycore-14nm\", \"noc.t_link\": 7,"
      " \"run.frames\": 5}]}",
      &err);
  ck_assert_msg(s, "%s", err.msg);
  ck_assert_uint_eq(s->npoints, 7);
  static const uint64_t depth[] = {2, 2, 2, 4, 4, 4};
  static const uint32_t w[] = {3, 0, 4, 3, 0, 4}, h[] = {3, 0, 2, 3, 0, 2};
  for (int i = 0; i < 6; i++) {
    const struct run_sweep_point *p = &s->points[i];
    ck_assert_uint_eq(p->o.noc.buffer_depth, depth[i]);
    ck_assert_uint_eq(p->mesh_w, w[i]);
    ck_assert_uint_eq(p->mesh_h, h[i]);
    ck_assert_uint_eq(p->o.core.steps_per_window, 12);
    ck_assert_uint_eq(p->o.noc.t_link, 500);
    ck_assert_uint_eq(p->frames, 30);
    ck_assert_str_eq(p->model, "x.json");
    ck_assert_str_eq(p->data, data_dir);
    /* the preset applies before the base: its E_SOP is there */
    ck_assert_double_eq(p->o.energy.e_sop_pj, 20);
  }
  ck_assert_str_eq(s->points[1].label, "noc.buffer_depth=2 run.mesh=auto");
  /* the key: sorted, every run key filled in */
  ck_assert_msg(strstr(s->points[0].key, "\"core.steps_per_window\":12,"
                                         "\"noc.buffer_depth\":2,"
                                         "\"noc.t_link\":500,"
                                         "\"run.arch\":\"paper-22nm\","),
                "%s", s->points[0].key);
  ck_assert_ptr_nonnull(strstr(s->points[0].key, "\"run.mesh\":\"3x3\""));
  /* the explicit point: its own preset, its value over the base */
  const struct run_sweep_point *p = &s->points[6];
  ck_assert_double_eq(p->o.energy.e_sop_pj, 23.6);
  ck_assert_uint_eq(p->o.noc.t_link, 7);
  ck_assert_uint_eq(p->frames, 5);
  ck_assert_uint_eq(p->o.core.steps_per_window, 12);
  /* --frames replaces every point's frames, and so its key */
  char *k0 = sm_xstrdup(s->points[6].key);
  run_sweep_set_frames(s, 9);
  ck_assert_uint_eq(s->points[6].frames, 9);
  ck_assert_ptr_nonnull(strstr(s->points[6].key, "\"run.frames\":9"));
  ck_assert_str_ne(k0, s->points[6].key);
  free(k0);
  run_sweep_free(s);
}
END_TEST

START_TEST(test_bad_grid_files_name_the_file_the_key_and_what_was_expected) {
  static const struct {
    const char *text;
    int code;
    const char *want[3];
  } cases[] = {
      {"{\"grid\": {\"noc.bufer_depth\": [2]}}", SM_ENOKEY,
       {"g.json", "unknown key 'noc.bufer_depth'", "noc.buffer_depth"}},
      {"{\"grid\": {\"noc.buffer_depth\": []}}", SM_EINVAL,
       {"g.json", "'noc.buffer_depth'", "empty list; expected at least one"}},
      {"{\"grid\": {\"noc.buffer_depth\": [2, \"four\"]}}", SM_ETYPE,
       {"g.json: grid: value 2 of 2", "'noc.buffer_depth'", "expected"}},
      {"{\"grid\": {\"noc.buffer_depth\": 4}}", SM_ETYPE,
       {"g.json", "'noc.buffer_depth'", "expected a list of values"}},
      {"{\"grid\": {\"noc.buffer_depth\": [0]}}", SM_ERANGE,
       {"g.json", "'noc.buffer_depth'", "[1, 4096]"}},
      {"{\"grid\": {\"noc.multicast\": [\"broadcast\"]}}", SM_EINVAL,
       {"g.json", "'noc.multicast'", "unicast,tree"}},
      {"{\"grid\": {\"mesh\": [\"2x2\", \"2by2\"]}}", SM_EINVAL,
       {"g.json", "'mesh'", "\"WxH\""}},
      {"{\"grid\": {\"run.frames\": [0]}}", SM_ETYPE,
       {"g.json", "'run.frames'", "integer >= 1"}},
      {"{\"grid\": {\"run.model\": [3]}}", SM_ETYPE,
       {"g.json", "'run.model'", "non-empty string"}},
      {"{\"base\": {\"core.steps_per_window\": 1.5}, \"grid\": {\"mesh\": "
       "[\"auto\"]}}",
       SM_ETYPE, {"g.json: base", "'core.steps_per_window'", "expected"}},
      {"{\"points\": [{\"noc\": {\"buffer_depth\": 2}}]}", SM_ETYPE,
       {"g.json: points[0]", "'noc'", "flat dotted key"}},
      {"{\"points\": [{\"noc.buffer_depth\": 2}, {\"noc.buffer_depth\": 2}]}",
       SM_EINVAL, {"g.json", "points 1 and 2", "same point"}},
      {"{\"points\": []}", SM_ETYPE, {"g.json", "\"points\"", "non-empty list"}},
      {"{\"grid\": {}}", SM_ETYPE, {"g.json", "\"grid\"", "non-empty object"}},
      {"{\"frames\": 10}", SM_EINVAL, {"g.json", "no \"grid\"", "expected"}},
      {"{\"gird\": {\"mesh\": [\"auto\"]}}", SM_ENOKEY,
       {"g.json", "'gird'", "expected base, grid, points"}},
      {"{\"grid\": {\"mesh\": [\"2x2\"], \"run.mesh\": [\"3x3\"]}}", SM_EINVAL,
       {"g.json", "'run.mesh' given twice", "'mesh' and 'run.mesh'"}},
      {"{\"grid\": {\"run.arch\": [\"no-such-preset\"]}}", SM_ENOENT,
       {"g.json: point 1", "no-such-preset", "not found"}},
      {"[1, 2]", SM_ETYPE, {"g.json", "JSON object", "\"grid\""}},
      {"{\"grid\": ", SM_EFORMAT, {"g.json:1:", "invalid JSON", ""}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sm_err err = {0};
    struct run_sweep *s = parse(cases[i].text, &err);
    ck_assert_msg(!s, "case %zu accepted: %s", i, cases[i].text);
    ck_assert_msg(err.code == cases[i].code, "case %zu: code %d, want %d: %s",
                  i, err.code, cases[i].code, err.msg);
    for (int k = 0; k < 3; k++)
      ck_assert_msg(strstr(err.msg, cases[i].want[k]),
                    "case %zu: '%s' not in: %s", i, cases[i].want[k], err.msg);
  }
}
END_TEST

START_TEST(test_two_by_two_sweep_runs_in_parallel_fills_four_runs_and_rerun_skips_them) {
  struct sm_err err = {0};
  char db[400];
  snprintf(db, sizeof db, "%s/s.db", tmp);
  struct run_sweep *s = parse(grid2x2, &err);
  ck_assert_msg(s, "%s", err.msg);
  ck_assert_uint_eq(s->npoints, 4);
  atomic_init(&arrived, 0);
  struct run_sweep_opts opt = {.db = db, .jobs = 2, .detail = TRACE_LINK,
                               .frame_hook = meet};
  ck_assert_msg(run_sweep_run(s, &opt, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(s->points[i].state, RUN_SWEEP_DONE);
    ck_assert_int_eq(s->points[i].st.frames, 40);
    ck_assert(s->points[i].st.peak_util > 0);
    ck_assert(s->points[i].secs > 0);
  }
  /* two workers simulated at the same time (the most workers ever inside
   * a point's simulation at once; meet() makes the first two overlap) */
  ck_assert_uint_eq(s->peak_workers, 2);
  ck_assert(s->sum_s > 0 && s->wall_s > 0);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM runs WHERE kind='sweep' "
                             "AND status='complete' AND frames_done=40 AND "
                             "point_key IS NOT NULL"),
                   4);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM frames"), 160);
  ck_assert_int_eq(count(db, "SELECT count(DISTINCT point_key) FROM runs"), 4);
  run_sweep_free(s);
  /* the same grid again: every point is complete, nothing runs */
  s = parse(grid2x2, &err);
  ck_assert_msg(run_sweep(s, db, 2, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(s->points[i].state, RUN_SWEEP_SKIPPED);
    ck_assert_int_eq(s->points[i].st.frames, 40); /* read back */
  }
  ck_assert_uint_eq(s->peak_workers, 0);
  ck_assert(s->sum_s == 0);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM runs"), 4);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM frames"), 160);
  run_sweep_free(s);
}
END_TEST

START_TEST(test_the_database_is_the_same_for_any_number_of_jobs) {
  struct sm_err err = {0};
  char db1[400], db2[400];
  snprintf(db1, sizeof db1, "%s/j1.db", tmp);
  snprintf(db2, sizeof db2, "%s/j2.db", tmp);
  struct run_sweep *a = parse(grid2x2, &err), *b = parse(grid2x2, &err);
  ck_assert_msg(run_sweep(a, db1, 1, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(a->peak_workers, 1);
  ck_assert_msg(run_sweep(b, db2, 2, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < 4; i++) {
    uint64_t ha, hb;
    ck_assert(trace_db_digest(db1, a->points[i].run_id, &ha, &err) == 0);
    ck_assert(trace_db_digest(db2, b->points[i].run_id, &hb, &err) == 0);
    ck_assert_msg(ha == hb, "point %zu: digest %016llx vs %016llx", i,
                  (unsigned long long)ha, (unsigned long long)hb);
    ck_assert_double_eq(a->points[i].st.e_total_uj, b->points[i].st.e_total_uj);
    ck_assert_int_eq(a->points[i].pareto, b->points[i].pareto);
  }
  /* the Pareto flags against the definition, point by point: on the front
   * when no other point is at least as good in energy, latency and
   * accuracy and better in one */
  size_t on = 0;
  for (size_t i = 0; i < 4; i++) {
    const struct trace_run_stats *p = &a->points[i].st;
    int dominated = 0;
    for (size_t k = 0; k < 4; k++) {
      const struct trace_run_stats *q = &a->points[k].st;
      dominated |= k != i && q->e_total_uj <= p->e_total_uj &&
                   q->latency_us <= p->latency_us &&
                   q->accuracy >= p->accuracy &&
                   (q->e_total_uj < p->e_total_uj ||
                    q->latency_us < p->latency_us || q->accuracy > p->accuracy);
    }
    ck_assert_int_eq(a->points[i].pareto, !dominated);
    on += a->points[i].pareto;
  }
  ck_assert_uint_ge(on, 1);
  /* both databases pass the audit */
  FILE *null = fopen("/dev/null", "w");
  int64_t v = -1;
  ck_assert_msg(trace_db_check(db1, 0, null, &v, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(v, 0);
  ck_assert_msg(trace_db_check(db2, 0, null, &v, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(v, 0);
  fclose(null);
  /* the points differ (buffer depth and multicast matter on this model) */
  uint64_t h0, h3;
  ck_assert(trace_db_digest(db1, a->points[0].run_id, &h0, &err) == 0);
  ck_assert(trace_db_digest(db1, a->points[3].run_id, &h3, &err) == 0);
  ck_assert(h0 != h3);
  run_sweep_free(a);
  run_sweep_free(b);
}
END_TEST

START_TEST(test_an_unfinished_point_resumes_to_the_digest_of_an_uninterrupted_one) {
  struct sm_err err = {0};
  char ref[400], db[400], sql[600];
  snprintf(ref, sizeof ref, "%s/ref.db", tmp);
  snprintf(db, sizeof db, "%s/cut.db", tmp);
  struct run_sweep *a = parse(grid2x2, &err), *b = parse(grid2x2, &err);
  ck_assert_msg(run_sweep(a, ref, 2, &err) == 0, "%s", err.msg);
  ck_assert_msg(run_sweep(b, db, 2, &err) == 0, "%s", err.msg);
  /* point 3 as a killed sweep leaves it: 17 whole frames, 'running' */
  int64_t run = b->points[2].run_id;
  snprintf(sql, sizeof sql,
           "DELETE FROM frames WHERE run_id=%1$lld AND frame>=17;"
           "DELETE FROM layer_frames WHERE run_id=%1$lld AND frame>=17;"
           "DELETE FROM links WHERE run_id=%1$lld AND frame>=17;"
           "DELETE FROM ports WHERE run_id=%1$lld AND frame>=17;"
           "DELETE FROM cores WHERE run_id=%1$lld AND frame>=17;"
           "UPDATE runs SET status='running', frames_done=17, ended_at=NULL "
           "WHERE run_id=%1$lld;",
           (long long)run);
  exec_sql(db, sql);
  run_sweep_free(b);
  b = parse(grid2x2, &err);
  ck_assert_msg(run_sweep(b, db, 2, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < 4; i++)
    ck_assert_int_eq(b->points[i].state,
                     i == 2 ? RUN_SWEEP_DONE : RUN_SWEEP_SKIPPED);
  ck_assert_int_eq(b->points[2].first_frame, 17);
  ck_assert_int_eq(b->points[2].run_id, run);
  uint64_t ha, hb;
  ck_assert(trace_db_digest(ref, a->points[2].run_id, &ha, &err) == 0);
  ck_assert(trace_db_digest(db, run, &hb, &err) == 0);
  ck_assert_msg(ha == hb, "resumed %016llx, uninterrupted %016llx",
                (unsigned long long)hb, (unsigned long long)ha);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM runs"), 4);
  run_sweep_free(a);
  run_sweep_free(b);
}
END_TEST

START_TEST(test_bad_inputs_found_before_anything_runs) {
  struct sm_err err = {0};
  char db[400], text[800];
  snprintf(db, sizeof db, "%s/bad.db", tmp);
  /* a mesh too small for the model (4 cores): refused with the point */
  struct run_sweep *s =
      parse("{\"grid\": {\"mesh\": [\"2x2\", \"3x1\"]}, \"frames\": 5}", &err);
  ck_assert_msg(s, "%s", err.msg);
  ck_assert_int_eq(run_sweep(s, db, 2, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "g.json: point 2 (run.mesh=3x1)") &&
                    strstr(err.msg, "short by"),
                "%s", err.msg);
  ck_assert_int_eq(s->points[0].state, RUN_SWEEP_PENDING);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM runs"), 0);
  run_sweep_free(s);
  /* a missing model file */
  snprintf(text, sizeof text, "{\"grid\": {\"model\": [\"%s/none.json\"]}}",
           tmp);
  s = parse(text, &err);
  ck_assert_msg(s, "%s", err.msg);
  ck_assert(run_sweep(s, db, 2, &err) != 0);
  ck_assert_msg(strstr(err.msg, "none.json"), "%s", err.msg);
  run_sweep_free(s);
  /* a point recorded with another configuration under the same key */
  s = parse("{\"grid\": {\"noc.buffer_depth\": [3]}, \"frames\": 5}", &err);
  ck_assert_msg(run_sweep(s, db, 1, &err) == 0, "%s", err.msg);
  exec_sql(db, "UPDATE runs SET config='{}'");
  run_sweep_free(s);
  s = parse("{\"grid\": {\"noc.buffer_depth\": [3]}, \"frames\": 5}", &err);
  ck_assert_int_eq(run_sweep(s, db, 1, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "bad.db: run 1") &&
                    strstr(err.msg, "another configuration"),
                "%s", err.msg);
  run_sweep_free(s);
}
END_TEST

START_TEST(test_a_stop_flag_set_before_the_start_runs_nothing) {
  struct sm_err err = {0};
  char db[400];
  snprintf(db, sizeof db, "%s/stop.db", tmp);
  struct run_sweep *s = parse(grid2x2, &err);
  atomic_int stop;
  atomic_init(&stop, 1);
  struct run_sweep_opts opt = {.db = db, .jobs = 2, .detail = TRACE_SUMMARY,
                               .stop = &stop};
  ck_assert_int_eq(run_sweep_run(s, &opt, &err), SM_EINTR);
  ck_assert_msg(strstr(err.msg, "again to resume"), "%s", err.msg);
  for (size_t i = 0; i < 4; i++)
    ck_assert_int_eq(s->points[i].state, RUN_SWEEP_PENDING);
  ck_assert_int_eq(count(db, "SELECT count(*) FROM runs"), 0);
  run_sweep_free(s);
}
END_TEST

int main(void) {
  Suite *su = suite_create("sweep");
  TCase *tc = tcase_create("sweep");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_grid_expands_last_axis_fastest_after_base_and_preset);
  tcase_add_test(tc, test_bad_grid_files_name_the_file_the_key_and_what_was_expected);
  tcase_add_test(tc, test_two_by_two_sweep_runs_in_parallel_fills_four_runs_and_rerun_skips_them);
  tcase_add_test(tc, test_the_database_is_the_same_for_any_number_of_jobs);
  tcase_add_test(tc, test_an_unfinished_point_resumes_to_the_digest_of_an_uninterrupted_one);
  tcase_add_test(tc, test_bad_inputs_found_before_anything_runs);
  tcase_add_test(tc, test_a_stop_flag_set_before_the_start_runs_nothing);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
