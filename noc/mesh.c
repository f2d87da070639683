/*
 * mesh.c -- the mesh of input-queued routers: network interfaces, buffers,
 * route computation, switch allocation, crossbar, links and credits.
 *
 * Model.  A flit written into an input buffer at time ta may be granted an
 * output at ready = ta + t_buffer (+ t_route for a head flit) + t_alloc,
 * and not before the flit ahead of it has left: the grant is the end of
 * allocation.  The router's switch allocator runs at the times at which
 * some request can be granted; a grant at time t needs the output free
 * (one flit per flit period), not held by another packet (wormhole), and a
 * credit usable at t.  The flit then leaves its buffer at t, crosses the
 * crossbar (t_xbar) and the link (t_link) and is written downstream at
 * t + t_xbar + t_link.  Its credit travels back over the link and is usable
 * upstream t_link after the flit left the downstream buffer.  Every delay
 * is pipelined: a port passes one flit per flit period (one cycle when
 * clocked).  Deciding at the start of allocation instead (leaving the
 * buffer t_alloc later) lengthens the credit loop by t_alloc: with the
 * clocked preset and 8-flit buffers uniform traffic then saturated at
 * 0.347 instead of 0.367.
 *
 * Events.  One event kind does the work: TICK(t), which runs the switch
 * allocators of every router due at time t.  A router due at t sits in
 * t's bucket (found by a hash of t); a bucket costs one kernel event
 * whatever the number of routers in it, so in clocked timing a busy cycle
 * costs one event, not one per router.  A router has one valid due time
 * (alloc_at[r]); an entry superseded by an earlier request is recognised
 * by that time and skipped.  Nothing else needs an event: a granted flit
 * is written straight into the downstream ring stamped with its arrival
 * time (its slot was reserved by the credit, and flits from one upstream
 * arrive in order), and the downstream router is made due at the flit's
 * ready time only when the flit is at the front of its buffer.  A credit
 * is a time pushed into the upstream output's credit ring; it makes the
 * upstream due only when that had a request with no credit at all
 * (starved).  The source interface commits flits the same way as soon as
 * a credit exists.  Deliveries are one DELIVER event per packet copy when
 * a deliver callback is set (the contract wants it called at that time);
 * without one the delivery is recorded at the tail's ejection grant,
 * stamped with the ejection time.
 *
 * Alternatives kept, with identical results (noc_set_sched): one kernel
 * event per router allocation (38 events per cycle at 0.1 load on 8x8,
 * against 7.4 merged, and slower at every load measured), and the naive
 * cycle-driven model where every router allocates at every clock edge: it
 * cannot miss a wake-up, so the tests use it as the oracle of this
 * schedule; it is as fast when most routers work every cycle and up to 2-3x
 * slower when activity is sparse (doc/noc.md).  Rejected: one event per
 * pipeline stage (5-6 events per flit-hop for the same timing, since
 * nothing can intervene between the stages of an uncontended flit); credit
 * events (a credit changes nothing until the upstream allocates, at a time
 * it computes itself).
 */
#include "noc/noc-int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const struct sm_opt noc_conf_opts[] = {
    SM_OPT_U(struct noc_conf, width, "noc.width", "8", "routers", 1,
             NOC_MAX_SIDE, "mesh width (x)"),
    SM_OPT_U(struct noc_conf, height, "noc.height", "8", "routers", 1,
             NOC_MAX_SIDE, "mesh height (y)"),
    SM_OPT_U(struct noc_conf, buffer_depth, "noc.buffer_depth", "8", "flits",
             1, 4096, "input buffer depth per port"),
    SM_OPT_E(struct noc_conf, routing, "noc.routing", "xy", NOC_ROUTING_CHOICES,
             "routing function: xy or yx dimension order"),
    SM_OPT_E(struct noc_conf, allocator, "noc.allocator", "rr",
             NOC_ALLOC_CHOICES, NOC_ALLOC_HELP),
    SM_OPT_E(struct noc_conf, timing, "noc.timing", "async", "async|clocked",
             "async: delays in ps; clocked: delays in cycles of clock_ps"),
    SM_OPT_U(struct noc_conf, clock_ps, "noc.clock_ps", "1000", "ps", 1, 1e9,
             "clock period; also the cycle of injection rates"),
    SM_OPT_U(struct noc_conf, t_buffer, "noc.t_buffer", "50", "ps/cycles", 0,
             1e9, "buffer write delay"),
    SM_OPT_U(struct noc_conf, t_route, "noc.t_route", "100", "ps/cycles", 0,
             1e9, "route computation delay (head flits)"),
    SM_OPT_U(struct noc_conf, t_alloc, "noc.t_alloc", "150", "ps/cycles", 0,
             1e9, "switch (and VC) allocation delay"),
    SM_OPT_U(struct noc_conf, t_xbar, "noc.t_xbar", "100", "ps/cycles", 0, 1e9,
             "crossbar traversal delay"),
    SM_OPT_U(struct noc_conf, t_link, "noc.t_link", "200", "ps/cycles", 0, 1e9,
             "router-to-router link delay (credits return over it too)"),
    SM_OPT_U(struct noc_conf, t_inject, "noc.t_inject", "100", "ps/cycles", 0,
             1e9, "interface-to-router link delay"),
    SM_OPT_U(struct noc_conf, t_eject, "noc.t_eject", "100", "ps/cycles", 0,
             1e9, "router-to-interface link delay"),
    SM_OPT_E(struct noc_conf, multicast, "noc.multicast", "tree",
             "unicast|tree",
             "unicast: one copy per destination; tree: routers replicate"),
};
const size_t noc_conf_nopts = SM_ARRAY_LEN(noc_conf_opts);

