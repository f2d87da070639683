/*
 * check_sim.c -- the event kernel: queues against a sorted-array oracle,
 * equal-time FIFO order, refusal of the past, run control, determinism,
 * pool accounting and RNG streams.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

/* ---- queue vs oracle ---------------------------------------------------- */

struct okey {
  sim_time_t time;
  uint64_t seq;
};

/* The oracle: an unsorted array; pop scans for the least (time, seq). */
static size_t oracle_pop(struct okey *o, size_t *n) {
  size_t best = 0;
  for (size_t i = 1; i < *n; i++)
    if (o[i].time < o[best].time ||
        (o[i].time == o[best].time && o[i].seq < o[best].seq))
      best = i;
  return best;
}

/* 10^5 random operations: pushes at last-popped + a delay drawn from a mix
 * of zero (ties), tiny, medium and huge delays, pops and peeks.  Every pop
 * and peek must agree with the oracle exactly (same time and same seq). */
static void queue_vs_oracle(enum sim_queue_kind kind) {
  const size_t OPS = 100000;
  struct sim_pq *q = sim_pq_new(kind);
  struct sim_event *evs = calloc(OPS, sizeof *evs);
  uint64_t *seqs = calloc(OPS, sizeof *seqs);
  struct okey *o = calloc(OPS, sizeof *o);
  size_t no = 0, nev = 0;
  uint64_t seq = 0;
  sim_time_t last = 0;
  struct sim_rng r;
  sim_rng_init(&r, 42, (uint64_t)kind);
  for (size_t op = 0; op < OPS; op++) {
    uint64_t dice = sim_rng_below(&r, 100);
    if (dice < 55 || no == 0) {
      sim_time_t d;
      uint64_t m = sim_rng_below(&r, 4);
      if (m == 0)
        d = 0;
      else if (m == 1)
        d = sim_rng_below(&r, 300);
      else if (m == 2)
        d = sim_rng_below(&r, 1000000);
      else
        d = sim_rng_below(&r, 1ull << 40);
      struct sim_event *ev = &evs[nev];
      ev->time = last + d;
      ev->arg = seq;
      seqs[nev++] = seq;
      sim_pq_push(q, ev, seq);
      o[no++] = (struct okey){ev->time, seq};
      seq++;
    } else if (dice < 65) {
      struct sim_event *ev = sim_pq_peek(q);
      size_t b = oracle_pop(o, &no);
      ck_assert_ptr_nonnull(ev);
      ck_assert_uint_eq(ev->time, o[b].time);
      ck_assert_uint_eq(ev->arg, o[b].seq);
    } else {
      struct sim_event *ev = sim_pq_pop(q);
      size_t b = oracle_pop(o, &no);
      ck_assert_ptr_nonnull(ev);
      ck_assert_uint_eq(ev->time, o[b].time);
      ck_assert_uint_eq(ev->arg, o[b].seq);
      last = ev->time;
      o[b] = o[--no];
    }
    ck_assert_uint_eq(sim_pq_count(q), no);
  }
  while (no) {
    struct sim_event *ev = sim_pq_pop(q);
    size_t b = oracle_pop(o, &no);
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_eq(ev->time, o[b].time);
    ck_assert_uint_eq(ev->arg, o[b].seq);
    o[b] = o[--no];
  }
  ck_assert_ptr_null(sim_pq_pop(q));
  ck_assert_ptr_null(sim_pq_peek(q));
  sim_pq_free(q);
  free(evs);
  free(seqs);
  free(o);
}

START_TEST(test_queue_matches_sorted_oracle) {
  queue_vs_oracle((enum sim_queue_kind)_i);
}
END_TEST

/* The pattern of a simulated frame that starts late in simulated time: a
 * few far events (window openings at t0 + l x 10 us), then bursts of pushes
 * spread over the next windows as events are popped.  The wheel once let
 * its bottom run span a whole high-level slot here (every push became an
 * insertion into the run); order must match the oracle exactly. */
