/*
 * pq-impl.h -- the pending-event queues, as static inline code shared by
 * pq.c (the public sim_pq_* interface) and kernel.c (whose run loop calls
 * the chosen queue directly, so push and pop inline into the loop).
 *
 *   wheel   radix-256 heap, i.e. a hierarchical timing wheel over the
 *           64-bit time: 8 levels of 256 slots.  An entry sits at level L
 *           when the highest byte in which its time differs from `cur`
 *           (the time of the last pop) is byte L, in slot (time >> 8L) &
 *           255.  Every entry of level L is earlier than every entry of
 *           level L+1, and all entries of a level-0 slot have one time, so
 *           a level-0 slot is a FIFO: ties pop in insertion order without
 *           comparing sequence numbers (equal times always share a slot).
 *           pop takes the first occupied level-0 slot; when level 0 is
 *           empty it moves `cur` to the start of the first occupied slot of
 *           the lowest occupied level and cascades that slot down.  An entry
 *           moves at most once per level (twice for delays < 16 us), always
 *           by sequential appends, and occupancy bitmaps turn the search
 *           for the next slot into a few count-trailing-zeros.  Keys must
 *           be monotone: nothing is pushed earlier than the last pop, which
 *           the kernel guarantees (scheduling in the past is refused).
 *   heap4   implicit 4-ary min-heap of (time, seq, event) entries: half the
 *           depth of a binary heap, and a node's four children share one or
 *           two cache lines.  O(log n), no monotonicity needed.
 *   binary  textbook binary heap: the baseline benchmarks compare to.
 *
 * Rejected: a binary radix heap (measured: an entry moves up to log2 of its
 * delay times, 1.4x slower than the wheel at 10^4 pending); a calendar
 * queue (resize heuristics, and it degrades on the skewed delays routers
 * produce: many events at the same few stage delays); a splay tree (pointer
 * chasing per event).  Measurements: doc/kernel.md.
 */
#ifndef SPIKEMESH_PQ_IMPL_H
#define SPIKEMESH_PQ_IMPL_H

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

/* ---- heap4 and binary ------------------------------------------------ */

struct dheap {
  struct sim_pq hdr;
  struct sim_pq_entry *a;
  size_t cap;
};

static inline void dheap_grow(struct dheap *h) {
  h->cap = h->cap ? h->cap * 2 : 1024;
  h->a = sm_xreallocarray(h->a, h->cap, sizeof *h->a);
}

static inline void heap4_push(struct dheap *h, struct sim_event *ev,
                              uint64_t seq) {
  if (h->hdr.count == h->cap)
    dheap_grow(h);
  struct sim_pq_entry e = {ev->time, seq, ev};
  size_t i = h->hdr.count++;
  while (i > 0) {
    size_t p = (i - 1) >> 2;
    if (!sim__entry_less(&e, &h->a[p]))
      break;
    h->a[i] = h->a[p];
    i = p;
  }
  h->a[i] = e;
}

static inline struct sim_event *heap4_pop(struct dheap *h) {
  if (h->hdr.count == 0)
    return NULL;
  struct sim_event *top = h->a[0].ev;
  size_t n = --h->hdr.count;
  if (n == 0)
    return top;
  struct sim_pq_entry e = h->a[n];
  struct sim_pq_entry *a = h->a;
  size_t i = 0;
  for (;;) {
    size_t c = (i << 2) + 1;
    if (c >= n)
      break;
    size_t best = c, end = c + 4 < n ? c + 4 : n;
    for (size_t j = c + 1; j < end; j++)
      if (sim__entry_less(&a[j], &a[best]))
        best = j;
    if (!sim__entry_less(&a[best], &e))
      break;
    a[i] = a[best];
    i = best;
  }
  a[i] = e;
  return top;
}

static inline struct sim_event *dheap_peek(struct dheap *h) {
  return h->hdr.count ? h->a[0].ev : NULL;
}

static inline void binary_push(struct dheap *h, struct sim_event *ev,
                               uint64_t seq) {
  if (h->hdr.count == h->cap)
    dheap_grow(h);
  size_t i = h->hdr.count++;
  h->a[i] = (struct sim_pq_entry){ev->time, seq, ev};
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!sim__entry_less(&h->a[i], &h->a[p]))
      break;
    struct sim_pq_entry t = h->a[i];
    h->a[i] = h->a[p];
    h->a[p] = t;
    i = p;
  }
}

static inline struct sim_event *binary_pop(struct dheap *h) {
  if (h->hdr.count == 0)
    return NULL;
  struct sim_event *top = h->a[0].ev;
  size_t n = --h->hdr.count;
  h->a[0] = h->a[n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && sim__entry_less(&h->a[l], &h->a[m]))
      m = l;
    if (r < n && sim__entry_less(&h->a[r], &h->a[m]))
      m = r;
    if (m == i)
      break;
    struct sim_pq_entry t = h->a[i];
    h->a[i] = h->a[m];
    h->a[m] = t;
    i = m;
  }
  return top;
}