#define DELAY_MAX 1000000000ull
#define NOC_MAX_SLOTS (1ull << 25) /* buffered flits: 1 GiB of slots+credits */

int noc_conf_check(const struct noc_conf *c, struct sm_err *err) {
  if (c->width < 1 || c->width > NOC_MAX_SIDE)
    return sm_fail(err, SM_ERANGE,
                   "noc.width: expected 1..%d routers, got %llu", NOC_MAX_SIDE,
                   (unsigned long long)c->width);
  if (c->height < 1 || c->height > NOC_MAX_SIDE)
    return sm_fail(err, SM_ERANGE,
                   "noc.height: expected 1..%d routers, got %llu",
                   NOC_MAX_SIDE, (unsigned long long)c->height);
  if (c->buffer_depth < 1 || c->buffer_depth > 4096)
    return sm_fail(err, SM_ERANGE,
                   "noc.buffer_depth: expected 1..4096 flits, got %llu",
                   (unsigned long long)c->buffer_depth);
  if ((uint64_t)c->width * c->height * NOC_NDIRS * c->buffer_depth >
      NOC_MAX_SLOTS)
    return sm_fail(err, SM_ELIMIT,
                   "noc.buffer_depth: %llu flits x %llu ports exceeds the "
                   "limit of %llu buffered flits",
                   (unsigned long long)c->buffer_depth,
                   (unsigned long long)(c->width * c->height * NOC_NDIRS),
                   (unsigned long long)NOC_MAX_SLOTS);
  if (!noc_routing_get(c->routing))
    return sm_fail(err, SM_EINVAL, "noc.routing: expected one of %s",
                   NOC_ROUTING_CHOICES);
  if (!noc_allocator_get(c->allocator))
    return sm_fail(err, SM_EINVAL, "noc.allocator: expected one of %s",
                   NOC_ALLOC_CHOICES);
  if (c->timing != NOC_ASYNC && c->timing != NOC_CLOCKED)
    return sm_fail(err, SM_EINVAL, "noc.timing: expected async or clocked");
  if (c->multicast != NOC_UNICAST && c->multicast != NOC_TREE)
    return sm_fail(err, SM_EINVAL, "noc.multicast: expected unicast or tree");
  if (c->clock_ps < 1 || c->clock_ps > DELAY_MAX)
    return sm_fail(err, SM_ERANGE, "noc.clock_ps: expected 1..%llu ps, got %llu",
                   DELAY_MAX, (unsigned long long)c->clock_ps);
  const struct {
    const char *key;
    uint64_t v;
  } d[] = {{"noc.t_buffer", c->t_buffer}, {"noc.t_route", c->t_route},
           {"noc.t_alloc", c->t_alloc},   {"noc.t_xbar", c->t_xbar},
           {"noc.t_link", c->t_link},     {"noc.t_inject", c->t_inject},
           {"noc.t_eject", c->t_eject}};
  for (size_t i = 0; i < SM_ARRAY_LEN(d); i++)
    if (d[i].v > DELAY_MAX)
      return sm_fail(err, SM_ERANGE, "%s: expected 0..%llu %s, got %llu",
                     d[i].key, DELAY_MAX,
                     c->timing == NOC_CLOCKED ? "cycles" : "ps",
                     (unsigned long long)d[i].v);
  return 0;
}

sim_time_t noc_flit_period(const struct noc_conf *c) {
  if (c->timing == NOC_CLOCKED)
    return c->clock_ps;
  sim_time_t p = SM_MAX(c->t_alloc, SM_MAX(c->t_xbar, c->t_link));
  return p ? p : 1;
}

sim_time_t noc_zero_load_ps(const struct noc_conf *c, uint32_t hops,
                            uint32_t flits) {
  sim_time_t u = c->timing == NOC_CLOCKED ? c->clock_ps : 1;
  sim_time_t router = c->t_buffer + c->t_route + c->t_alloc + c->t_xbar;
  sim_time_t t = (c->t_inject + c->t_eject) * u;
  if (hops == 0 && flits == 0)
    return t;
  t += ((sim_time_t)(hops + 1) * router + (sim_time_t)hops * c->t_link) * u;
  if (flits > 1)
    t += (sim_time_t)(flits - 1) * noc_flit_period(c);
  return t;
}

/* ---- pools ------------------------------------------------------------ */

static uint32_t pkt_new(struct noc_mesh *m) {
  if (m->pk_free == NOC_NONE) {
    uint32_t old = m->npk, n = old ? old * 2 : 1024;
    m->pk = sm_xreallocarray(m->pk, n, sizeof *m->pk);
    for (uint32_t i = n; i-- > old;) {
      m->pk[i].next = m->pk_free;
      m->pk_free = i;
    }
    m->npk = n;
  }
  uint32_t id = m->pk_free;
  m->pk_free = m->pk[id].next;
  m->live++;
  return id;
}

static void dlist_release(struct noc_mesh *m, uint32_t dl) {
  struct noc_dlist *d = &m->dls[dl];
  assert(d->refs > 0);
  if (--d->refs == 0) {
    d->next = m->dl_free;
    m->dl_free = dl;
  }
}

