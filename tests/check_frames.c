/*
 * check_frames.c -- frames are independent of each other: frame k of a
 * run of frames 0..N-1 records the same rows (frames, layer_frames, cores,
 * links, ports, spikes, packets; every column but run_id and frame) as a
 * run of frame k's image alone, for the shipped MLP and CNN at --detail
 * packet (the CNN's packets contend, so the routers' round-robin pointers
 * move); and the reset refuses a kernel or a mesh
 * with work left.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "trainer/train.h"

static struct model *shipped(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/models/%s", SM_SRCDIR, name);
  struct model *m;
  struct sm_err err = {0};
  ck_assert_msg(model_load(path, &m, &err) == 0, "%s", err.msg);
  return m;
}

/* Record frames of d (n of them) as one run into db; returns its id. */
static int64_t record(const char *db, const struct model *m,
                      const struct run_options *o, const struct train_data *d,
                      uint32_t mw, uint32_t mh) {
  struct sm_err err = {0};
  struct run_sim *r;
  ck_assert_msg(run_sim_new(m, o, mw, mh, &r, &err) == 0, "%s", err.msg);
  struct run_record rr;
  struct trace_run_info info = {.kind = "run",
                                .config_json = "{}",
                                .detail = "packet",
                                .seed = 1,
                                .frames_planned = (int64_t)d->n,
                                .mesh_width = run_sim_map(r)->width,
                                .mesh_height = run_sim_map(r)->height};
  ck_assert_msg(run_record_open(&rr, db, 0, &info, &err) == 0, "%s", err.msg);
  struct run_engine e;
  run_sim_engine(r, d, &e);
  struct run_loop l = {.e = &e, .n = d->n, .ts = rr.ts, .db = rr.db,
                       .detail = TRACE_PACKET};
  size_t done;
  ck_assert_msg(run_loop_frames(&l, &done, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(done, d->n);
  int64_t id = rr.run_id;
  ck_assert_msg(run_record_close(&rr, "complete", &err) == 0, "%s", err.msg);
  run_sim_free(r);
  return id;
}

/* The rows of one frame of one run, in order, as one text. */
static char *rows(sqlite3 *c, const char *table, const char *cols,
                  const char *order, int64_t run, int64_t frame) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT count(*), group_concat(x, ';') FROM (SELECT %s AS x FROM "
           "%s WHERE run_id=?1 AND frame=?2 ORDER BY %s)",
           cols, table, order);
  sqlite3_stmt *st;
  ck_assert_msg(sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK, "%s",
                sqlite3_errmsg(c));
  sqlite3_bind_int64(st, 1, run);
  sqlite3_bind_int64(st, 2, frame);
  ck_assert(sqlite3_step(st) == SQLITE_ROW);
  const char *t = (const char *)sqlite3_column_text(st, 1);
  char *s = malloc(32 + (t ? strlen(t) : 0));
  sprintf(s, "%lld:%s", (long long)sqlite3_column_int64(st, 0), t ? t : "");
  sqlite3_finalize(st);
  return s;
}

static const struct {
  const char *table, *cols, *order;
  int nonempty; /* the table has rows for every frame of these runs */
} tables[] = {
    {"frames",
     "label||','||prediction||','||input_spikes||','||spikes||','||sops||','||"
     "hops||','||late_spikes||','||t_start_ps||','||latency_ps||','||"
     "e_sop_pj||','||e_hop_pj||','||e_static_pj||','||e_total_pj",
     "frame", 1},
    {"layer_frames",
     "layer||','||neurons||','||spikes||','||sops||','||hops||','||"
     "late_spikes||','||window_start_spikes||','||fired",
     "layer", 1},
    {"cores",
     "core||','||node||','||layer||','||neurons||','||spikes||','||sops||','||"
     "late_spikes",
     "core", 1},
    {"links", "node||','||dir||','||flits||','||busy_ps||','||utilization",
     "node, dir", 1},
    {"ports",
     "node||','||port||','||flits||','||blocked_ps||','||peak_occupancy||','||"
     "mean_occupancy",
     "node, port", 1},
    {"spikes",
     "layer||','||neuron||','||core||','||time_ps||','||step", "rowid", 1},
    {"packets",
     "src||','||dst||','||t_send_ps||','||t_inject_ps||','||t_eject_ps||','||"
     "hops||','||blocked_ps",
     "rowid", 1},
};

static void frames_alike(const char *name, uint32_t mw, uint32_t mh,
                         size_t n, int contends) {
  struct model *m = shipped(name);
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  struct train_data d;
  ck_assert_msg(run_synth_data("synthetic:7", m, n, &d, &err) == 0, "%s",
                err.msg);
  char db[] = "/tmp/check_frames_XXXXXX";
  int fd = mkstemp(db);
  ck_assert(fd >= 0);
  close(fd);
  unlink(db);
  int64_t all = record(db, m, &o, &d, mw, mh);
  size_t img = (size_t)d.c * (size_t)d.h * (size_t)d.w;
  sqlite3 *s;
  ck_assert(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  /* frames that had others before them: the middle, the last */
  const size_t ks[] = {n / 2, n - 1};
  int blocked = 0;
  for (size_t q = 0; q < 2; q++) {
    size_t k = ks[q];
    struct train_data one = d;
    one.n = 1;
    one.images = d.images + k * img;
    one.labels = d.labels ? d.labels + k : NULL;
    sqlite3_close(s);
    int64_t alone = record(db, m, &o, &one, mw, mh);
    ck_assert(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    for (size_t t = 0; t < SM_ARRAY_LEN(tables); t++) {
      char *a = rows(s, tables[t].table, tables[t].cols, tables[t].order, all,
                     (int64_t)k);
      char *b = rows(s, tables[t].table, tables[t].cols, tables[t].order,
                     alone, 0);
      ck_assert_msg(!tables[t].nonempty || strncmp(a, "0:", 2),
                    "%s: %s: no rows for frame %zu", name, tables[t].table, k);
      ck_assert_msg(strcmp(a, b) == 0,
                    "%s: %s: frame %zu of %zu differs from the frame alone",
                    name, tables[t].table, k, n);
      free(a);
      free(b);
    }
  }
  /* the frames contended: the comparison saw arbitration at work */
  sqlite3_stmt *st;
  ck_assert(sqlite3_prepare_v2(s, "SELECT count(*) FROM packets WHERE "
                                  "run_id=?1 AND blocked_ps > 0",
                               -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_int64(st, 1, all);
  ck_assert(sqlite3_step(st) == SQLITE_ROW);
  blocked = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(s);
  if (contends)
    ck_assert_msg(blocked > 0, "%s: no packet waited: a weak comparison",
                  name);
  unlink(db);
  train_data_free(&d);
  model_free(m);
}

START_TEST(test_mlp_frame_alone_equals_frame_in_a_run) {
  frames_alike("fmnist-mlp.json", 0, 0, 6, 0);
}
END_TEST

START_TEST(test_cnn_frame_alone_equals_frame_in_a_run) {
  frames_alike("fmnist-cnn.json", 0, 0, 4, 1);
}
END_TEST

static void nop(struct sim_kernel *k, const struct sim_event *ev, void *ctx) {
  (void)k;
  (void)ev;
  (void)ctx;
}

/* The kernel's reset: refused with events pending, then now and the
 * schedule order at 0 (equal times run in the new order). */
START_TEST(test_kernel_reset) {
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_WHEEL, 1);
  sim_register(k, 1, nop, NULL);
  ck_assert_int_eq(sim_schedule(k, 500, 1, 0, 0, 0, NULL), 0);
  ck_assert_int_eq(sim_kernel_reset(k), SM_ESTATE);
  ck_assert_uint_eq(sim_pending(k), 1);
  sim_run(k, SIM_TIME_MAX, 0);
  ck_assert_uint_eq(sim_now(k), 500);
  ck_assert_int_eq(sim_kernel_reset(k), 0);
  ck_assert_uint_eq(sim_now(k), 0);
  ck_assert_int_eq(sim_schedule(k, 10, 1, 0, 0, 0, NULL), 0);
  sim_run(k, SIM_TIME_MAX, 0);
  ck_assert_uint_eq(sim_now(k), 10);
  sim_kernel_free(k);
}
END_TEST

static void deliver(void *ctx, uint32_t node, uint64_t payload, uint32_t src,
                    sim_time_t t_send) {
  (void)node;
  (void)payload;
  (void)src;
  (void)t_send;
  (*(int *)ctx)++;
}

struct order {
  uint32_t src[8];
  int n;
};

static void deliver_order(void *ctx, uint32_t node, uint64_t payload,
                          uint32_t src, sim_time_t t_send) {
  (void)node;
  (void)payload;
  (void)t_send;
  struct order *o = ctx;
  ck_assert_int_lt(o->n, 8);
  o->src[o->n++] = src;
}

/* Two packets contend for one output: the round-robin pointer decides
 * which goes first and moves past it; a third packet, alone, moves it
 * again.  After a reset each round's contention is decided as in a new
 * mesh (without it the pointer left by the lone packet lets the other
 * input win the next round). */
START_TEST(test_mesh_reset_round_robin) {
  struct sm_conf c;
  struct run_options o;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  struct noc_conf nc = o.noc;
  nc.width = 3;
  nc.height = 3;
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_WHEEL, 1);
  struct noc_mesh *m;
  struct order got = {0};
  ck_assert_msg(noc_mesh_new(k, &nc, 0, deliver_order, &got, &m, &err) == 0,
                "%s", err.msg);
  uint32_t dst = 4, first = 0;
  sim_time_t t_first = 0;
  for (int round = 0; round < 3; round++) {
    got.n = 0;
    /* node 1 reaches node 4's north input, node 5 its east input */
    ck_assert_int_eq(noc_send(m, 1, &dst, 1, 4, 1), 0);
    ck_assert_int_eq(noc_send(m, 5, &dst, 1, 4, 2), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    ck_assert_int_eq(got.n, 2);
    ck_assert_uint_ne(got.src[0], got.src[1]);
    if (round == 0) {
      first = got.src[0];
      t_first = sim_now(k);
    }
    ck_assert_msg(got.src[0] == first,
                  "round %d: node %u went first, in a new mesh node %u", round,
                  got.src[0], first);
    ck_assert_uint_eq(sim_now(k), t_first);
    ck_assert_int_eq(noc_send(m, first, &dst, 1, 1, 3), 0);
    sim_run(k, SIM_TIME_MAX, 0);
    ck_assert_int_eq(got.n, 3);
    ck_assert_int_eq(sim_kernel_reset(k), 0);
    ck_assert_int_eq(noc_mesh_reset(m), 0);
  }
  noc_mesh_free(m);
  sim_kernel_free(k);
}
END_TEST

/* The mesh's reset: refused with a packet in flight; after it a packet at
 * time 0 takes the time it took in a new mesh. */
START_TEST(test_mesh_reset) {
  struct sm_conf c;
  struct run_options o;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  struct noc_conf nc = o.noc;
  nc.width = 3;
  nc.height = 3;
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_WHEEL, 1);
  struct noc_mesh *m;
  int got = 0;
  ck_assert_msg(noc_mesh_new(k, &nc, 0, deliver, &got, &m, &err) == 0, "%s",
                err.msg);
  uint32_t dst = 8;
  ck_assert_int_eq(noc_send(m, 0, &dst, 1, 1, 1), 0);
  ck_assert_int_eq(noc_mesh_reset(m), SM_ESTATE);
  sim_run(k, SIM_TIME_MAX, 0);
  sim_time_t first = sim_now(k);
  ck_assert_int_eq(got, 1);
  ck_assert_int_eq(sim_kernel_reset(k), 0);
  ck_assert_int_eq(noc_mesh_reset(m), 0);
  ck_assert_int_eq(noc_send(m, 0, &dst, 1, 1, 1), 0);
  sim_run(k, SIM_TIME_MAX, 0);
  ck_assert_int_eq(got, 2);
  ck_assert_uint_eq(sim_now(k), first);
  noc_mesh_free(m);
  sim_kernel_free(k);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frames");
  TCase *tc = tcase_create("independent");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_kernel_reset);
  tcase_add_test(tc, test_mesh_reset);
  tcase_add_test(tc, test_mesh_reset_round_robin);
  tcase_add_test(tc, test_mlp_frame_alone_equals_frame_in_a_run);
  tcase_add_test(tc, test_cnn_frame_alone_equals_frame_in_a_run);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