START_TEST(test_queue_frame_pattern_matches_oracle) {
  enum sim_queue_kind kind = (enum sim_queue_kind)_i;
  const size_t MAXEV = 20000;
  struct sim_pq *q = sim_pq_new(kind);
  struct sim_event *evs = calloc(MAXEV, sizeof *evs);
  struct okey *o = calloc(MAXEV, sizeof *o);
  size_t no = 0, nev = 0;
  struct sim_rng r;
  sim_rng_init(&r, 7, (uint64_t)kind);
  const sim_time_t t0 = 123456789012345ull, tw = 10000000ull;
  for (int frame = 0; frame < 3; frame++) {
    sim_time_t start = t0 + (sim_time_t)frame * 20 * tw;
    for (sim_time_t l = 0; l < 17; l++) {
      struct sim_event *ev = &evs[nev];
      ev->time = start + l * tw;
      ev->arg = nev;
      sim_pq_push(q, ev, nev);
      o[no++] = (struct okey){ev->time, nev};
      nev++;
    }
    while (no) {
      struct sim_event *ev = sim_pq_pop(q);
      size_t b = oracle_pop(o, &no);
      ck_assert_ptr_nonnull(ev);
      ck_assert_uint_eq(ev->time, o[b].time);
      ck_assert_uint_eq(ev->arg, o[b].seq);
      o[b] = o[--no];
      uint64_t k = sim_rng_below(&r, 4);
      for (uint64_t i = 0; i < k && nev < MAXEV * (size_t)(frame + 1) / 3;
           i++) {
        struct sim_event *e = &evs[nev];
        e->time = ev->time + sim_rng_below(&r, 2 * tw);
        e->arg = nev;
        sim_pq_push(q, e, nev);
        o[no++] = (struct okey){e->time, nev};
        nev++;
      }
    }
  }
  ck_assert_uint_ge(nev, MAXEV / 2);
  sim_pq_free(q);
  free(evs);
  free(o);
}
END_TEST

START_TEST(test_queue_names_parse) {
  enum sim_queue_kind k;
  for (int i = 0; i < SIM_QUEUE_NKINDS; i++) {
    ck_assert_int_eq(sim_pq_parse(sim_pq_name((enum sim_queue_kind)i), &k), 0);
    ck_assert_int_eq(k, i);
  }
  ck_assert_int_eq(sim_pq_parse("splay", &k), SM_EINVAL);
}
END_TEST

/* ---- kernel ------------------------------------------------------------- */

struct log {
  uint64_t args[4096];
  sim_time_t times[4096];
  size_t n;
  int stop_at; /* call sim_stop when this arg is dispatched (-1: never) */
};

static void log_handler(struct sim_kernel *k, const struct sim_event *ev,
                        void *ctx) {
  struct log *l = ctx;
  ck_assert_uint_lt(l->n, 4096);
  l->args[l->n] = ev->arg;
  l->times[l->n] = ev->time;
  l->n++;
  ck_assert_uint_eq(sim_now(k), ev->time);
  if ((int)ev->arg == l->stop_at)
    sim_stop(k);
}

START_TEST(test_equal_times_run_in_schedule_order) {
  struct sim_kernel *k = sim_kernel_new((enum sim_queue_kind)_i, 1);
  static struct log l;
  memset(&l, 0, sizeof l);
  l.stop_at = -1;
  sim_register(k, 3, log_handler, &l);
  /* Interleave two times so ties are not simply contiguous pushes. */
  for (uint64_t i = 0; i < 1000; i++)
    ck_assert_int_eq(sim_schedule(k, i % 2 ? 500 : 700, 3, 0, 0, i, NULL), 0);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(l.n, 1000);
  for (size_t i = 0; i < 500; i++) {
    ck_assert_uint_eq(l.args[i], 2 * i + 1); /* time 500, odd args in order */
    ck_assert_uint_eq(l.args[500 + i], 2 * i); /* time 700, even in order */
  }
  sim_kernel_free(k);
}
END_TEST

START_TEST(test_schedule_in_the_past_is_refused) {
  struct sim_kernel *k = sim_kernel_new((enum sim_queue_kind)_i, 1);
  static struct log l;
  memset(&l, 0, sizeof l);
  l.stop_at = -1;
  sim_register(k, 0, log_handler, &l);
  ck_assert_int_eq(sim_schedule(k, 100, 0, 0, 0, 1, NULL), 0);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(sim_now(k), 100);
  ck_assert_int_eq(sim_schedule(k, 99, 0, 0, 0, 2, NULL), SM_EPAST);
  ck_assert_uint_eq(sim_pending(k), 0);
  ck_assert_uint_eq(sim_stats(k)->refused_past, 1);
  ck_assert_int_eq(sim_schedule(k, 100, 0, 0, 0, 3, NULL), 0); /* now is ok */
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(l.n, 2);
  ck_assert_uint_eq(l.args[1], 3);
  ck_assert_int_eq(sim_advance(k, 50), SM_EPAST);
  sim_kernel_free(k);
}
END_TEST

