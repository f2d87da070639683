/*
 * check_traces.c -- the SQLite recorder: schema and version, whole-frame
 * commits, concurrent streams, write errors, a SIGKILL mid-run, resume,
 * one process per run (claims), other programs' databases, digests; spike and packet trace files both ways and their bad inputs
 * (truncated, corrupt, wrong version, absurd counts, bad CSV fields); the
 * Pareto plot's front.
 */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "traces/trace-int.h"
#include "util/rng.h"

static char dir[256];
static char dbpath[300];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/sm_traces_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(dbpath, sizeof dbpath, "%s/run.db", dir);
}

static void teardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static int64_t q1(sqlite3 *c, const char *sql) {
  sqlite3_stmt *st;
  ck_assert_int_eq(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static double qd(sqlite3 *c, const char *sql) {
  sqlite3_stmt *st;
  ck_assert_int_eq(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
  double v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Like q1 but tolerant: -1 while the schema does not exist yet. */
static int64_t q1_try(sqlite3 *c, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void write_frame(struct trace_stream *s, int64_t f, int nspikes) {
  for (int i = 0; i < nspikes; i++) {
    struct trace_spike_row sr = {f, i % 3, i, i % 7, 1000 * i, i % 10};
    trace_put_spike(s, &sr);
  }
  for (int l = 0; l < 3; l++) {
    struct trace_layer_row lr = {f, l, 100, nspikes / 3, 10 * nspikes, 5, 0, 1,
                                 l == 2 ? TRACE_NULL : 40 + l};
    trace_put_layer(s, &lr);
  }
  struct trace_frame_row fr = {.frame = f,
                               .label = f % 10,
                               /* two frames in three correct */
                               .prediction = f % 3 ? f % 10 : (f + 1) % 10,
                               .spikes = nspikes,
                               .sops = 10 * nspikes,
                               .hops = 5 + f % 4,
                               .latency = 1000 * f,
                               .e_total = 1.5 + (double)f};
  trace_put_frame(s, &fr);
  trace_frame_end(s, f);
}

START_TEST(test_new_database_has_schema_and_version) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  ck_assert_int_eq(q1(c, "SELECT value FROM meta WHERE key='schema_version'"),
                   TRACE_SCHEMA_VERSION);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM sqlite_master WHERE "
                         "name IN ('runs','frames','layer_frames','links',"
                         "'ports','cores','spikes','packets','noc_points')"),
                   9);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
  /* Reopening an existing database works. */
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

START_TEST(test_wrong_version_and_non_database_are_refused) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3_exec(trace__db_conn(db),
               "UPDATE meta SET value='99' WHERE key='schema_version'", NULL,
               NULL, NULL);
  trace_db_close(db, &err);
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), SM_EVERSION);
  ck_assert_ptr_nonnull(strstr(err.msg, dbpath));
  ck_assert_ptr_nonnull(strstr(err.msg, "version 99"));

  char junk[300];
  snprintf(junk, sizeof junk, "%s/junk.db", dir);
  FILE *f = fopen(junk, "w");
  fputs("this is not a database, just text that is long enough to look at "
        "more than the header of a file ....................................",
        f);
  fclose(f);
  ck_assert_int_lt(trace_db_open(junk, &db, &err), 0);
  ck_assert_ptr_nonnull(strstr(err.msg, junk));

  char nodir[300];
  snprintf(nodir, sizeof nodir, "%s/missing/dir/x.db", dir);
  ck_assert_int_lt(trace_db_open(nodir, &db, &err), 0);
  ck_assert_ptr_nonnull(strstr(err.msg, nodir));
}
END_TEST

START_TEST(test_frames_commit_whole_and_count_done) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct trace_run_info info = {.kind = "run", .config_json = "{\"a\":1}",
                                .seed = 3, .frames_planned = 50,
                                .detail = "spike"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int64_t f = 0; f < 50; f++)
    write_frame(s, f, 5000 + (int)f); /* frames span several batches */
  trace_stream_close(s);
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  sqlite3 *c = trace__db_conn(db);
  ck_assert_int_eq(q1(c, "SELECT frames_done FROM runs"), 50);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM frames"), 50);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM layer_frames"), 150);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM spikes"), 50 * 5000 + 49 * 25);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM runs WHERE status='complete' "
                         "AND ended_at IS NOT NULL AND seed=3"),
                   1);
  ck_assert_uint_eq(trace_db_rows(db), 50 * 5000 + 49 * 25 + 50 * 5);
  struct trace_run_found fr;
  ck_assert_int_eq(trace_run_find(db, "run", NULL, &fr, &err), 1);
  ck_assert_int_eq(fr.run_id, run);
  ck_assert_str_eq(fr.status, "complete");
  ck_assert_int_eq(fr.frames_done, 50);
  ck_assert_str_eq(fr.config, "{\"a\":1}");
  ck_assert_str_eq(fr.model_hash, "");
  trace_run_found_free(&fr);
  ck_assert_int_eq(trace_run_find(db, "sweep", "{}", &fr, &err), 0);
  /* the run's figures are the frames' means, recomputed here by SQL */
  struct trace_run_stats rs;
  ck_assert_int_eq(trace_run_stats(db, run, &rs, &err), 0);
  ck_assert_int_eq(rs.frames, q1(c, "SELECT count(*) FROM frames"));
  ck_assert_double_eq_tol(rs.hops, qd(c, "SELECT avg(hops) FROM frames"), 1e-9);
  ck_assert_double_eq_tol(rs.accuracy,
                          qd(c, "SELECT avg(label = prediction) FROM frames"),
                          1e-12);
  ck_assert_double_eq_tol(rs.e_total_uj,
                          qd(c, "SELECT avg(e_total_pj) FROM frames") * 1e-6,
                          1e-12);
  ck_assert_double_eq_tol(rs.latency_us,
                          qd(c, "SELECT avg(latency_ps) FROM frames") * 1e-6,
                          1e-12);
  ck_assert_double_lt(rs.peak_util, 0); /* no link rows */
  /* and by hand: frames 0..49, 33 of them with f % 3 != 0 */
  ck_assert_double_eq_tol(rs.accuracy, 33.0 / 50, 1e-12);
  ck_assert_double_eq_tol(rs.hops, 5 + 73.0 / 50, 1e-12);
  ck_assert_double_eq_tol(rs.latency_us, 24.5 * 1000 * 1e-6, 1e-12);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