static void pkt_free(struct noc_mesh *m, uint32_t id) {
  if (m->pk[id].dl != NOC_NONE)
    dlist_release(m, m->pk[id].dl);
  m->pk[id].next = m->pk_free;
  m->pk_free = id;
  assert(m->live > 0);
  m->live--;
}

static uint32_t dlist_new(struct noc_mesh *m, const uint32_t *v, uint32_t n) {
  if (m->dl_free == NOC_NONE) {
    uint32_t old = m->ndl, cap = old ? old * 2 : 64;
    m->dls = sm_xreallocarray(m->dls, cap, sizeof *m->dls);
    for (uint32_t i = cap; i-- > old;) {
      m->dls[i].v = NULL;
      m->dls[i].cap = 0;
      m->dls[i].refs = 0;
      m->dls[i].next = m->dl_free;
      m->dl_free = i;
    }
    m->ndl = cap;
  }
  uint32_t id = m->dl_free;
  struct noc_dlist *d = &m->dls[id];
  m->dl_free = d->next;
  if (d->cap < n) {
    d->v = sm_xreallocarray(d->v, n, sizeof *d->v);
    d->cap = n;
  }
  memcpy(d->v, v, n * sizeof *v);
  d->refs = 1;
  return id;
}

/* ---- time helpers ----------------------------------------------------- */

static inline sim_time_t tmax(sim_time_t a, sim_time_t b) {
  return a > b ? a : b;
}

static inline uint32_t bk_hash(sim_time_t t) {
  return (uint32_t)((t * 0x9e3779b97f4a7c15ull) >> 56);
}

static uint32_t bucket_new(struct noc_mesh *m) {
  if (m->bk_free == NOC_NONE) {
    uint32_t old = m->nbk, n = old ? old * 2 : 64;
    m->bk = sm_xreallocarray(m->bk, n, sizeof *m->bk);
    for (uint32_t i = n; i-- > old;) {
      m->bk[i].v = NULL;
      m->bk[i].cap = 0;
      m->bk[i].next = m->bk_free;
      m->bk_free = i;
    }
    m->nbk = n;
  }
  uint32_t b = m->bk_free;
  m->bk_free = m->bk[b].next;
  return b;
}

/* Ask router r to allocate at time t (no later than any pending request):
 * put it in t's bucket, creating the bucket and its one event if needed.
 * A router already due earlier ignores the request (it recomputes its next
 * time when it runs); one due later is superseded (its old entry is
 * skipped because alloc_at no longer matches). */
static inline void request(struct noc_mesh *m, uint32_t r, sim_time_t t) {
  if (t >= m->alloc_at[r] || m->sched == NOC_SCHED_PER_CYCLE)
    return;
  m->alloc_at[r] = t;
  int merge = m->sched == NOC_SCHED_MERGED;
  uint32_t h = bk_hash(t), b = NOC_NONE;
  if (merge) {
    b = m->heads[h];
    while (b != NOC_NONE && m->bk[b].t != t)
      b = m->bk[b].next;
  }
  if (b == NOC_NONE) {
    b = bucket_new(m);
    struct noc_bucket *nb = &m->bk[b];
    nb->t = t;
    nb->n = 0;
    nb->hashed = (uint8_t)merge;
    if (merge) {
      nb->next = m->heads[h];
      m->heads[h] = b;
    }
    int rc = sim_schedule(m->k, t, m->kind_tick, 0, 0, b, NULL);
    (void)rc;
    assert(rc == 0);
  }
  struct noc_bucket *bk = &m->bk[b];
  if (bk->n == bk->cap) {
    bk->cap = bk->cap ? bk->cap * 2 : 16;
    bk->v = sm_xreallocarray(bk->v, bk->cap, sizeof *bk->v);
  }
  bk->v[bk->n++] = r;
}

static inline uint32_t ring_next(uint32_t i, uint32_t depth) {
  return ++i == depth ? 0 : i;
}

/* ---- delivery --------------------------------------------------------- */

static void finish(struct noc_mesh *m, uint32_t id, uint32_t node,
                   sim_time_t te) {
  struct noc_pkt *p = &m->pk[id];
  sim_time_t lat = te - p->t_send;
  m->tot.deliveries++;
  m->tot.flits_delivered += p->flits;
  m->tot.latency_sum += lat;
  if (lat > m->tot.latency_max)
    m->tot.latency_max = lat;
  uint32_t hops = noc_distance(m, p->src, node);
  m->hops_deliv += hops;
  noc__hist_add(&m->lat, lat);
  if (m->observe) {
    struct noc_packet_record r = {
        .src = p->src,
        .dst = node,
        .hops = hops,
        .flits = p->flits,
        .payload = p->payload,
        .t_send = p->t_send,
        .t_inject = p->t_inject,
        .t_eject = te,
        .blocked_ps = p->blocked,
    };
    m->observe(m->octx, &r);
  }
  pkt_free(m, id);
}

static void eject(struct noc_mesh *m, uint32_t id, uint32_t node,
                  sim_time_t te) {
  if (m->deliver) {
    int rc = sim_schedule(m->k, te, m->kind_deliver, node, 0, id, NULL);
    (void)rc;
    assert(rc == 0);
  } else {
    finish(m, id, node, te);
  }
}