START_TEST(test_run_until_stops_at_the_limit_and_resumes) {
  struct sim_kernel *k = sim_kernel_new((enum sim_queue_kind)_i, 1);
  static struct log l;
  memset(&l, 0, sizeof l);
  l.stop_at = -1;
  sim_register(k, 0, log_handler, &l);
  for (uint64_t i = 0; i < 10; i++)
    sim_schedule(k, 1000 * (i + 1), 0, 0, 0, i, NULL);
  ck_assert_int_eq(sim_run(k, 3500, 0), SIM_RUN_TIME);
  ck_assert_uint_eq(l.n, 3);
  ck_assert_uint_eq(sim_now(k), 3500);
  ck_assert_uint_eq(sim_next_time(k), 4000);
  /* A push between now and the next pending event must still come first:
   * peeking must not have moved the queue past now. */
  sim_schedule(k, 3600, 0, 0, 0, 99, NULL);
  ck_assert_uint_eq(sim_next_time(k), 3600);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 2), SIM_RUN_EVENTS);
  ck_assert_uint_eq(l.args[3], 99);
  ck_assert_uint_eq(l.args[4], 3);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(l.n, 11);
  ck_assert_uint_eq(sim_next_time(k), SIM_TIME_MAX);
  ck_assert_int_eq(sim_run(k, 20000, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(sim_now(k), 20000);
  ck_assert_int_eq(sim_advance(k, 30000), 0);
  ck_assert_uint_eq(sim_now(k), 30000);
  sim_kernel_free(k);
}
END_TEST

START_TEST(test_stop_from_a_handler_returns_after_that_event) {
  struct sim_kernel *k = sim_kernel_new((enum sim_queue_kind)_i, 1);
  static struct log l;
  memset(&l, 0, sizeof l);
  l.stop_at = 4;
  sim_register(k, 0, log_handler, &l);
  for (uint64_t i = 0; i < 10; i++)
    sim_schedule(k, 10 * i, 0, 0, 0, i, NULL);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_STOPPED);
  ck_assert_uint_eq(l.n, 5);
  ck_assert_uint_eq(sim_pending(k), 5);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(l.n, 10);
  sim_kernel_free(k);
}
END_TEST

/* A random workload: each event schedules 0-2 more at random delays,
 * including zero delays, until a budget is spent. */
struct chain {
  struct sim_rng rng;
  uint64_t budget;
};

static void chain_handler(struct sim_kernel *k, const struct sim_event *ev,
                          void *ctx) {
  struct chain *c = ctx;
  uint64_t kids = sim_rng_below(&c->rng, 3);
  for (uint64_t i = 0; i < kids && c->budget; i++, c->budget--) {
    sim_time_t d = sim_rng_below(&c->rng, 4) == 0
                       ? 0
                       : (sim_time_t)sim_rng_exp(&c->rng, 5000.0);
    ck_assert_int_eq(sim_schedule_in(k, d, 1, ev->target + 1, (uint16_t)i,
                                     sim_rng_next(&c->rng), NULL),
                     0);
  }
}

static uint64_t chain_digest(enum sim_queue_kind kind, uint64_t seed,
                             uint64_t *events) {
  struct sim_kernel *k = sim_kernel_new(kind, seed);
  struct chain c;
  sim_rng_init(&c.rng, seed, 7);
  c.budget = 200000;
  sim_register(k, 1, chain_handler, &c);
  for (uint32_t i = 0; i < 100; i++)
    sim_schedule(k, sim_rng_below(&c.rng, 1000), 1, i, 0, i, NULL);
  ck_assert_int_eq(sim_run(k, SIM_TIME_MAX, 0), SIM_RUN_IDLE);
  ck_assert_uint_eq(sim_stats(k)->live, 0); /* every event went back */
  ck_assert_uint_eq(sim_stats(k)->events, sim_stats(k)->scheduled);
  *events = sim_stats(k)->events;
  uint64_t d = sim_digest(k);
  sim_kernel_free(k);
  return d;
}

START_TEST(test_same_seed_same_digest_on_every_queue) {
  uint64_t e0, e1, e2;
  uint64_t d0 = chain_digest(SIM_QUEUE_WHEEL, 5, &e0);
  ck_assert_uint_gt(e0, 1000);
  ck_assert_uint_eq(chain_digest(SIM_QUEUE_WHEEL, 5, &e1), d0);
  ck_assert_uint_eq(chain_digest(SIM_QUEUE_HEAP4, 5, &e1), d0);
  ck_assert_uint_eq(chain_digest(SIM_QUEUE_BINARY, 5, &e2), d0);
  ck_assert_uint_eq(e1, e0);
  ck_assert_uint_ne(chain_digest(SIM_QUEUE_WHEEL, 6, &e2), d0);
}
END_TEST