struct producer {
  struct trace_db *db;
  int64_t run;
};

static void produce(void *arg) {
  struct producer *p = arg;
  struct trace_stream *s = trace_stream_open(p->db, p->run);
  for (int64_t f = 0; f < 200; f++)
    write_frame(s, f, 300);
  trace_stream_close(s);
}

START_TEST(test_concurrent_streams_keep_their_runs_apart) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct producer p[3];
  uv_thread_t t[3];
  for (int i = 0; i < 3; i++) {
    struct trace_run_info info = {.kind = "sweep", .seed = (uint64_t)i};
    p[i].db = db;
    ck_assert_int_eq(trace_run_begin(db, &info, &p[i].run, &err), 0);
  }
  for (int i = 0; i < 3; i++)
    uv_thread_create(&t[i], produce, &p[i]);
  for (int i = 0; i < 3; i++)
    uv_thread_join(&t[i]);
  ck_assert_int_eq(trace_db_flush(db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM runs WHERE frames_done=200"), 3);
  ck_assert_int_eq(q1(c, "SELECT count(DISTINCT run_id) FROM frames"), 3);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM spikes"), 3 * 200 * 300);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

START_TEST(test_disk_full_keeps_committed_frames_and_reports) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  int64_t run;
  struct trace_run_info info = {.kind = "run", .frames_planned = 1000};
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int64_t f = 0; f < 3; f++)
    write_frame(s, f, 10);
  trace_stream_unit_end(s); /* hand the three small frames over now */
  ck_assert_int_eq(trace_db_flush(db, &err), 0);
  /* The file may not grow past its current size: the next big frame
   * fails the way a full disk does. */
  sqlite3_exec(trace__db_conn(db), "PRAGMA max_page_count=1", NULL, NULL,
               NULL);
  for (int64_t f = 3; f < 8; f++)
    write_frame(s, f, 100000);
  trace_stream_close(s);
  ck_assert_int_eq(trace_db_flush(db, &err), SM_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, dbpath));
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), SM_EIO);
  trace_db_close(db, &err);
  sqlite3 *c;
  ck_assert_int_eq(sqlite3_open(dbpath, &c), SQLITE_OK);
  ck_assert_int_eq(q1(c, "SELECT frames_done FROM runs"), 3);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM frames"), 3);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM spikes"), 30);
  sqlite3_close(c);
}
END_TEST

/* A child records frames forever; the parent kills it with SIGKILL once a
 * few frames are committed.  The database must pass integrity_check, hold
 * only whole frames, and say how far the run got. */
START_TEST(test_sigkill_leaves_whole_frames) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* Never outlive the test: die with the parent, and stop on our own
     * after a bounded number of frames. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct trace_db *db;
    struct sm_err err = {0};
    if (trace_db_open(dbpath, &db, &err))
      _exit(3);
    int64_t run;
    struct trace_run_info info = {.kind = "run", .frames_planned = 1000000};
    if (trace_run_begin(db, &info, &run, &err))
      _exit(4);
    struct trace_stream *s = trace_stream_open(db, run);
    for (int64_t f = 0; f < 100000; f++)
      write_frame(s, f, 2000 + (int)(f % 5000));
    _exit(0);
  }
  sqlite3 *c = NULL;
  int64_t done = 0;
  for (int i = 0; i < 3000 && done < 20; i++) {
    usleep(10000);
    if (!c && access(dbpath, F_OK) == 0)
      sqlite3_open_v2(dbpath, &c, SQLITE_OPEN_READONLY, NULL);
    if (c) {
      sqlite3_busy_timeout(c, 1000);
      done = q1_try(c, "SELECT coalesce(max(frames_done), 0) FROM runs");
    }
  }
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFSIGNALED(status));
  if (c)
    sqlite3_close(c);
  ck_assert_int_ge(done, 20);
  ck_assert_int_eq(sqlite3_open(dbpath, &c), SQLITE_OK);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  int64_t fd = q1(c, "SELECT frames_done FROM runs");
  ck_assert_int_ge(fd, 20);
  ck_assert_int_eq(q1(c, "SELECT status = 'running' FROM runs"), 1);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM frames"), fd);
  ck_assert_int_eq(q1(c, "SELECT max(frame) + 1 FROM frames"), fd);
  /* Every frame's spike rows are all there, and no others. */
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM frames f WHERE spikes != "
                         "(SELECT count(*) FROM spikes s WHERE "
                         "s.frame = f.frame)"),
                   0);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM spikes WHERE frame >= "
                         "(SELECT frames_done FROM runs)"),
                   0);
  sqlite3_close(c);
}
END_TEST

START_TEST(test_detail_names_parse) {
  enum trace_detail d;
  ck_assert_int_eq(trace_detail_parse("packet", &d), 0);
  ck_assert_int_eq(d, TRACE_PACKET);
  ck_assert_str_eq(trace_detail_name(TRACE_LINK), "link");
  ck_assert_int_eq(trace_detail_parse("everything", &d), SM_EINVAL);
}
END_TEST


/* ---- trace files ---------------------------------------------------------- */

static void sample_traces(struct trace_file *sp, struct trace_file *pk) {
  trace_file_init(sp, TRACE_KIND_SPIKE, "{\"model\":\"m.json\"}");
  trace_file_init(pk, TRACE_KIND_PACKET, "{\"run.mesh_width\":4}");
  for (uint32_t i = 0; i < 100; i++) {
    struct trace_spike s = {1000 * i, i / 10, i % 3, i % 11, i, i % 5};
    trace_file_add_spike(sp, &s);
    uint32_t dst[3] = {i % 16, (i + 1) % 16, (i + 5) % 16};
    struct trace_packet q = {.time_ps = 500 * i, .deadline_ps = i ? 9000 * i : 0,
                             .payload = 0x1234500000000ull + i,
                             .frame = i / 10, .src = i % 16, .ndst = 1 + i % 3};
    trace_file_add_packet(pk, &q, dst);
  }
}