void noc__on_deliver(struct sim_kernel *k, const struct sim_event *ev,
                     void *ctx) {
  struct noc_mesh *m = ctx;
  uint32_t id = (uint32_t)ev->arg;
  uint64_t payload = m->pk[id].payload;
  uint32_t src = m->pk[id].src;
  sim_time_t ts = m->pk[id].t_send;
  finish(m, id, ev->target, sim_now(k));
  m->deliver(m->ctx, ev->target, payload, src, ts);
}

/* ---- buffers and credits ---------------------------------------------- */

/* Write a flit into input ii, arriving at ta (its slot is reserved). */
static inline void push_slot(struct noc_mesh *m, uint32_t ii, sim_time_t ta,
                             uint32_t pkt, uint32_t dst, uint8_t head,
                             uint8_t tail) {
  struct noc_in *in = &m->in[ii];
  assert(in->count < m->depth);
  uint32_t idx = in->head + in->count;
  if (idx >= m->depth)
    idx -= m->depth;
  struct noc_slot *s = &m->slots[(size_t)ii * m->depth + idx];
  s->ta = ta;
  s->ready = ta + m->d_buffer + (head ? m->d_route : 0) + m->d_alloc;
  s->pkt = pkt;
  s->dst = dst;
  s->head = head;
  s->tail = tail;
  if (in->count++ == 0) {
    m->nonempty[ii / NOC_NDIRS] |= (uint8_t)(1u << (ii % NOC_NDIRS));
    s->ready = tmax(s->ready, in->busy_until);
    request(m, ii / NOC_NDIRS, s->ready);
  }
}

/* Commit queued flits of node's interface while credits exist. */
static void ni_pump(struct noc_mesh *m, uint32_t node) {
  struct noc_ni *ni = &m->ni[node];
  sim_time_t *ring = &m->nicr[(size_t)node * m->depth];
  while (ni->qhead != NOC_NONE && ni->cr_count) {
    struct noc_pkt *p = &m->pk[ni->qhead];
    sim_time_t ct = ring[ni->cr_head];
    ni->cr_head = ring_next(ni->cr_head, m->depth);
    ni->cr_count--;
    sim_time_t ts = tmax(tmax(ct, ni->busy_until), p->t_avail);
    uint8_t head = ni->sent == 0, tail = ni->sent + 1 == p->flits;
    if (head)
      p->t_inject = ts;
    ni->busy_until = ts + m->cycle;
    uint32_t id = ni->qhead;
    if (tail) {
      ni->sent = 0;
      ni->qhead = p->next;
      if (ni->qhead == NOC_NONE)
        ni->qtail = NOC_NONE;
      m->queued--;
    } else {
      ni->sent++;
    }
    push_slot(m, node * NOC_NDIRS + NOC_LOCAL, ts + m->d_inject, id, p->dst,
              head, tail);
  }
}

static const uint8_t opposite[NOC_NDIRS] = {NOC_S, NOC_W, NOC_N, NOC_E,
                                            NOC_LOCAL};

/* The slot of input ii was freed; its credit is usable upstream at tc. */
static inline void credit_return(struct noc_mesh *m, uint32_t ii,
                                 sim_time_t tc) {
  uint32_t node = ii / NOC_NDIRS, dir = ii % NOC_NDIRS;
  if (dir == NOC_LOCAL) {
    struct noc_ni *ni = &m->ni[node];
    uint32_t idx = ni->cr_head + ni->cr_count;
    if (idx >= m->depth)
      idx -= m->depth;
    m->nicr[(size_t)node * m->depth + idx] = tc;
    ni->cr_count++;
    if (ni->qhead != NOC_NONE)
      ni_pump(m, node);
    return;
  }
  uint32_t up;
  switch (dir) {
  case NOC_N: up = node - m->w; break;
  case NOC_E: up = node + 1; break;
  case NOC_S: up = node + m->w; break;
  default: up = node - 1; break;
  }
  uint32_t uo = up * NOC_NDIRS + opposite[dir];
  struct noc_out *out = &m->out[uo];
  assert(out->down == ii && out->cr_count < m->depth);
  uint32_t idx = out->cr_head + out->cr_count;
  if (idx >= m->depth)
    idx -= m->depth;
  m->cr[(size_t)uo * m->depth + idx] = tc;
  out->cr_count++;
  if (out->starved) {
    out->starved = 0;
    request(m, up, tc);
  }
}

/* ---- the router --------------------------------------------------------- */

static void route_head(struct noc_mesh *m, uint32_t r, uint32_t i,
                       struct noc_in *in, const struct noc_slot *s) {
  in->routed = 1;
  in->split = 0;
  if (s->dst != NOC_NONE) {
    enum noc_dir d = m->route(m->w, m->h, r, s->dst);
    in->pending = (uint8_t)(1u << d);
    in->lock_dir = (uint8_t)d;
    return;
  }
  const struct noc_pkt *p = &m->pk[s->pkt];
  const uint32_t *v = m->dls[p->dl].v;
  struct noc_branches *br = &m->br[r * NOC_NDIRS + i];
  uint8_t pend = 0, nb = 0;
  for (uint32_t j = p->off; j < p->off + p->len; j++) {
    enum noc_dir d = m->route(m->w, m->h, r, v[j]);
    if (!(pend & (1u << d))) {
      pend |= (uint8_t)(1u << d);
      br->off[d] = j;
      br->len[d] = 1;
      in->lock_dir = (uint8_t)d;
      nb++;
    } else {
      /* the tree order keeps each branch contiguous */
      assert(br->off[d] + br->len[d] == j);
      br->len[d]++;
    }
  }
  in->pending = pend;
  in->split = nb > 1;
}