START_TEST(test_pool_reuses_records_in_steady_state) {
  struct sim_kernel *k = sim_kernel_new(SIM_QUEUE_WHEEL, 1);
  struct chain c;
  sim_rng_init(&c.rng, 1, 1);
  c.budget = 50000;
  sim_register(k, 1, chain_handler, &c);
  sim_schedule(k, 0, 1, 0, 0, 0, NULL);
  sim_run(k, SIM_TIME_MAX, 0);
  size_t peak = sim_stats(k)->peak_pending;
  /* Chunks hold 4096 records: the pool grew only as far as the peak. */
  ck_assert_uint_le(sim_stats(k)->pool_chunks, peak / 4096 + 2);
  ck_assert_uint_eq(sim_stats(k)->live, 0);
  sim_kernel_free(k);
  sim_kernel_free(NULL);
}
END_TEST

/* ---- RNG ---------------------------------------------------------------- */

START_TEST(test_rng_streams_are_reproducible_and_distinct) {
  struct sim_rng a, b, c;
  sim_rng_init(&a, 9, 1);
  sim_rng_init(&b, 9, 1);
  sim_rng_init(&c, 9, 2);
  int differ = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = sim_rng_next(&a), y = sim_rng_next(&b), z = sim_rng_next(&c);
    ck_assert_uint_eq(x, y);
    differ += x != z;
  }
  ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(test_rng_distributions_have_the_right_moments) {
  struct sim_rng r;
  sim_rng_init(&r, 3, 0);
  const int N = 400000;
  double su = 0, se = 0, se2 = 0;
  int hits = 0;
  uint64_t counts[7] = {0};
  for (int i = 0; i < N; i++) {
    double u = sim_rng_uniform(&r);
    ck_assert(u >= 0.0 && u < 1.0);
    su += u;
    double e = sim_rng_exp(&r, 2.0);
    ck_assert(e >= 0.0);
    se += e;
    se2 += e * e;
    hits += sim_rng_bernoulli(&r, 0.25);
    uint64_t b = sim_rng_below(&r, 7);
    ck_assert_uint_lt(b, 7);
    counts[b]++;
  }
  ck_assert_double_eq_tol(su / N, 0.5, 0.005);
  ck_assert_double_eq_tol(se / N, 2.0, 0.02);          /* mean */
  ck_assert_double_eq_tol(se2 / N - 4.0, 4.0, 0.12);   /* variance */
  ck_assert_double_eq_tol((double)hits / N, 0.25, 0.005);
  for (int i = 0; i < 7; i++)
    ck_assert_double_eq_tol((double)counts[i] / N, 1.0 / 7, 0.005);
}
END_TEST

START_TEST(test_kernel_options_table_has_valid_defaults) {
  struct sim_conf sc;
  struct sm_conf c;
  struct sm_err err = {0};
  sm_conf_init(&c);
  sm_conf_add(&c, sim_conf_opts, sim_conf_nopts, &sc);
  ck_assert_int_eq(sm_conf_defaults(&c, &err), 0);
  ck_assert_int_eq(sc.queue, SIM_QUEUE_WHEEL);
  ck_assert_int_eq(sm_conf_set(&c, "sim.queue=heap4", "t", &err), 0);
  ck_assert_int_eq(sc.queue, SIM_QUEUE_HEAP4);
  ck_assert_int_eq(sm_conf_set(&c, "sim.queue=calendar", "t", &err), SM_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "wheel,heap4,binary"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim");
  TCase *tq = tcase_create("queues");
  tcase_set_timeout(tq, 120);
  tcase_add_loop_test(tq, test_queue_matches_sorted_oracle, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_loop_test(tq, test_queue_frame_pattern_matches_oracle, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_test(tq, test_queue_names_parse);
  suite_add_tcase(s, tq);
  TCase *tk = tcase_create("kernel");
  tcase_set_timeout(tk, 120);
  tcase_add_loop_test(tk, test_equal_times_run_in_schedule_order, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_loop_test(tk, test_schedule_in_the_past_is_refused, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_loop_test(tk, test_run_until_stops_at_the_limit_and_resumes, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_loop_test(tk, test_stop_from_a_handler_returns_after_that_event, 0,
                      SIM_QUEUE_NKINDS);
  tcase_add_test(tk, test_same_seed_same_digest_on_every_queue);
  tcase_add_test(tk, test_pool_reuses_records_in_steady_state);
  tcase_add_test(tk, test_kernel_options_table_has_valid_defaults);
  suite_add_tcase(s, tk);
  TCase *tr = tcase_create("rng");
  tcase_set_timeout(tr, 120);
  tcase_add_test(tr, test_rng_streams_are_reproducible_and_distinct);
  tcase_add_test(tr, test_rng_distributions_have_the_right_moments);
  suite_add_tcase(s, tr);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