static void same_trace(const struct trace_file *a, const struct trace_file *b) {
  ck_assert_int_eq(a->kind, b->kind);
  ck_assert_str_eq(a->meta, b->meta);
  ck_assert_uint_eq(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    if (a->kind == TRACE_KIND_SPIKE) {
      const struct trace_spike *p = &a->spikes[i], *q = &b->spikes[i];
      ck_assert(p->time_ps == q->time_ps && p->frame == q->frame &&
                p->layer == q->layer && p->step == q->step &&
                p->neuron == q->neuron && p->core == q->core);
    } else {
      const struct trace_packet *p = &a->packets[i], *q = &b->packets[i];
      ck_assert(p->time_ps == q->time_ps && p->deadline_ps == q->deadline_ps &&
                p->payload == q->payload && p->frame == q->frame &&
                p->src == q->src && p->ndst == q->ndst);
      ck_assert(!memcmp(a->dst + p->dst_off, b->dst + q->dst_off,
                        p->ndst * sizeof *a->dst));
    }
  }
}

START_TEST(test_trace_files_round_trip_binary_and_csv) {
  struct trace_file sp, pk, back, back2;
  struct sm_err err = {0};
  sample_traces(&sp, &pk);
  char bin[300], csv[300];
  snprintf(bin, sizeof bin, "%s/t.smt", dir);
  snprintf(csv, sizeof csv, "%s/t.csv", dir);
  const struct trace_file *all[] = {&sp, &pk};
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(trace_file_write(bin, all[k], 0, &err), 0);
    ck_assert_int_eq(trace_file_read(bin, &back, &err), 0);
    same_trace(all[k], &back);
    ck_assert_int_eq(trace_file_write(csv, &back, 1, &err), 0);
    ck_assert_int_eq(trace_file_read(csv, &back2, &err), 0);
    same_trace(all[k], &back2);
    trace_file_free(&back);
    trace_file_free(&back2);
  }
  /* binary size: header + meta + 100 records of 24 bytes */
  struct stat stt;
  ck_assert_int_eq(trace_file_write(bin, &sp, 0, &err), 0);
  ck_assert_int_eq(stat(bin, &stt), 0);
  ck_assert_int_eq(stt.st_size, 32 + (int)strlen(sp.meta) + 100 * 24);
  trace_file_free(&sp);
  trace_file_free(&pk);
}
END_TEST

static void put_bytes(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(b, 1, n, f), n);
  fclose(f);
}

static unsigned char *get_bytes(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  unsigned char *b = malloc(*n + 1);
  ck_assert_uint_eq(fread(b, 1, *n, f), *n);
  fclose(f);
  return b;
}

static void expect_error(const char *path, int code, const char *what) {
  struct trace_file t;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_file_read(path, &t, &err), code);
  ck_assert_msg(strstr(err.msg, what) != NULL, "'%s' lacks '%s'", err.msg,
                what);
  ck_assert_ptr_nonnull(strstr(err.msg, path));
}

START_TEST(test_bad_binary_traces_name_the_byte_offset) {
  struct trace_file sp, pk;
  struct sm_err err = {0};
  sample_traces(&sp, &pk);
  char good[300], bad[300];
  snprintf(good, sizeof good, "%s/good.smt", dir);
  snprintf(bad, sizeof bad, "%s/bad.smt", dir);
  ck_assert_int_eq(trace_file_write(good, &pk, 0, &err), 0);
  size_t n;
  unsigned char *b = get_bytes(good, &n);
  /* truncated inside the header, and inside the records */
  put_bytes(bad, b, 20);
  expect_error(bad, SM_EFORMAT, "byte offset 20: truncated header");
  put_bytes(bad, b, n - 6);
  expect_error(bad, SM_EFORMAT, "byte offset 24: header claims 199 "
                                "destinations");
  char sgood[300];
  snprintf(sgood, sizeof sgood, "%s/spikes.smt", dir);
  ck_assert_int_eq(trace_file_write(sgood, &sp, 0, &err), 0);
  size_t sn;
  unsigned char *sb = get_bytes(sgood, &sn);
  put_bytes(bad, sb, sn - 6);
  expect_error(bad, SM_EFORMAT, "byte offset 16: header claims 100 records");
  free(sb);
  /* wrong version */
  unsigned char *c = malloc(n);
  memcpy(c, b, n);
  c[8] = 9;
  put_bytes(bad, c, n);
  expect_error(bad, SM_EVERSION, "byte offset 8: trace format version 9");
  /* absurd record count: 2^40, refused before allocating */
  memcpy(c, b, n);
  c[16 + 5] = 1;
  put_bytes(bad, c, n);
  expect_error(bad, SM_EFORMAT, "header claims 1099511627876 records");
  /* a corrupt destination count in the first record */
  memcpy(c, b, n);
  size_t rec0 = 32 + strlen(pk.meta);
  c[rec0 + 32] = 0;
  c[rec0 + 33] = 0xff;
  put_bytes(bad, c, n);
  expect_error(bad, SM_EFORMAT, "destination count");
  char msg[64];
  snprintf(msg, sizeof msg, "byte offset %zu: record 0", rec0);
  expect_error(bad, SM_EFORMAT, msg);
  /* damaged magic and binary junk */
  memcpy(c, b, n);
  c[7] = 'X';
  put_bytes(bad, c, n);
  expect_error(bad, SM_EFORMAT, "damaged magic");
  /* trailing garbage */
  unsigned char *d = malloc(n + 3);
  memcpy(d, b, n);
  memset(d + n, 0, 3);
  put_bytes(bad, d, n + 3);
  expect_error(bad, SM_EFORMAT, "3 bytes after the last record");
  /* nothing already written is lost: the good file still reads */
  struct trace_file back;
  ck_assert_int_eq(trace_file_read(good, &back, &err), 0);
  same_trace(&pk, &back);
  trace_file_free(&back);
  free(b);
  free(c);
  free(d);
  trace_file_free(&sp);
  trace_file_free(&pk);
}
END_TEST

