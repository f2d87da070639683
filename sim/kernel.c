/*
 * kernel.c -- the event loop: pool, schedule, dispatch, run control.
 *
 * The pool hands out fixed-size event records from chunks of
 * SIM_POOL_CHUNK; freed records go on a free list threaded through their
 * `ptr` field.  Chunks are never returned before sim_kernel_free(), so the
 * steady state of a simulation allocates nothing.
 *
 * Cost per event (see doc/kernel.md for measurements): one pool pop, one
 * queue push, one queue pop, one indirect handler call, one pool push.
 */
#include "sim/pq-impl.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SIM_POOL_CHUNK 4096

struct sim_handler {
  sim_handler_fn fn;
  void *ctx;
};

struct sim_kernel {
  sim_time_t now;            /* ps */
  uint64_t seq;              /* next sequence number */
  uint64_t seed;
  uint64_t digest;
  struct sim_pq *q;
  struct sim_event *free_list;
  struct sim_event **chunks;
  size_t nchunks, capchunks;
  atomic_int stop;
  struct sim_stats st;
  struct sim_handler h[SIM_MAX_KINDS];
  sim_observe_fn observe;    /* NULL: none */
  void *observe_ctx;
};

const struct sm_opt sim_conf_opts[] = {
    SM_OPT_E(struct sim_conf, queue, "sim.queue", "wheel", SIM_QUEUE_CHOICES,
             "pending-event queue: radix-256 wheel, 4-ary heap, binary heap"),
    SM_OPT_U(struct sim_conf, seed, "sim.seed", "1", "", 0, 1.8446744073709552e19,
             "global seed; each component derives its own RNG stream"),
};
const size_t sim_conf_nopts = SM_ARRAY_LEN(sim_conf_opts);

struct sim_kernel *sim_kernel_new(enum sim_queue_kind queue, uint64_t seed) {
  struct sim_kernel *k = sm_xcalloc(1, sizeof *k);
  k->q = sim_pq_new(queue);
  k->seed = seed;
  k->digest = 0xcbf29ce484222325ull;
  atomic_init(&k->stop, 0);
  return k;
}

void sim_kernel_free(struct sim_kernel *k) {
  if (!k)
    return;
  sim_pq_free(k->q);
  for (size_t i = 0; i < k->nchunks; i++)
    free(k->chunks[i]);
  free(k->chunks);
  free(k);
}

void sim_set_observer(struct sim_kernel *k, sim_observe_fn fn, void *ctx) {
  k->observe = fn;
  k->observe_ctx = ctx;
}

void sim_register(struct sim_kernel *k, uint16_t kind, sim_handler_fn fn,
                  void *ctx) {
  assert(kind < SIM_MAX_KINDS);
  k->h[kind].fn = fn;
  k->h[kind].ctx = ctx;
}

static void pool_refill(struct sim_kernel *k) {
  if (k->nchunks == k->capchunks) {
    k->capchunks = k->capchunks ? k->capchunks * 2 : 16;
    k->chunks = sm_xreallocarray(k->chunks, k->capchunks, sizeof *k->chunks);
  }
  _Static_assert(sizeof(struct sim_event) == 32, "events are 32 bytes");
  struct sim_event *c = aligned_alloc(64, SIM_POOL_CHUNK * sizeof *c);
  if (!c)
    sm_oom(SIM_POOL_CHUNK * sizeof *c);
  k->chunks[k->nchunks++] = c;
  k->st.pool_chunks = k->nchunks;
  for (size_t i = 0; i < SIM_POOL_CHUNK; i++) {
    c[i].ptr = k->free_list;
    k->free_list = &c[i];
  }
}

int sim_schedule(struct sim_kernel *k, sim_time_t t, uint16_t kind,
                 uint32_t target, uint16_t port, uint64_t arg, void *ptr) {
  if (t < k->now) {
    k->st.refused_past++;
    return SM_EPAST;
  }
  assert(kind < SIM_MAX_KINDS && k->h[kind].fn);
  if (!k->free_list)
    pool_refill(k);
  struct sim_event *ev = k->free_list;
  k->free_list = ev->ptr;
  ev->time = t;
  ev->kind = kind;
  ev->port = port;
  ev->target = target;
  ev->arg = arg;
  ev->ptr = ptr;
  pq_push(k->q, ev, k->seq++);
  k->st.scheduled++;
  k->st.live++;
  size_t n = k->q->count;
  if (n > k->st.peak_pending)
    k->st.peak_pending = n;
  return 0;
}

int sim_kernel_reset(struct sim_kernel *k) {
  if (sim_pq_reset(k->q))
    return SM_ESTATE;
  k->now = 0;
  k->seq = 0;
  return 0;
}

sim_time_t sim_now(const struct sim_kernel *k) { return k->now; }
uint64_t sim_seed(const struct sim_kernel *k) { return k->seed; }
size_t sim_pending(const struct sim_kernel *k) { return sim_pq_count(k->q); }
const struct sim_stats *sim_stats(const struct sim_kernel *k) { return &k->st; }
uint64_t sim_digest(const struct sim_kernel *k) { return k->digest; }

sim_time_t sim_next_time(const struct sim_kernel *k) {
  struct sim_event *ev = pq_peek(k->q);
  return ev ? ev->time : SIM_TIME_MAX;
}

void sim_stop(struct sim_kernel *k) {
  atomic_store_explicit(&k->stop, 1, memory_order_relaxed);
}

int sim_advance(struct sim_kernel *k, sim_time_t t) {
  if (t < k->now)
    return SM_EPAST;
  if (sim_next_time(k) < t)
    return SM_ESTATE;
  k->now = t;
  return 0;
}

/* One multiply-xorshift round per event: order-sensitive, cheap. */
static inline uint64_t digest_step(uint64_t d, const struct sim_event *ev) {
  uint64_t x = ev->time + ((uint64_t)ev->kind << 56) +
               ((uint64_t)ev->port << 40) + ((uint64_t)ev->target << 8) +
               ev->arg;
  d = (d ^ x) * 0x9e3779b97f4a7c15ull;
  return d ^ (d >> 31);
}

enum sim_run_status sim_run(struct sim_kernel *k, sim_time_t until,
                            uint64_t max_events) {
  atomic_store_explicit(&k->stop, 0, memory_order_relaxed);
  uint64_t done = 0;
  for (;;) {
    if (atomic_load_explicit(&k->stop, memory_order_relaxed))
      return SIM_RUN_STOPPED;
    if (max_events && done >= max_events)
      return SIM_RUN_EVENTS;
    struct sim_event *ev;
    if (until != SIM_TIME_MAX) {
      ev = pq_peek(k->q);
      if (!ev) {
        k->now = until > k->now ? until : k->now;
        return SIM_RUN_IDLE;
      }
      if (ev->time > until) {
        k->now = until;
        return SIM_RUN_TIME;
      }
    }
    ev = pq_pop(k->q);
    if (!ev)
      return SIM_RUN_IDLE;
    /* Copy the record out and return it to the pool before the handler
     * runs: the handler usually schedules, and then reuses this very
     * record while it is still in cache. */
    struct sim_event e = *ev;
    ev->ptr = k->free_list;
    k->free_list = ev;
    k->now = e.time;
    k->digest = digest_step(k->digest, &e);
    const struct sim_handler *h = &k->h[e.kind];
    h->fn(k, &e, h->ctx);
    if (k->observe)
      k->observe(k->observe_ctx, &e);
    k->st.events++;
    k->st.live--;
    done++;
  }
}