static void dequeue(struct noc_mesh *m, uint32_t ii, sim_time_t t) {
  struct noc_in *in = &m->in[ii];
  struct noc_slot *ring = &m->slots[(size_t)ii * m->depth];
  struct noc_slot *s = &ring[in->head];
  sim_time_t tl = t; /* leaves the buffer into the crossbar */
  /* Occupancy only grows between departures, so its peak is seen here. */
  uint32_t phys = in->count, j = in->head + in->count - 1;
  if (j >= m->depth)
    j -= m->depth;
  while (phys > 1 && ring[j].ta > t) {
    phys--;
    j = j ? j - 1 : m->depth - 1;
  }
  if (phys > in->peak)
    in->peak = phys;
  sim_time_t since = tmax(s->ta, m->t0);
  if (tl > since)
    in->occ_ps += tl - since;
  in->flits++;
  if (in->split)
    pkt_free(m, s->pkt);
  if (s->tail)
    in->routed = 0;
  else
    in->pending = (uint8_t)(1u << in->lock_dir);
  in->head = ring_next(in->head, m->depth);
  if (--in->count) {
    struct noc_slot *ns = &ring[in->head];
    ns->ready = tmax(ns->ready, in->busy_until);
  } else {
    m->nonempty[ii / NOC_NDIRS] &= (uint8_t)~(1u << (ii % NOC_NDIRS));
  }
  uint32_t dir = ii % NOC_NDIRS;
  credit_return(m, ii, tl + (dir == NOC_LOCAL ? m->d_inject : m->d_link));
}

static void grant(struct noc_mesh *m, uint32_t r, uint32_t i, uint32_t o,
                  sim_time_t t, sim_time_t ct) {
  uint32_t ii = r * NOC_NDIRS + i;
  struct noc_in *in = &m->in[ii];
  struct noc_out *out = &m->out[r * NOC_NDIRS + o];
  struct noc_slot *s = &m->slots[(size_t)ii * m->depth + in->head];
  sim_time_t blocked = t - s->ready;
  uint32_t id = s->pkt;
  if (in->split) {
    uint32_t c = pkt_new(m); /* may move m->pk */
    m->pk[c] = m->pk[id];
    m->pk[c].off = m->br[ii].off[o];
    m->pk[c].len = m->br[ii].len[o];
    m->dls[m->pk[c].dl].refs++;
    id = c;
  }
  if (blocked)
    m->pk[id].blocked += blocked;
  in->blocked_ps += blocked;
  m->tot.blocked_ps += blocked;
  if (ct > s->ready)
    out->stall_ps += SM_MIN(ct - s->ready, blocked);
  in->pending &= (uint8_t)~(1u << o);
  in->busy_until = t + m->cycle;
  out->busy_until = t + m->cycle;
  out->flits++;
  if (s->head)
    out->packets++;
  sim_time_t tx = t + m->d_xbar;
  if (o == NOC_LOCAL) {
    if (s->tail)
      eject(m, id, r, tx + m->d_eject);
  } else {
    out->cr_head = ring_next(out->cr_head, m->depth);
    out->cr_count--;
    if (s->head)
      m->tot.hops++;
    push_slot(m, out->down, tx + m->d_link, id, s->dst, s->head, s->tail);
  }
  if (s->tail)
    out->lock = NOC_NOLOCK;
  else if (s->head)
    out->lock = (uint8_t)i;
  if (!in->pending)
    dequeue(m, ii, t);
}

/* Separable allocation at time t.  With one virtual channel per port the
 * input stage is trivial (each input's front flit requests its outputs);
 * each output then arbitrates among its requesters.  A tree flit may win
 * several outputs in one allocation (the crossbar replicates it). */
static void allocate(struct noc_mesh *m, uint32_t r, sim_time_t t) {
  uint32_t req[NOC_NDIRS] = {0};
  sim_time_t next = SIM_TIME_MAX;
  struct noc_in *ins = &m->in[r * NOC_NDIRS];
  for (uint32_t mask = m->nonempty[r]; mask; mask &= mask - 1) {
    uint32_t i = (uint32_t)__builtin_ctz(mask);
    struct noc_in *in = &ins[i];
    const struct noc_slot *s =
        &m->slots[(size_t)(r * NOC_NDIRS + i) * m->depth + in->head];
    sim_time_t te = tmax(s->ready, in->busy_until);
    if (te > t) {
      next = SM_MIN(next, te);
      continue;
    }
    if (!in->routed)
      route_head(m, r, i, in, s);
    for (uint32_t p = in->pending; p; p &= p - 1)
      req[__builtin_ctz(p)] |= 1u << i;
  }
  for (uint32_t o = 0; o < NOC_NDIRS; o++) {
    uint32_t all = req[o];
    if (!all)
      continue;
    struct noc_out *out = &m->out[r * NOC_NDIRS + o];
    if (out->busy_until > t) {
      next = SM_MIN(next, out->busy_until);
      continue;
    }
    uint32_t cand = all;
    if (out->lock != NOC_NOLOCK) {
      cand &= 1u << out->lock;
      if (!cand)
        continue; /* the owner's tail releases it; we run then */
    }
    sim_time_t ct = 0;
    if (o != NOC_LOCAL) {
      if (!out->cr_count) {
        out->starved = 1;
        continue;
      }
      ct = m->cr[(size_t)(r * NOC_NDIRS + o) * m->depth + out->cr_head];
      if (ct > t) {
        next = SM_MIN(next, ct);
        continue;
      }
    }
    uint32_t win = m->alloc(m, r, out, cand);
    grant(m, r, win, o, t, ct);
    if (all & ~(1u << win))
      next = SM_MIN(next, out->busy_until);
  }
  /* Inputs whose front flit changed wake at its ready time. */
  for (uint32_t mask = m->nonempty[r]; mask; mask &= mask - 1) {
    uint32_t i = (uint32_t)__builtin_ctz(mask);
    struct noc_in *in = &ins[i];
    const struct noc_slot *s =
        &m->slots[(size_t)(r * NOC_NDIRS + i) * m->depth + in->head];
    sim_time_t te = tmax(s->ready, in->busy_until);
    if (te > t)
      next = SM_MIN(next, te);
  }
  if (next != SIM_TIME_MAX)
    request(m, r, next);
}

