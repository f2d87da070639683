/*
 * check_traces.c -- the SQLite recorder: schema and version, whole-frame
 * commits, concurrent streams, write errors, and a SIGKILL mid-run.
 */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "traces/trace.h"

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
    struct trace_spike_row sr = {f, i % 3, i, i % 7, 1000 * i};
    trace_put_spike(s, &sr);
  }
  for (int l = 0; l < 3; l++) {
    struct trace_layer_row lr = {f, l, 100, nspikes / 3, 10 * nspikes, 5, 0, 1};
    trace_put_layer(s, &lr);
  }
  struct trace_frame_row fr = {.frame = f,
                               .label = f % 10,
                               .prediction = (f + 1) % 10,
                               .spikes = nspikes,
                               .sops = 10 * nspikes,
                               .hops = 5,
                               .e_total = 1.5};
  trace_put_frame(s, &fr);
  trace_frame_end(s, f);
}

START_TEST(test_new_database_has_schema_and_version) {
  struct trace_db *db;
  struct sm_err err = {0};
  ck_assert_int_eq(trace_db_open(dbpath, &db, &err), 0);
  sqlite3 *c = trace_db_handle(db);
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
  sqlite3_exec(trace_db_handle(db),
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
  sqlite3 *c = trace_db_handle(db);
  ck_assert_int_eq(q1(c, "SELECT frames_done FROM runs"), 50);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM frames"), 50);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM layer_frames"), 150);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM spikes"), 50 * 5000 + 49 * 25);
  ck_assert_int_eq(q1(c, "SELECT count(*) FROM runs WHERE status='complete' "
                         "AND ended_at IS NOT NULL AND seed=3"),
                   1);
  ck_assert_uint_eq(trace_db_rows(db), 50 * 5000 + 49 * 25 + 50 * 5);
  int64_t id, done;
  char status[32];
  ck_assert_int_eq(trace_run_find(db, "run", NULL, &id, status, sizeof status,
                                  &done, &err),
                   1);
  ck_assert_int_eq(id, run);
  ck_assert_str_eq(status, "complete");
  ck_assert_int_eq(trace_run_find(db, "sweep", "{}", &id, status,
                                  sizeof status, &done, &err),
                   0);
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
  sqlite3 *c = trace_db_handle(db);
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
  ck_assert_int_eq(trace_db_flush(db, &err), 0);
  /* The file may not grow past its current size: the next big frame
   * fails the way a full disk does. */
  sqlite3_exec(trace_db_handle(db), "PRAGMA max_page_count=1", NULL, NULL,
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
    struct trace_db *db;
    struct sm_err err = {0};
    if (trace_db_open(dbpath, &db, &err))
      _exit(3);
    int64_t run;
    struct trace_run_info info = {.kind = "run", .frames_planned = 1000000};
    if (trace_run_begin(db, &info, &run, &err))
      _exit(4);
    struct trace_stream *s = trace_stream_open(db, run);
    for (int64_t f = 0;; f++)
      write_frame(s, f, 2000 + (int)(f % 5000));
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
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
