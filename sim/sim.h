/*
 * sim.h -- the discrete-event kernel: simulated time, pooled events, a
 * swappable priority queue, dispatch by event kind, RNG streams and run
 * control.
 *
 * The kernel knows nothing of flits, routers or neurons.  A model registers
 * one handler per event kind (small integers it chooses, < SIM_MAX_KINDS)
 * and schedules events that carry a target component index and two payload
 * words.  Handlers run in (time, sequence) order: equal times run in the
 * order they were scheduled, so a run is reproducible bit for bit.
 *
 * Time is an integer tick of 1 ps (sim_time_t, uint64).  Scheduling before
 * the current time is refused with SM_EPAST; the event is not queued.
 *
 * Ownership: events live in a pool owned by the kernel.  A handler gets a
 * pointer valid only during the call; the kernel returns the event to the
 * pool afterwards.  Handlers never free events.  sim_kernel_free() releases
 * everything, pending events included.
 */
#ifndef SPIKEMESH_SIM_H
#define SPIKEMESH_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "util/conf.h"
#include "util/rng.h"
#include "util/util.h"

typedef uint64_t sim_time_t; /* ps */
#define SIM_TIME_MAX UINT64_MAX
#define SIM_PS_PER_NS 1000ull

#define SIM_MAX_KINDS 64

/* A pooled event: a plain record of 32 bytes (half a cache line; the pool
 * aligns it so it never straddles two).  The schedule order that breaks
 * time ties lives in the queue entry, not here. */
struct sim_event {
  sim_time_t time; /* ps, when it fires */
  uint16_t kind;   /* index into the handler table */
  uint16_t port;   /* payload: small integer (a port, a direction ...) */
  uint32_t target; /* payload: component index, meaning chosen by the model */
  uint64_t arg;    /* payload word */
  void *ptr;       /* payload pointer (not owned by the kernel) */
};

struct sim_kernel;

typedef void (*sim_handler_fn)(struct sim_kernel *k, const struct sim_event *ev,
                               void *ctx);

/* ---- priority queues -------------------------------------------------- */

/* The queue interface (sim/pq-impl.h has the designs; doc/kernel.md the
 * measurements).  Entries are ordered by (time, seq); pop returns the
 * least.  The wheel needs monotone keys (never push earlier than the last
 * pop), which the kernel guarantees. */
enum sim_queue_kind {
  SIM_QUEUE_WHEEL,  /* radix-256 heap (hierarchical timing wheel) */
  SIM_QUEUE_HEAP4,  /* implicit 4-ary heap of (time, seq, event) */
  SIM_QUEUE_BINARY, /* plain binary heap: the baseline */
  SIM_QUEUE_NKINDS
};
#define SIM_QUEUE_CHOICES "wheel|heap4|binary"

struct sim_pq;
struct sim_pq *sim_pq_new(enum sim_queue_kind kind);
void sim_pq_free(struct sim_pq *q);
/* seq is the schedule order: equal times pop in increasing seq. */
void sim_pq_push(struct sim_pq *q, struct sim_event *ev, uint64_t seq);
/* Least entry, or NULL when empty. */
struct sim_event *sim_pq_pop(struct sim_pq *q);
struct sim_event *sim_pq_peek(struct sim_pq *q);
size_t sim_pq_count(const struct sim_pq *q);
/* An empty queue back to the state of a new one, so that keys may start
 * again from 0 (the wheel's monotone cursor).  SM_ESTATE if not empty. */
int sim_pq_reset(struct sim_pq *q);
const char *sim_pq_name(enum sim_queue_kind kind);
/* Parse a queue name; returns 0 or SM_EINVAL. */
int sim_pq_parse(const char *name, enum sim_queue_kind *out);

/* ---- RNG streams ------------------------------------------------------ */

/* xoshiro256** seeded by splitmix64 from (seed, stream).  Each component
 * owns one stream: sim_rng_init(&r, global_seed, component_id). */