void noc__on_tick(struct sim_kernel *k, const struct sim_event *ev,
                  void *ctx) {
  (void)k;
  struct noc_mesh *m = ctx;
  uint32_t b = (uint32_t)ev->arg;
  sim_time_t t = ev->time;
  assert(m->bk[b].t == t);
  /* unlink first: requests for t made while it runs open a new bucket */
  if (m->bk[b].hashed) {
    uint32_t *pp = &m->heads[bk_hash(t)];
    while (*pp != b)
      pp = &m->bk[*pp].next;
    *pp = m->bk[b].next;
  }
  for (uint32_t i = 0; i < m->bk[b].n; i++) { /* m->bk may move */
    uint32_t r = m->bk[b].v[i];
    if (m->alloc_at[r] != t)
      continue; /* superseded by an earlier request */
    m->alloc_at[r] = SIM_TIME_MAX;
    allocate(m, r, t);
  }
  m->bk[b].next = m->bk_free;
  m->bk_free = b;
}

/* The naive reference: at every clock edge while anything is in flight,
 * every router allocates, due or not (allocate() grants only what is
 * eligible at t, so running it needlessly changes nothing). */
void noc__on_cycle(struct sim_kernel *k, const struct sim_event *ev,
                   void *ctx) {
  struct noc_mesh *m = ctx;
  sim_time_t t = ev->time;
  for (uint32_t r = 0; r < m->n; r++)
    allocate(m, r, t);
  if (m->live) {
    int rc = sim_schedule(k, t + m->clock, m->kind_cycle, 0, 0, 0, NULL);
    (void)rc;
    assert(rc == 0);
  } else {
    m->ticking = 0;
  }
}

/* ---- construction ----------------------------------------------------- */