/* ---- wheel --------------------------------------------------------- */

#define WHEEL_LEVELS 8
#define WHEEL_SLOTS 256
#define WHEEL_WORDS (WHEEL_SLOTS / 64)
/* A slot with at most this many entries is sorted straight into the bottom
 * run instead of being cascaded one level down. */
#define WHEEL_BOTTOM_MAX 48

struct wentry {
  sim_time_t time; /* ps */
  struct sim_event *ev;
};

struct wslot {
  struct wentry *a;
  uint32_t n, cap;
};

struct wheel {
  struct sim_pq hdr;
  sim_time_t cur;        /* ps; every key in the levels is >= cur */
  /* The bottom run: entries sorted by time (FIFO among equal times), all
   * earlier than bottom_end and than anything in the levels. */
  struct wentry *bot;
  uint32_t bhead, bn, bcap;
  sim_time_t bottom_end; /* ps; pushes before this go into the run */
  uint32_t level_occ;    /* bit L: level L has entries */
  uint64_t occ[WHEEL_LEVELS][WHEEL_WORDS]; /* occupied slots */
  struct wslot s[WHEEL_LEVELS][WHEEL_SLOTS];
};

static inline unsigned wheel_level(sim_time_t t, sim_time_t cur) {
  uint64_t x = t ^ cur;
  return x ? (63u - (unsigned)__builtin_clzll(x)) >> 3 : 0u;
}

static inline void wheel_put(struct wheel *w, sim_time_t t,
                             struct sim_event *ev) {
  unsigned L = wheel_level(t, w->cur);
  unsigned j = (unsigned)(t >> (8 * L)) & 255u;
  struct wslot *s = &w->s[L][j];
  uint32_t n = s->n;
  struct wentry *a = s->a;
  if (n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    a = s->a = sm_xreallocarray(a, s->cap, sizeof *a);
  }
  a[n].time = t;
  a[n].ev = ev;
  s->n = n + 1;
  if (!n) {
    w->occ[L][j >> 6] |= 1ull << (j & 63);
    w->level_occ |= 1u << L;
  }
}

/* Insert into the bottom run after every entry with time <= t. */
static inline void wheel_bottom_insert(struct wheel *w, sim_time_t t,
                                       struct sim_event *ev) {
  if (w->bn == w->bcap) {
    if (w->bhead) { /* slide down before growing */
      memmove(w->bot, w->bot + w->bhead,
              (w->bn - w->bhead) * sizeof *w->bot);
      w->bn -= w->bhead;
      w->bhead = 0;
    }
    if (w->bn == w->bcap) {
      w->bcap = w->bcap ? w->bcap * 2 : 64;
      w->bot = sm_xreallocarray(w->bot, w->bcap, sizeof *w->bot);
    }
  }
  uint32_t i = w->bn;
  while (i > w->bhead && w->bot[i - 1].time > t) {
    w->bot[i] = w->bot[i - 1];
    i--;
  }
  w->bot[i].time = t;
  w->bot[i].ev = ev;
  w->bn++;
}

static inline void wheel_push(struct wheel *w, struct sim_event *ev) {
  assert(ev->time >= w->cur);
  if (ev->time < w->bottom_end)
    wheel_bottom_insert(w, ev->time, ev);
  else
    wheel_put(w, ev->time, ev);
  w->hdr.count++;
}

/* First occupied slot of level L, which must be occupied.  No slot of a
 * level lies below cur's byte at that level, so the scan starts there. */
static inline unsigned wheel_first(const struct wheel *w, unsigned L) {
  unsigned i = ((unsigned)(w->cur >> (8 * L)) & 255u) >> 6;
  for (; i < WHEEL_WORDS; i++)
    if (w->occ[L][i])
      return i * 64 + (unsigned)__builtin_ctzll(w->occ[L][i]);
  assert(0);
  return 0;
}

static inline void wheel_unmark(struct wheel *w, unsigned L, unsigned j) {
  w->occ[L][j >> 6] &= ~(1ull << (j & 63));
  uint64_t any = 0;
  for (unsigned i = 0; i < WHEEL_WORDS; i++)
    any |= w->occ[L][i];
  if (!any)
    w->level_occ &= ~(1u << L);
}

/* Refill the empty bottom run from the first slot of the lowest occupied
 * level: a small slot (or any level-0 slot, whose entries share one time)
 * is sorted into the run; a large one is cascaded a level down first. */