struct sim_rng {
  struct sm_rng g; /* util/rng.h */
};
void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double sim_rng_uniform(struct sim_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Exponential with the given mean. */
double sim_rng_exp(struct sim_rng *r, double mean);
/* 1 with probability p. */
int sim_rng_bernoulli(struct sim_rng *r, double p);

/* ---- kernel ----------------------------------------------------------- */

/* Kernel options (the configuration table is sim_conf_opts). */
struct sim_conf {
  int queue;     /* enum sim_queue_kind */
  uint64_t seed; /* global seed; components derive their streams from it */
};
extern const struct sm_opt sim_conf_opts[];
extern const size_t sim_conf_nopts;

struct sim_stats {
  uint64_t events;       /* events dispatched */
  uint64_t scheduled;    /* events accepted by sim_schedule */
  uint64_t refused_past; /* sim_schedule calls refused with SM_EPAST */
  size_t peak_pending;   /* largest queue size seen */
  size_t pool_chunks;    /* event pool chunks allocated */
  size_t live;           /* events taken from the pool and not yet returned */
};

struct sim_kernel *sim_kernel_new(enum sim_queue_kind queue, uint64_t seed);
/* NULL-safe.  Pending events are returned to the pool and released. */
void sim_kernel_free(struct sim_kernel *k);

/* Register the handler for a kind (< SIM_MAX_KINDS). ctx is passed back. */
void sim_register(struct sim_kernel *k, uint16_t kind, sim_handler_fn fn,
                  void *ctx);

/* Schedule an event at absolute time t.  Returns 0, or SM_EPAST if
 * t < now (nothing is queued).  The event kind must have a handler. */
int sim_schedule(struct sim_kernel *k, sim_time_t t, uint16_t kind,
                 uint32_t target, uint16_t port, uint64_t arg, void *ptr);
/* Same, delay relative to now (never in the past). */
static inline int sim_schedule_in(struct sim_kernel *k, sim_time_t delay,
                                  uint16_t kind, uint32_t target, uint16_t port,
                                  uint64_t arg, void *ptr);

sim_time_t sim_now(const struct sim_kernel *k);
uint64_t sim_seed(const struct sim_kernel *k);
size_t sim_pending(const struct sim_kernel *k);
/* Time of the next pending event, or SIM_TIME_MAX when idle. */
sim_time_t sim_next_time(const struct sim_kernel *k);
const struct sim_stats *sim_stats(const struct sim_kernel *k);

/* Why a run returned. */
enum sim_run_status {
  SIM_RUN_IDLE,    /* no events left */
  SIM_RUN_TIME,    /* reached the time limit (events at later times remain) */
  SIM_RUN_STOPPED, /* sim_stop() was called */
  SIM_RUN_EVENTS   /* reached the event-count limit */
};

/* Run events with time <= until (SIM_TIME_MAX: until idle), at most
 * max_events of them (0: no limit).  now advances to each event run; when
 * until != SIM_TIME_MAX and the run returns for TIME or IDLE, now becomes
 * until, so the next sim_schedule_in() counts from there. */
enum sim_run_status sim_run(struct sim_kernel *k, sim_time_t until,
                            uint64_t max_events);
/* Ask the running loop to return after the current event.  Safe to call
 * from a handler or another thread (an atomic flag); sim_run clears it
 * on entry. */
void sim_stop(struct sim_kernel *k);

/* Move now forward to t with no events in between (t >= now, and no pending
 * event earlier than t); used to start a new frame at a chosen time. */
int sim_advance(struct sim_kernel *k, sim_time_t t);

/* Restart an idle kernel's clock and schedule order: now = 0 and the
 * sequence counter at 0, as a new kernel (the pool, the statistics, the
 * handlers and the digest are kept).  Returns 0, or SM_ESTATE with events
 * pending (nothing changes).  Lets each frame of a run start from the same
 * state whatever ran before it. */
int sim_kernel_reset(struct sim_kernel *k);

/* An observer called after each dispatched event with a copy of it (the
 * measurements of `bench lookahead`; NULL, the default, for none).  It
 * must not schedule. */
typedef void (*sim_observe_fn)(void *ctx, const struct sim_event *ev);
void sim_set_observer(struct sim_kernel *k, sim_observe_fn fn, void *ctx);

/* Order digest: a running 64-bit hash of (time, kind, target, port, arg) of
 * every dispatched event, for determinism tests. */
uint64_t sim_digest(const struct sim_kernel *k);

/* ---- inline ----------------------------------------------------------- */

static inline int sim_schedule_in(struct sim_kernel *k, sim_time_t delay,
                                  uint16_t kind, uint32_t target, uint16_t port,
                                  uint64_t arg, void *ptr) {
  return sim_schedule(k, sim_now(k) + delay, kind, target, port, arg, ptr);
}

#endif /* SPIKEMESH_SIM_H */
