/*
 * sim-int.h -- kernel internals shared by the sim/ sources only.
 */
#ifndef SPIKEMESH_SIM_INT_H
#define SPIKEMESH_SIM_INT_H

#include "sim/sim.h"

/* A queue entry keeps the key beside the pointer so that comparisons never
 * touch the event record (one cache line holds 2.6 entries). */
struct sim_pq_entry {
  sim_time_t time; /* ps */
  uint64_t seq;
  struct sim_event *ev;
};

static inline int sim__entry_less(const struct sim_pq_entry *a,
                                  const struct sim_pq_entry *b) {
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Every queue starts with this header; kind selects the code (pq-impl.h). */
struct sim_pq {
  size_t count;
  enum sim_queue_kind kind;
};

#endif /* SPIKEMESH_SIM_INT_H */