START_TEST(test_bad_csv_rows_name_line_and_field) {
  char p[300];
  snprintf(p, sizeof p, "%s/bad.csv", dir);
  const char *head = "# meta: {}\nframe,layer,neuron,core,time_ps,step\n";
  char text[512];
  snprintf(text, sizeof text, "%s0,1,2,3,4000,5\n0,1,x,3,4000,5\n", head);
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":4: field 'neuron'");
  snprintf(text, sizeof text, "%s0,1,2,3,-4,5\n", head);
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":3: field 'time_ps'");
  snprintf(text, sizeof text, "%s0,70000,2,3,4,5\n", head);
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":3: field 'layer'");
  snprintf(text, sizeof text, "%s0,1,2,3,4\n", head);
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":3: field 'time_ps'");
  snprintf(text, sizeof text, "%s0,1,2,3,4,5,6\n", head);
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":3: field 'step'");
  snprintf(text, sizeof text,
           "frame,time_ps,src,dst,payload,deadline_ps\n1,2,3,4;5,0,0\n"
           "1,2,3,,0,0\n");
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":3: field 'dst'");
  snprintf(text, sizeof text, "a,b,c\n1,2,3\n");
  put_bytes(p, text, strlen(text));
  expect_error(p, SM_EFORMAT, ":1: expected the column line");
  /* a failed write leaves the existing file as it was */
  struct trace_file t;
  struct sm_err err = {0};
  trace_file_init(&t, TRACE_KIND_SPIKE, NULL);
  char nodir[300];
  snprintf(nodir, sizeof nodir, "%s/missing/t.smt", dir);
  ck_assert_int_eq(trace_file_write(nodir, &t, 0, &err), SM_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "missing"));
  trace_file_free(&t);
}
END_TEST

/* Fields a trace once passed unchecked, and its size: a spike trace's
 * destination total in the header must be 0, deadlines are not negative,
 * a spike's core is a node of the largest mesh, and a file above
 * TRACE_FILE_MAX_BYTES is refused from its size. */
START_TEST(test_trace_fields_and_size_are_checked) {
  struct trace_file sp, pk;
  struct sm_err err = {0};
  sample_traces(&sp, &pk);
  char good[300], bad[300];
  snprintf(good, sizeof good, "%s/s.smt", dir);
  snprintf(bad, sizeof bad, "%s/bad.smt", dir);
  ck_assert_int_eq(trace_file_write(good, &sp, 0, &err), 0);
  size_t n;
  unsigned char *b = get_bytes(good, &n);
  size_t rec0 = 32 + strlen(sp.meta);
  b[24] = 7; /* destinations in a spike trace's header */
  put_bytes(bad, b, n);
  expect_error(bad, SM_EFORMAT, "byte offset 24: a spike trace's destination "
                                "total must be 0, the header says 7");
  b[24] = 0;
  b[rec0 + 20] = 0x00; /* record 0's core: 4096 */
  b[rec0 + 21] = 0x10;
  put_bytes(bad, b, n);
  expect_error(bad, SM_EFORMAT, "record 0: core 4096, expected 0..4095");
  free(b);
  ck_assert_int_eq(trace_file_write(good, &pk, 0, &err), 0);
  b = get_bytes(good, &n);
  rec0 = 32 + strlen(pk.meta);
  b[rec0 + 15] = 0x80; /* record 0's deadline: negative */
  put_bytes(bad, b, n);
  expect_error(bad, SM_EFORMAT, "record 0: negative deadline");
  free(b);
  char csv[300];
  snprintf(csv, sizeof csv, "%s/bad.csv", dir);
  const char *text = "frame,layer,neuron,core,time_ps,step\n0,1,2,4096,4000,5\n";
  put_bytes(csv, text, strlen(text));
  expect_error(csv, SM_EFORMAT, ":2: field 'core': expected an integer in "
                                "0..4095");
  /* a sparse file larger than the cap: refused without reading it */
  FILE *f = fopen(bad, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(ftruncate(fileno(f), (off_t)TRACE_FILE_MAX_BYTES + 1), 0);
  fclose(f);
  expect_error(bad, SM_ELIMIT, "larger than the 2 GiB");
  unlink(bad);
  trace_file_free(&sp);
  trace_file_free(&pk);
}
END_TEST

static void record_run(const char *path, uint64_t seed) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(path, &db, &err), 0);
  struct trace_run_info info = {.kind = "run", .config_json = "{}",
                                .seed = seed, .frames_planned = 20,
                                .detail = "spike"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int64_t f = 0; f < 20; f++)
    write_frame(s, f, 100 + (int)(seed % 7) * (int)f);
  trace_stream_close(s);
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}

START_TEST(test_digest_ignores_timestamps_and_sees_results) {
  char a[300], b[300], c[300];
  snprintf(a, sizeof a, "%s/a.db", dir);
  snprintf(b, sizeof b, "%s/b.db", dir);
  snprintf(c, sizeof c, "%s/c.db", dir);
  record_run(a, 3);
  sleep(1); /* different start times */
  record_run(b, 3);
  record_run(c, 4);
  uint64_t ha, hb, hc;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_digest(a, 1, &ha, &err), 0);
  ck_assert_int_eq(trace_db_digest(b, 1, &hb, &err), 0);
  ck_assert_int_eq(trace_db_digest(c, 1, &hc, &err), 0);
  ck_assert_uint_eq(ha, hb);
  ck_assert_uint_ne(ha, hc);
  int64_t last;
  ck_assert_int_eq(trace_db_last_run(a, &last, &err), 0);
  ck_assert_int_eq(last, 1);
  FILE *out = fopen("/dev/null", "w");
  ck_assert_int_eq(trace_db_info(a, out, &err), 0);
  ck_assert_int_eq(trace_db_compare(a, 1, c, 1, 5, out, &err), 0);
  ck_assert_int_eq(trace_db_compare(a, 1, c, 7, 5, out, &err), SM_ENOENT);
  fclose(out);
  char junk[300];
  snprintf(junk, sizeof junk, "%s/none.db", dir);
  ck_assert_int_lt(trace_db_digest(junk, 1, &ha, &err), 0);
}
END_TEST