int noc_mesh_new(struct sim_kernel *k, const struct noc_conf *c,
                 uint16_t kind_base, noc_deliver_fn deliver, void *ctx,
                 struct noc_mesh **out, struct sm_err *err) {
  *out = NULL;
  int rc = noc_conf_check(c, err);
  if (rc)
    return rc;
  if ((unsigned)kind_base + NOC_NKINDS > SIM_MAX_KINDS)
    return sm_fail(err, SM_ERANGE,
                   "noc: event kinds %u..%u exceed the kernel's limit of %d "
                   "kinds (0..%d)",
                   kind_base, kind_base + NOC_NKINDS - 1, SIM_MAX_KINDS,
                   SIM_MAX_KINDS - 1);
  struct noc_mesh *m = sm_xcalloc(1, sizeof *m);
  m->k = k;
  m->c = *c;
  m->w = (uint32_t)c->width;
  m->h = (uint32_t)c->height;
  m->n = m->w * m->h;
  m->depth = (uint32_t)c->buffer_depth;
  const struct noc_routing *rt = noc_routing_get(c->routing);
  m->route = rt->fn;
  m->x_first = rt->x_first;
  m->alloc = noc_allocator_get(c->allocator)->fn;
  m->kind_tick = kind_base + NOC_EV_TICK;
  m->kind_cycle = kind_base + NOC_EV_CYCLE;
  m->kind_deliver = kind_base + NOC_EV_DELIVER;
  m->deliver = deliver;
  m->ctx = ctx;
  sim_time_t u = c->timing == NOC_CLOCKED ? c->clock_ps : 1;
  m->clock = u;
  m->d_buffer = c->t_buffer * u;
  m->d_route = c->t_route * u;
  m->d_alloc = c->t_alloc * u;
  m->d_xbar = c->t_xbar * u;
  m->d_link = c->t_link * u;
  m->d_inject = c->t_inject * u;
  m->d_eject = c->t_eject * u;
  m->cycle = noc_flit_period(c);
  size_t np = (size_t)m->n * NOC_NDIRS;
  m->in = sm_xcalloc(np, sizeof *m->in);
  m->br = sm_xcalloc(np, sizeof *m->br);
  m->nonempty = sm_xcalloc(m->n, 1);
  m->out = sm_xcalloc(np, sizeof *m->out);
  m->slots = sm_xcalloc(np * m->depth, sizeof *m->slots);
  m->cr = sm_xcalloc(np * m->depth, sizeof *m->cr);
  m->ni = sm_xcalloc(m->n, sizeof *m->ni);
  m->nicr = sm_xcalloc((size_t)m->n * m->depth, sizeof *m->nicr);
  m->alloc_at = sm_xmallocarray(m->n, sizeof *m->alloc_at);
  for (uint32_t r = 0; r < m->n; r++) {
    uint32_t x = r % m->w, y = r / m->w;
    m->alloc_at[r] = SIM_TIME_MAX;
    m->ni[r].qhead = m->ni[r].qtail = NOC_NONE;
    m->ni[r].cr_count = m->depth;
    for (uint32_t d = 0; d < NOC_NDIRS; d++) {
      struct noc_out *o = &m->out[r * NOC_NDIRS + d];
      o->lock = NOC_NOLOCK;
      o->down = NOC_NONE;
      o->cr_count = m->depth;
      uint32_t nb = NOC_NONE;
      if (d == NOC_N && y > 0)
        nb = r - m->w;
      else if (d == NOC_E && x + 1 < m->w)
        nb = r + 1;
      else if (d == NOC_S && y + 1 < m->h)
        nb = r + m->w;
      else if (d == NOC_W && x > 0)
        nb = r - 1;
      if (nb != NOC_NONE)
        o->down = nb * NOC_NDIRS + opposite[d];
      o->exists = d == NOC_LOCAL || nb != NOC_NONE;
    }
  }
  m->pk_free = NOC_NONE;
  m->dl_free = NOC_NONE;
  m->bk_free = NOC_NONE;
  m->sched = NOC_SCHED_MERGED;
  for (uint32_t i = 0; i < NOC_BK_HASH; i++)
    m->heads[i] = NOC_NONE;
  m->t0 = sim_now(k);
#define NOC__REGISTER(name, fn)                                                \
  sim_register(k, (uint16_t)(kind_base + NOC_EV_##name), fn, m);
  NOC_EVENT_KINDS(NOC__REGISTER)
#undef NOC__REGISTER
  *out = m;
  return 0;
}

void noc_mesh_free(struct noc_mesh *m) {
  if (!m)
    return;
  for (uint32_t i = 0; i < m->ndl; i++)
    free(m->dls[i].v);
  free(m->dls);
  for (uint32_t i = 0; i < m->nbk; i++)
    free(m->bk[i].v);
  free(m->bk);
  free(m->pk);
  free(m->scratch);
  free(m->keys);
  free(m->in);
  free(m->br);
  free(m->nonempty);
  free(m->out);
  free(m->slots);
  free(m->cr);
  free(m->ni);
  free(m->nicr);
  free(m->alloc_at);
  free(m);
}

int noc_set_sched(struct noc_mesh *m, enum noc_sched s) {
  if ((unsigned)s > NOC_SCHED_PER_CYCLE ||
      (s == NOC_SCHED_PER_CYCLE && m->c.timing != NOC_CLOCKED))
    return SM_EINVAL;
  m->sched = (int)s;
  return 0;
}

void noc_set_observer(struct noc_mesh *m, noc_observe_fn fn, void *ctx) {
  m->observe = fn;
  m->octx = ctx;
}

/* ---- sending ---------------------------------------------------------- */

/* Tree order: destinations sorted so that, at every router of the
 * dimension-order tree from src, the destinations below each output form
 * one contiguous range.  Key: (side along the first dimension, distance
 * along it, side along the second, distance along it), node id last (so
 * duplicates are adjacent and the order is total). */
static uint64_t tree_key(const struct noc_mesh *m, uint32_t src,
                         uint32_t d) {
  int64_t sx = src % m->w, sy = src / m->w, x = d % m->w, y = d / m->w;
  int64_t p = x - sx, q = y - sy;
  if (!m->x_first) {
    p = y - sy;
    q = x - sx;
  }
  uint64_t pg = p == 0 ? 0 : p > 0 ? 1 : 2, ap = (uint64_t)(p < 0 ? -p : p);
  uint64_t qg = q == 0 ? 0 : q < 0 ? 1 : 2, aq = (uint64_t)(q < 0 ? -q : q);
  return ((((pg * 64 + ap) * 4 + qg) * 64 + aq) << 12) | d;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void ni_enqueue(struct noc_mesh *m, uint32_t node, uint32_t id) {
  struct noc_ni *ni = &m->ni[node];
  m->pk[id].next = NOC_NONE;
  if (ni->qtail == NOC_NONE)
    ni->qhead = id;
  else
    m->pk[ni->qtail].next = id;
  ni->qtail = id;
  m->queued++;
}

static uint32_t new_copy(struct noc_mesh *m, uint32_t src, uint32_t flits,
                         uint64_t payload, sim_time_t now, sim_time_t tav) {
  uint32_t id = pkt_new(m);
  struct noc_pkt *p = &m->pk[id];
  memset(p, 0, sizeof *p);
  p->payload = payload;
  p->t_send = now;
  p->t_avail = tav;
  p->t_inject = tav;
  p->src = src;
  p->dst = NOC_NONE;
  p->dl = NOC_NONE;
  p->flits = flits;
  m->tot.packets_sent++;
  return id;
}

int noc_send(struct noc_mesh *m, uint32_t src, const uint32_t *dst,
             uint32_t ndst, uint32_t flits, uint64_t payload) {
  if (!ndst || !dst || src >= m->n || !flits)
    return SM_EINVAL;
  for (uint32_t i = 0; i < ndst; i++)
    if (dst[i] >= m->n)
      return SM_EINVAL;
  sim_time_t now = sim_now(m->k);
  sim_time_t tav = (now + m->clock - 1) / m->clock * m->clock;
  if (m->sched == NOC_SCHED_PER_CYCLE && !m->ticking) {
    m->ticking = 1;
    int rc = sim_schedule(m->k, tav, m->kind_cycle, 0, 0, 0, NULL);
    (void)rc;
    assert(rc == 0);
  }
  if (ndst == 1) {
    if (dst[0] == src) {
      uint32_t id = new_copy(m, src, flits, payload, now, tav);
      eject(m, id, src, tav + m->d_inject + m->d_eject);
      return 0;
    }
    uint32_t id = new_copy(m, src, flits, payload, now, tav);
    m->pk[id].dst = dst[0];
    ni_enqueue(m, src, id);
    ni_pump(m, src);
    return 0;
  }
  if (ndst > m->nscratch) {
    m->scratch = sm_xreallocarray(m->scratch, ndst, sizeof *m->scratch);
    m->keys = sm_xreallocarray(m->keys, ndst, sizeof *m->keys);
    m->nscratch = ndst;
  }
  for (uint32_t i = 0; i < ndst; i++)
    m->keys[i] = tree_key(m, src, dst[i]);
  qsort(m->keys, ndst, sizeof *m->keys, cmp_u64);
  uint32_t n = 0;
  for (uint32_t i = 0; i < ndst; i++)
    if (i == 0 || m->keys[i] != m->keys[i - 1])
      m->scratch[n++] = (uint32_t)(m->keys[i] & 0xfff);
  uint32_t *v = m->scratch;
  if (v[0] == src) { /* the least key: delivered by the local loop-back */
    uint32_t id = new_copy(m, src, flits, payload, now, tav);
    eject(m, id, src, tav + m->d_inject + m->d_eject);
    v++;
    n--;
  }
  if (!n)
    return 0;
  if (m->c.multicast == NOC_UNICAST || flits > 1 || n == 1) {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t id = new_copy(m, src, flits, payload, now, tav);
      m->pk[id].dst = v[i];
      ni_enqueue(m, src, id);
    }
  } else {
    uint32_t id = new_copy(m, src, flits, payload, now, tav);
    uint32_t dl = dlist_new(m, v, n);
    m->pk[id].dl = dl;
    m->pk[id].len = n;
    ni_enqueue(m, src, id);
  }
  ni_pump(m, src);
  return 0;
}

int noc_idle(const struct noc_mesh *m) { return m->live == 0; }

int noc_mesh_reset(struct noc_mesh *m) {
  if (m->live || m->queued || m->ticking)
    return SM_ESTATE;
  size_t np = (size_t)m->n * NOC_NDIRS;
  for (size_t i = 0; i < np; i++) {
    struct noc_in *in = &m->in[i];
    if (in->count)
      return SM_ESTATE;
  }
  /* the routers: every time back to 0, rings at their first slot, the
   * round-robin pointers where a new mesh has them; the statistics are
   * kept (noc_reset_stats clears them) */
  for (size_t i = 0; i < np; i++) {
    struct noc_in *in = &m->in[i];
    in->busy_until = 0;
    in->head = 0;
    in->routed = 0;
    in->pending = 0;
    in->lock_dir = 0;
    in->split = 0;
    struct noc_out *o = &m->out[i];
    o->busy_until = 0;
    o->cr_head = 0;
    o->cr_count = m->depth;
    o->lock = NOC_NOLOCK;
    o->rr = 0;
    o->starved = 0;
  }
  memset(m->br, 0, np * sizeof *m->br);
  memset(m->nonempty, 0, m->n);
  memset(m->slots, 0, np * m->depth * sizeof *m->slots);
  memset(m->cr, 0, np * m->depth * sizeof *m->cr);
  memset(m->nicr, 0, (size_t)m->n * m->depth * sizeof *m->nicr);
  for (uint32_t r = 0; r < m->n; r++) {
    m->alloc_at[r] = SIM_TIME_MAX;
    struct noc_ni *ni = &m->ni[r];
    ni->qhead = ni->qtail = NOC_NONE;
    ni->sent = 0;
    ni->cr_head = 0;
    ni->cr_count = m->depth;
    ni->busy_until = 0;
  }
  /* the pools' free lists in index order, as they grow in a new mesh */
  m->pk_free = NOC_NONE;
  for (uint32_t i = m->npk; i-- > 0;) {
    m->pk[i].next = m->pk_free;
    m->pk_free = i;
  }
  m->dl_free = NOC_NONE;
  for (uint32_t i = m->ndl; i-- > 0;) {
    m->dls[i].refs = 0;
    m->dls[i].next = m->dl_free;
    m->dl_free = i;
  }
  m->bk_free = NOC_NONE;
  for (uint32_t i = m->nbk; i-- > 0;) {
    m->bk[i].n = 0;
    m->bk[i].hashed = 0;
    m->bk[i].next = m->bk_free;
    m->bk_free = i;
  }
  for (uint32_t i = 0; i < NOC_BK_HASH; i++)
    m->heads[i] = NOC_NONE;
  m->t0 = 0;
  return 0;
}
uint32_t noc_nodes(const struct noc_mesh *m) { return m->n; }
const struct noc_conf *noc_mesh_conf(const struct noc_mesh *m) {
  return &m->c;
}
uint64_t noc_queued(const struct noc_mesh *m) { return m->queued; }

uint32_t noc_event_node(const struct sim_event *ev, uint16_t kind_base) {
  if (ev->kind == (uint16_t)(kind_base + NOC_EV_DELIVER))
    return ev->target;
  return UINT32_MAX;
}
