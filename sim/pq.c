/*
 * pq.c -- the public sim_pq_* interface over the queues of pq-impl.h.
 */
#include "sim/pq-impl.h"

#include <string.h>

static const char *const pq_names[SIM_QUEUE_NKINDS] = {"wheel", "heap4",
                                                       "binary"};

const char *sim_pq_name(enum sim_queue_kind kind) {
  return (unsigned)kind < SIM_QUEUE_NKINDS ? pq_names[kind] : "?";
}

int sim_pq_parse(const char *name, enum sim_queue_kind *out) {
  for (int i = 0; i < SIM_QUEUE_NKINDS; i++)
    if (!strcmp(name, pq_names[i])) {
      *out = (enum sim_queue_kind)i;
      return 0;
    }
  return SM_EINVAL;
}

struct sim_pq *sim_pq_new(enum sim_queue_kind kind) {
  struct sim_pq *q;
  if (kind == SIM_QUEUE_WHEEL) {
    q = sm_xcalloc(1, sizeof(struct wheel));
  } else {
    if (kind != SIM_QUEUE_BINARY)
      kind = SIM_QUEUE_HEAP4;
    q = sm_xcalloc(1, sizeof(struct dheap));
  }
  q->kind = kind;
  return q;
}

void sim_pq_free(struct sim_pq *q) {
  if (!q)
    return;
  if (q->kind == SIM_QUEUE_WHEEL) {
    wheel_destroy((struct wheel *)q);
  } else {
    free(((struct dheap *)q)->a);
    free(q);
  }
}

int sim_pq_reset(struct sim_pq *q) {
  if (q->count)
    return SM_ESTATE;
  if (q->kind == SIM_QUEUE_WHEEL) {
    struct wheel *w = (struct wheel *)q;
    /* empty: every slot is unmarked and the run consumed */
    w->cur = 0;
    w->bhead = w->bn = 0;
    w->bottom_end = 0;
    w->level_occ = 0;
    memset(w->occ, 0, sizeof w->occ);
  }
  return 0;
}

void sim_pq_push(struct sim_pq *q, struct sim_event *ev, uint64_t seq) {
  pq_push(q, ev, seq);
}
struct sim_event *sim_pq_pop(struct sim_pq *q) { return pq_pop(q); }
struct sim_event *sim_pq_peek(struct sim_pq *q) { return pq_peek(q); }
size_t sim_pq_count(const struct sim_pq *q) { return q->count; }