/* A run of `kind` whose frames carry labels 0..9 (two in three right) or,
 * unlabelled, label -1 (a replay: no decisions either). */
static void record_kind(const char *path, const char *kind, const char *cfg,
                        int labelled) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(path, &db, &err), 0);
  struct trace_run_info info = {.kind = kind, .config_json = cfg,
                                .frames_planned = 30, .detail = "summary"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int64_t f = 0; f < 30; f++) {
    struct trace_frame_row fr = {.frame = f,
                                 .label = labelled ? f % 10 : -1,
                                 .prediction = !labelled ? -1
                                               : f % 3 ? f % 10
                                                       : (f + 1) % 10,
                                 .spikes = 10,
                                 .latency = 2000000,
                                 .e_total = 1e6};
    trace_put_frame(s, &fr);
    trace_frame_end(s, f);
  }
  trace_stream_close(s);
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}

static char *read_all(FILE *f) {
  fflush(f);
  long n = ftell(f);
  rewind(f);
  char *s = calloc(1, (size_t)n + 1);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  return s;
}

/* Accuracy is over labelled frames only: a replay (label -1) shows n/a,
 * never 100%; compare names the configuration keys that differ and what
 * each latency measures. */
START_TEST(test_info_and_compare_count_only_labelled_frames) {
  char a[300];
  snprintf(a, sizeof a, "%s/k.db", dir);
  record_kind(a, "run", "{\"noc.buffer_depth\":8,\"run.frames\":30}", 1);
  record_kind(a, "replay", "{\"noc.buffer_depth\":2,\"replay.time_scale\":1}",
              0);
  struct sm_err err = {0};
  FILE *out = tmpfile();
  ck_assert_int_eq(trace_db_info(a, out, &err), 0);
  char *s = read_all(out);
  /* frames 0..29: 20 of them with f % 3 != 0 are right */
  ck_assert_msg(strstr(s, "66.67%"), "%s", s);
  char *line2 = strstr(s, "\n   2 replay");
  ck_assert_msg(line2 && strstr(line2, " n/a "), "%s", s);
  ck_assert_msg(!strstr(s, "100.00%"), "%s", s);
  free(s);
  fclose(out);
  out = tmpfile();
  ck_assert_int_eq(trace_db_compare(a, 1, a, 2, 5, out, &err), 0);
  s = read_all(out);
  ck_assert_msg(strstr(s, "accuracy % (labelled)"), "%s", s);
  ck_assert_msg(strstr(s, "66.67%") && strstr(s, "n/a"), "%s", s);
  ck_assert_msg(strstr(s, "A: first input spike to decision; B: first send "
                          "to last delivery (different definitions"),
                "%s", s);
  ck_assert_msg(strstr(s, "configuration keys that differ (A -> B):\n"
                          "  noc.buffer_depth: 8 -> 2\n"
                          "  replay.time_scale: (absent) -> 1\n"
                          "  run.frames: 30 -> (absent)\n"),
                "%s", s);
  free(s);
  fclose(out);
  /* the same run twice: nothing differs */
  out = tmpfile();
  ck_assert_int_eq(trace_db_compare(a, 1, a, 1, 5, out, &err), 0);
  s = read_all(out);
  ck_assert_msg(strstr(s, "configuration: the same in both runs"), "%s", s);
  ck_assert_msg(strstr(s, "\n0 frames differ"), "%s", s);
  free(s);
  fclose(out);
  /* and a sweep's figures use the labelled frames too */
  struct trace_db *db;
  ck_assert_int_eq(trace_db_open(a, &db, &err), 0);
  struct trace_run_stats st;
  ck_assert_int_eq(trace_run_stats(db, 2, &st, &err), 0);
  ck_assert_double_lt(st.accuracy, 0); /* none labelled */
  ck_assert_int_eq(trace_run_stats(db, 1, &st, &err), 0);
  ck_assert_double_eq_tol(st.accuracy, 20.0 / 30, 1e-12);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

START_TEST(test_resume_finds_the_unfinished_run_with_its_config) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct trace_run_info info = {.kind = "run", .config_json = "{\"x\":1}",
                                .model_hash = "00ff", .detail = "link"};
  int64_t run, id, done;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int64_t f = 0; f < 4; f++)
    write_frame(s, f, 10);
  trace_stream_close(s);
  ck_assert_int_eq(trace_run_end(db, run, "interrupted", &err), 0);
  struct trace_run_info other = info;
  other.config_json = "{\"x\":2}";
  ck_assert_int_eq(trace_run_resume(db, &other, &id, &done, &err), SM_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "another configuration"));
  /* the same path and options, but the model file changed */
  other = info;
  other.model_hash = "00fe";
  ck_assert_int_eq(trace_run_resume(db, &other, &id, &done, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "model file of other contents"), "%s", err.msg);
  ck_assert_ptr_nonnull(strstr(err.msg, dbpath));
  other = info;
  other.detail = "spike";
  ck_assert_int_eq(trace_run_resume(db, &other, &id, &done, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "another --detail") &&
                    strstr(err.msg, "recorded: detail link"),
                "%s", err.msg);
  /* the refusals left the run as it was */
  ck_assert_int_eq(trace_run_resume(db, &info, &id, &done, &err), 1);
  ck_assert_int_eq(id, run);
  ck_assert_int_eq(done, 4);
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  ck_assert_int_eq(trace_run_resume(db, &info, &id, &done, &err), 0);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

/* Sweep runs of 4 frames each, with few distinct energies, latencies and
 * accuracies (ties) and copies of earlier runs; two plain runs that beat
 * them all must stay out of a sweep's scatter.  pareto.dat's block 1 must
 * hold exactly the runs sm_pareto_front() puts on the front over (energy,
 * latency, accuracy), and block 0 every sweep run. */