static inline void wheel_refill(struct wheel *w) {
  for (;;) {
    unsigned L = (unsigned)__builtin_ctz(w->level_occ);
    unsigned j = wheel_first(w, L);
    /* cur moves to the start of slot j: the bytes above L kept, byte L set
     * to j, the bytes below zero.  Every entry of the slot is at or after
     * it, and every other entry is later than the slot's end. */
    sim_time_t hi = L == 7 ? 0 : (w->cur >> (8 * (L + 1))) << (8 * (L + 1));
    w->cur = hi | ((sim_time_t)j << (8 * L));
    struct wslot *s = &w->s[L][j];
    struct wentry *a = s->a;
    uint32_t n = s->n;
    s->n = 0;
    wheel_unmark(w, L, j);
    if (L == 0 || n <= WHEEL_BOTTOM_MAX) {
      if (w->bcap < n) {
        w->bcap = n > 64 ? n : 64;
        free(w->bot);
        w->bot = sm_xmallocarray(w->bcap, sizeof *w->bot);
      }
      w->bhead = 0;
      w->bn = 0;
      if (L == 0) {
        memcpy(w->bot, a, n * sizeof *a);
        w->bn = n;
      } else {
        for (uint32_t i = 0; i < n; i++) /* stable insertion sort */
          wheel_bottom_insert(w, a[i].time, a[i].ev);
      }
      /* The run ends just after its last entry, not at the slot's end:
       * a slot of a high level spans up to 2^56 ps, and every later push
       * before bottom_end is an insertion into the run, so a wide run
       * turned a frame of a large network (pushes spread over the whole
       * slot) quadratic.  Pushes after the last entry go to the (empty)
       * lower levels relative to cur, all later than the run. */
      w->bottom_end = w->bot[w->bn - 1].time + 1;
      if (w->bottom_end == 0) /* the last entry is at SIM_TIME_MAX */
        w->bottom_end = SIM_TIME_MAX;
      return;
    }
    /* Cascade: every entry lands in a lower level, never back here, so
     * the array can be read while others are appended to. */
    for (uint32_t i = 0; i < n; i++)
      wheel_put(w, a[i].time, a[i].ev);
  }
}

static inline struct sim_event *wheel_pop(struct wheel *w) {
  if (w->hdr.count == 0)
    return NULL;
  if (w->bhead == w->bn)
    wheel_refill(w);
  struct wentry e = w->bot[w->bhead++];
  /* The levels stay relative to the slot start set by the refill, which
   * every later push is at or after: cur only moves in wheel_refill. */
  w->hdr.count--;
  return e.ev;
}

static inline struct sim_event *wheel_peek(struct wheel *w) {
  if (w->hdr.count == 0)
    return NULL;
  if (w->bhead < w->bn)
    return w->bot[w->bhead].ev;
  /* The least entry of the first slot of the lowest level.  Refilling
   * here would move cur past the current time, and a later push may still
   * precede that slot; peek is rare in the run loop, so scan instead. */
  unsigned L = (unsigned)__builtin_ctz(w->level_occ);
  struct wslot *s = &w->s[L][wheel_first(w, L)];
  struct wentry *m = &s->a[0];
  for (uint32_t i = 1; i < s->n; i++)
    if (s->a[i].time < m->time)
      m = &s->a[i];
  return m->ev;
}

static inline void wheel_destroy(struct wheel *w) {
  for (int L = 0; L < WHEEL_LEVELS; L++)
    for (int j = 0; j < WHEEL_SLOTS; j++)
      free(w->s[L][j].a);
  free(w->bot);
  free(w);
}

/* ---- dispatch by kind -------------------------------------------------- */

/* The wheel keeps ties in insertion order by construction and ignores
 * seq; the heaps compare it. */
static inline void pq_push(struct sim_pq *q, struct sim_event *ev,
                           uint64_t seq) {
  switch (q->kind) {
  case SIM_QUEUE_WHEEL:
    wheel_push((struct wheel *)q, ev);
    break;
  case SIM_QUEUE_HEAP4:
    heap4_push((struct dheap *)q, ev, seq);
    break;
  default:
    binary_push((struct dheap *)q, ev, seq);
    break;
  }
}

static inline struct sim_event *pq_pop(struct sim_pq *q) {
  switch (q->kind) {
  case SIM_QUEUE_WHEEL:
    return wheel_pop((struct wheel *)q);
  case SIM_QUEUE_HEAP4:
    return heap4_pop((struct dheap *)q);
  default:
    return binary_pop((struct dheap *)q);
  }
}

static inline struct sim_event *pq_peek(struct sim_pq *q) {
  if (q->kind == SIM_QUEUE_WHEEL)
    return wheel_peek((struct wheel *)q);
  return dheap_peek((struct dheap *)q);
}

#endif /* SPIKEMESH_PQ_IMPL_H */