START_TEST(test_pareto_plot_front_is_the_shared_front) {
  enum { NRUNS = 40, NPLAIN = 2, NFR = 4 };
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  struct sm_rng r;
  sm_rng_seed(&r, 7);
  double obj[NRUNS][3];
  int on[NRUNS];
  static const int maximize[3] = {0, 0, 1};
  ck_assert_int_eq(sqlite3_exec(c, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  for (int i = 0; i < NRUNS + NPLAIN; i++) {
    int e = 1 + (int)(sm_rng_next(&r) % 5), l = 1 + (int)(sm_rng_next(&r) % 4);
    int ok = (int)(sm_rng_next(&r) % (NFR + 1));
    if (i < NRUNS && i % 4 == 3) { /* a copy of an earlier run */
      int j = (int)(sm_rng_next(&r) % (uint64_t)i);
      e = (int)obj[j][0];
      l = (int)obj[j][1];
      ok = (int)obj[j][2];
    }
    if (i >= NRUNS) { /* plain runs: cheaper, faster, all correct */
      e = l = 0;
      ok = NFR;
    } else {
      obj[i][0] = e;
      obj[i][1] = l;
      obj[i][2] = ok;
    }
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO runs(run_id, kind, status, config, point_key, "
             "version, seed, frames_planned, frames_done, started_at) VALUES "
             "(%d, '%s', 'complete', '{}', '{\"p\":%d}', 'test', 1, %d, %d, "
             "'now')", i + 1, i < NRUNS ? "sweep" : "run", i, NFR, NFR);
    ck_assert_int_eq(sqlite3_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
    for (int f = 0; f < NFR; f++) {
      snprintf(sql, sizeof sql,
               "INSERT INTO frames(run_id, frame, label, prediction, "
               "latency_ps, e_total_pj) VALUES (%d, %d, 1, %d, %d, %d)",
               i + 1, f, f < ok ? 1 : 2, l * 1000000 + 500000,
               e * 1000000 + 250000);
      ck_assert_int_eq(sqlite3_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
    }
  }
  ck_assert_int_eq(sqlite3_exec(c, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
  sm_pareto_front(&obj[0][0], NRUNS, 3, maximize, on);

  char out[320], dat[340];
  snprintf(out, sizeof out, "%s/plots", dir);
  snprintf(dat, sizeof dat, "%s/pareto.dat", out);
  struct trace_plot_opts o = {.db = dbpath, .out_dir = out,
                              .gnuplot = "/nonexistent/gnuplot", .frame = -1,
                              .kinds = 1u << TRACE_PLOT_PARETO, .png = 1};
  ck_assert_int_eq(trace_plot(&o, NULL, &err), SM_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "gnuplot not found"));
  FILE *f = fopen(dat, "r");
  ck_assert_ptr_nonnull(f);
  int block = -1, seen[2][NRUNS + NPLAIN + 1] = {{0}}, nfront = 0, nrows = 0;
  double last_e = -1;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "# block ", 8))
      block = line[8] - '0';
    long long run;
    double e, l, acc;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    ck_assert_int_ge(block, 0);
    ck_assert_int_eq(sscanf(line, "%lld %lf %lf %lf", &run, &e, &l, &acc), 4);
    ck_assert(run >= 1 && run <= NRUNS);
    ck_assert_int_eq(seen[block][run]++, 0);
    const double *w = obj[run - 1];
    ck_assert_double_eq_tol(e, w[0] + 0.25, 1e-9);
    ck_assert_double_eq_tol(l, w[1] + 0.5, 1e-9);
    ck_assert_double_eq_tol(acc, 100.0 * w[2] / NFR, 1e-9);
    if (block == 1) {
      ck_assert_msg(on[run - 1], "run %lld in pareto.dat's front, not on the "
                    "front of sm_pareto_front", run);
      ck_assert(e >= last_e); /* by energy */
      last_e = e;
      nfront++;
    } else {
      nrows++;
    }
  }
  fclose(f);
  int want = 0;
  for (int i = 0; i < NRUNS; i++) {
    want += on[i];
    ck_assert_msg(seen[1][i + 1] == on[i], "run %d: front %d in pareto.dat, "
                  "%d from sm_pareto_front", i + 1, seen[1][i + 1], on[i]);
  }
  ck_assert_int_eq(nfront, want);
  ck_assert_int_eq(nrows, NRUNS);
  ck_assert_int_gt(want, 1);
  ck_assert_int_lt(want, NRUNS / 2);
}
END_TEST

/* ---- one process per run: claims --------------------------------------- */

START_TEST(test_a_run_belongs_to_one_process_at_a_time) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  struct trace_run_info info = {.kind = "run", .config_json = "{}"};
  int64_t run, id, done;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  /* the new run is claimed by this process, with its host and time */
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM claims WHERE run_id=%lld "
           "AND pid=%ld AND host != '' AND since LIKE '20%%Z'",
           (long long)run, (long)getpid());
  ck_assert_int_eq(q1(c, sql), 1);
  struct trace_stream *s = trace_stream_open(db, run);
  write_frame(s, 0, 10);
  trace_stream_close(s);
  /* a resume while it records: refused, naming the holder; untouched */
  ck_assert_int_eq(trace_run_resume(db, &info, &id, &done, &err), SM_EBUSY);
  char who[64];
  snprintf(who, sizeof who, "is being recorded by pid %ld on host",
           (long)getpid());
  ck_assert_msg(strstr(err.msg, who) && strstr(err.msg, dbpath), "%s",
                err.msg);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM claims"), 1);
  /* a process that is gone (no such pid) leaves a stale claim: taken over */
  ck_assert_int_eq(sqlite3_exec(c, "UPDATE claims SET pid=2147483647", NULL,
                                NULL, NULL), SQLITE_OK);
  struct trace_claim cl;
  ck_assert_int_eq(trace_run_claim(db, &info, TRACE_CLAIM_RESUME, &cl, &err),
                   0);
  ck_assert_int_eq(cl.outcome, TRACE_CLAIM_RESUMED);
  ck_assert_int_eq(cl.run_id, run);
  ck_assert_int_eq(cl.frames_done, 1);
  ck_assert_int_eq(cl.took_over, 1);
  ck_assert_int_eq(cl.holder.pid, 2147483647);
  ck_assert_int_eq(q1(c, "SELECT pid FROM claims"), (int64_t)getpid());
  /* a claim from another host is never taken: it cannot be told gone */
  ck_assert_int_eq(sqlite3_exec(c, "UPDATE claims SET host='elsewhere', "
                                "pid=2147483647", NULL, NULL, NULL),
                   SQLITE_OK);
  ck_assert_int_eq(trace_run_resume(db, &info, &id, &done, &err), SM_EBUSY);
  ck_assert_msg(strstr(err.msg, "host elsewhere") &&
                    strstr(err.msg, "DELETE FROM claims WHERE run_id=1"),
                "%s", err.msg);
  /* and its run's end is left to it */
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), SM_EBUSY);
  ck_assert_msg(strstr(err.msg, "taken over by pid 2147483647 on host "
                                "elsewhere"), "%s", err.msg);
  ck_assert_int_eq(q1(c, "SELECT status = 'running' FROM runs"), 1);
  /* back to us: the end sets the status and releases the claim at once */
  ck_assert_int_eq(sqlite3_exec(c, "DELETE FROM claims", NULL, NULL, NULL),
                   SQLITE_OK);
  ck_assert_int_eq(trace_run_resume(db, &info, &id, &done, &err), 1);
  ck_assert_int_eq(trace_run_end(db, run, "interrupted", &err), 0);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM claims"), 0);
  ck_assert_int_eq(q1(c, "SELECT status = 'interrupted' FROM runs"), 1);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

START_TEST(test_a_sweep_point_is_claimed_held_or_skipped) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  struct trace_run_info info = {.kind = "sweep", .config_json = "{}",
                                .point_key = "{\"a\":1}"};
  struct trace_claim cl;
  /* none yet: a new run */
  ck_assert_int_eq(trace_run_claim(db, &info, TRACE_CLAIM_POINT, &cl, &err),
                   0);
  ck_assert_int_eq(cl.outcome, TRACE_CLAIM_NEWRUN);
  int64_t run = cl.run_id;
  /* held by a live process (this one): reported, not an error */
  ck_assert_int_eq(trace_run_claim(db, &info, TRACE_CLAIM_POINT, &cl, &err),
                   0);
  ck_assert_int_eq(cl.outcome, TRACE_CLAIM_HELD);
  ck_assert_int_eq(cl.run_id, run);
  ck_assert_int_eq(cl.holder.pid, (int64_t)getpid());
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM runs"), 1);
  /* complete: nothing to do */
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  ck_assert_int_eq(trace_run_claim(db, &info, TRACE_CLAIM_POINT, &cl, &err),
                   0);
  ck_assert_int_eq(cl.outcome, TRACE_CLAIM_COMPLETE);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM claims"), 0);
  /* failed: a new run */
  ck_assert_int_eq(sqlite3_exec(c, "UPDATE runs SET status='failed'", NULL,
                                NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(trace_run_claim(db, &info, TRACE_CLAIM_POINT, &cl, &err),
                   0);
  ck_assert_int_eq(cl.outcome, TRACE_CLAIM_NEWRUN);
  ck_assert_int_gt(cl.run_id, run);
  ck_assert_int_eq(trace_db_close(db, &err), 0);
}
END_TEST

/* ---- files that are not spikemesh's ------------------------------------- */

static uint64_t file_sum(const char *path) {
  size_t n;
  char *b = sm_read_file(path, &n, NULL);
  ck_assert_ptr_nonnull(b);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)b[i]) * 1099511628211ull;
  free(b);
  return h ^ n;
}

START_TEST(test_other_programs_databases_are_refused_unchanged) {
  static const char *const schemas[] = {
      "CREATE TABLE runs(id INTEGER PRIMARY KEY, name TEXT);"
      "INSERT INTO runs(name) VALUES ('theirs');",
      /* a meta table of their own, without our schema version */
      "CREATE TABLE meta(key TEXT, value TEXT);"
      "INSERT INTO meta VALUES ('owner', 'them');",
      "CREATE VIEW v AS SELECT 1;"};
  for (size_t k = 0; k < SM_ARRAY_LEN(schemas); k++) {
    char path[320];
    snprintf(path, sizeof path, "%s/other%zu.db", dir, k);
    sqlite3 *c;
    ck_assert_int_eq(sqlite3_open(path, &c), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(c, schemas[k], NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(c);
    uint64_t before = file_sum(path);
    struct trace_db *db;
    struct sm_err err = {0};
    ck_assert_int_eq(trace_db_open(path, &db, &err), SM_EFORMAT);
    ck_assert_msg(strstr(err.msg, path) &&
                      strstr(err.msg, "not a spikemesh database"),
                  "%s", err.msg);
    ck_assert_uint_eq(file_sum(path), before);
    char wal[340];
    snprintf(wal, sizeof wal, "%s-wal", path);
    ck_assert_int_ne(access(wal, F_OK), 0);
  }
  /* an empty file is ours to fill */
  char empty[320];
  snprintf(empty, sizeof empty, "%s/empty.db", dir);
  fclose(fopen(empty, "w"));
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_msg(trace_db_open(empty, &db, &err) == 0, "%s", err.msg);
  trace_db_close(db, &err);
  /* names that record nothing, and a device */
  ck_assert_int_eq(trace_db_open("", &db, &err), SM_EINVAL);
  ck_assert_int_eq(trace_db_open(":memory:", &db, &err), SM_EINVAL);
  ck_assert_int_eq(trace_db_open("/dev/null", &db, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "not a regular file"), "%s", err.msg);
}
END_TEST

START_TEST(test_version_3_is_read_and_upgraded_when_written) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct trace_run_info info = {.kind = "run"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), 0);
  /* as version 3 wrote it: no claims table */
  ck_assert_int_eq(sqlite3_exec(trace__db_conn(db),
                                "DROP TABLE claims; UPDATE meta SET value='3' "
                                "WHERE key='schema_version'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  trace_db_close(db, &err);
  uint64_t h;
  ck_assert_msg(trace_db_digest(dbpath, run, &h, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  ck_assert_int_eq(q1(c, "SELECT value FROM meta WHERE key='schema_version'"),
                   TRACE_SCHEMA_VERSION);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM claims"), 0);
  trace_db_close(db, &err);
}
END_TEST

/* Mapping rows carry 18 integers (more than other rows): every column
 * lands where it belongs, through the one-row and the 32-row INSERT,
 * unknown halos as NULL, and a second copy (a resumed run writes them
 * again) is ignored. */
START_TEST(test_mapping_rows_keep_all_eighteen_columns) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct trace_run_info info = {.kind = "run"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  for (int copy = 0; copy < 2; copy++)
    for (int64_t g = 0; g < 40; g++) {
      /* column k of group g holds 1000 g + k (copy 1: + 7, ignored) */
      int64_t b = 1000 * g + 7 * copy;
      struct trace_mapping_row r = {
          g,       b + 2,  b + 3,  b + 4,  b + 5,  b + 6,
          b + 7,   b + 8,  g % 2 ? TRACE_NULL : b + 9, b + 10,
          b + 11,  b + 12, b + 13, b + 14, b + 15, b + 16,
          b + 17,  b + 18};
      trace_put_mapping(s, &r);
    }
  write_frame(s, 0, 3);
  trace_stream_close(s);
  ck_assert_int_eq(trace_db_flush(db, &err), 0);
  sqlite3 *c = trace__db_conn(db);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM mapping"), 40);
  static const char *const cols[] = {
      "grp",  "layer", "c0",   "c1", "y0", "y1",      "x0",        "x1",
      "iy0",  "iy1",   "ix0",  "ix1", "core", "node", "x", "y", "neurons",
      "sram_bytes"};
  for (int k = 1; k < 18; k++) {
    char sql[200];
    /* every row: column k = 1000 grp + k + 1 (iy0 NULL on odd groups) */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM mapping WHERE %s IS 1000 * grp + %d OR "
             "(%d = 8 AND grp %% 2 = 1 AND %s IS NULL)",
             cols[k], k + 1, k, cols[k]);
    ck_assert_msg(q1(c, sql) == 40, "column %s", cols[k]);
  }
  trace_db_close(db, &err);
}
END_TEST

START_TEST(test_a_lock_held_too_long_fails_the_run_with_a_clear_message) {
  setenv("SPIKEMESH_DB_TIMEOUT", "0.3", 1);
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  struct trace_run_info info = {.kind = "run"};
  int64_t run;
  ck_assert_int_eq(trace_run_begin(db, &info, &run, &err), 0);
  struct trace_stream *s = trace_stream_open(db, run);
  write_frame(s, 0, 10);
  trace_stream_close(s);
  ck_assert_int_eq(trace_db_flush(db, &err), 0);
  /* another process's transaction holds the write lock */
  sqlite3 *other;
  ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                   SQLITE_OK);
  s = trace_stream_open(db, run);
  write_frame(s, 1, 10);
  trace_stream_close(s);
  ck_assert_int_eq(trace_db_flush(db, &err), SM_EBUSY);
  ck_assert_msg(strstr(err.msg, dbpath) &&
                    strstr(err.msg, "locked for more than 0.3 s") &&
                    strstr(err.msg, "SPIKEMESH_DB_TIMEOUT") &&
                    strstr(err.msg, "not recorded"),
                "%s", err.msg);
  ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
                   SQLITE_OK);
  /* once the lock is gone the run is marked failed, its frame 0 kept */
  ck_assert_int_eq(trace_run_end(db, run, "complete", &err), SM_EBUSY);
  trace_db_close(db, NULL);
  unsetenv("SPIKEMESH_DB_TIMEOUT");
  ck_assert_int_eq(q1(other, "SELECT status = 'failed' FROM runs"), 1);
  ck_assert_int_eq(q1(other, "SELECT frames_done FROM runs"), 1);
  ck_assert_int_eq(q1(other, "SELECT count(*) FROM claims"), 0);
  sqlite3_close(other);
}
END_TEST

int main(void) {
  Suite *s = suite_create("traces");
  TCase *tc = tcase_create("recorder");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_new_database_has_schema_and_version);
  tcase_add_test(tc, test_wrong_version_and_non_database_are_refused);
  tcase_add_test(tc, test_frames_commit_whole_and_count_done);
  tcase_add_test(tc, test_concurrent_streams_keep_their_runs_apart);
  tcase_add_test(tc, test_disk_full_keeps_committed_frames_and_reports);
  tcase_add_test(tc, test_sigkill_leaves_whole_frames);
  tcase_add_test(tc, test_detail_names_parse);
  tcase_add_test(tc, test_trace_files_round_trip_binary_and_csv);
  tcase_add_test(tc, test_bad_binary_traces_name_the_byte_offset);
  tcase_add_test(tc, test_bad_csv_rows_name_line_and_field);
  tcase_add_test(tc, test_trace_fields_and_size_are_checked);
  tcase_add_test(tc, test_digest_ignores_timestamps_and_sees_results);
  tcase_add_test(tc, test_info_and_compare_count_only_labelled_frames);
  tcase_add_test(tc, test_resume_finds_the_unfinished_run_with_its_config);
  tcase_add_test(tc, test_pareto_plot_front_is_the_shared_front);
  tcase_add_test(tc, test_a_run_belongs_to_one_process_at_a_time);
  tcase_add_test(tc, test_a_sweep_point_is_claimed_held_or_skipped);
  tcase_add_test(tc, test_other_programs_databases_are_refused_unchanged);
  tcase_add_test(tc, test_version_3_is_read_and_upgraded_when_written);
  tcase_add_test(tc, test_mapping_rows_keep_all_eighteen_columns);
  tcase_add_test(tc, test_a_lock_held_too_long_fails_the_run_with_a_clear_message);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
