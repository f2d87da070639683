/*
 * noc-int.h -- mesh internals shared by the noc/ sources only.
 *
 * Every per-port array is indexed by node * NOC_NDIRS + dir, so a router's
 * five inputs (and five outputs) are adjacent in memory.  Flits never live
 * in a heap of their own: a flit is a 24-byte slot copied from one input
 * ring to the next; packets are indices into one pool.
 */
#ifndef SPIKEMESH_NOC_INT_H
#define SPIKEMESH_NOC_INT_H

#include "noc/noc.h"

#define NOC_NONE UINT32_MAX
#define NOC_NOLOCK 0xff

/* Event kinds, offsets from kind_base: X(name, handler).  The list gives
 * the offsets (NOC_EV_*), the handlers' prototypes and their registration
 * (noc_mesh_new expands it), so a kind cannot be listed without its
 * handler nor handled without being listed. */
#define NOC_EVENT_KINDS(X)                                                     \
  X(TICK, noc__on_tick)     /* run the allocators of a bucket of routers */  \
  X(DELIVER, noc__on_deliver) /* hand a packet copy to the callback */      \
  X(CYCLE, noc__on_cycle)   /* PER_CYCLE reference: every router allocates */

enum {
#define NOC__KIND(name, fn) NOC_EV_##name,
  NOC_EVENT_KINDS(NOC__KIND)
#undef NOC__KIND
      NOC_EV_COUNT
};
_Static_assert(NOC_EV_COUNT <= NOC_NKINDS,
               "the mesh's event kinds fit in the NOC_NKINDS it reserves");

#define NOC__HANDLER(name, fn)                                                 \
  void fn(struct sim_kernel *k, const struct sim_event *ev, void *ctx);
NOC_EVENT_KINDS(NOC__HANDLER)
#undef NOC__HANDLER

/* A packet copy: what travels, what is delivered.  Tree copies address a
 * range of a shared, sorted destination list; others carry one dst.  Its
 * hop count is not stored: routes are minimal, so a copy delivered at node
 * d from src crossed noc_distance(src, d) links. */
struct noc_pkt {
  uint64_t payload;
  sim_time_t t_send;     /* ps */
  sim_time_t t_avail;    /* ps, first clock edge at or after t_send */
  sim_time_t t_inject;   /* ps, head flit left the interface */
  sim_time_t blocked;    /* ps */
  uint32_t src, dst;     /* dst: NOC_NONE for a tree copy */
  uint32_t dl;           /* destination list (tree) or NOC_NONE */
  uint32_t off, len;     /* range in the list (tree) */
  uint32_t flits;
  uint32_t next;         /* interface queue or free list */
};

/* A shared destination list of a tree packet, refcounted by its copies. */
struct noc_dlist {
  uint32_t *v;
  uint32_t cap, refs, next;
};

/* A flit in an input buffer. */
struct noc_slot {
  sim_time_t ta;    /* ps, arrival in this buffer */
  sim_time_t ready; /* ps, earliest allocation (after buffer write and route
                       computation, and after the flit ahead left) */
  uint32_t pkt;
  uint32_t dst;     /* the packet's dst (NOC_NONE for a tree copy): routing
                       a unicast head needs no packet record */
  uint8_t head, tail;
};

struct noc_in {
  sim_time_t busy_until; /* ps, next time this input may feed the crossbar */
  uint32_t head, count;  /* ring of depth slots */
  uint8_t routed;        /* the head packet's route is computed */
  uint8_t pending;       /* mask of outputs the head flit still needs */
  uint8_t lock_dir;      /* wormhole: output of the packet in progress */
  uint8_t split;         /* the head copy splits into several (tree) */
  /* statistics */
  uint64_t flits;
  sim_time_t blocked_ps;  /* ps */
  sim_time_t occ_ps;      /* flit x ps integral of occupancy */
  uint32_t peak;          /* flits */
};

/* Branch ranges of a tree flit at the front of an input (cold: kept apart
 * so that struct noc_in stays small). */
struct noc_branches {
  uint32_t off[NOC_NDIRS], len[NOC_NDIRS];
};

struct noc_out {
  sim_time_t busy_until; /* ps */
  uint32_t down;         /* downstream input index, NOC_NONE at an edge */
  uint32_t cr_head, cr_count; /* ring of credit-usable times (ps) */
  uint8_t lock;          /* input holding the output (wormhole) */
  uint8_t rr;            /* round-robin pointer */
  uint8_t starved;       /* a request found no credit at all: wake on return */
  uint8_t exists;
  /* statistics */
  uint64_t flits, packets;
  sim_time_t stall_ps;   /* ps */
};

/* A source network interface. */
struct noc_ni {
  uint32_t qhead, qtail; /* queue of packet copies */
  uint32_t sent;         /* flits of the queue head already injected */
  uint32_t cr_head, cr_count;
  sim_time_t busy_until; /* ps */
};

/* The routers that allocate at one time t: one kernel event per distinct
 * time, not per router.  Buckets are found by a hash of t. */
#define NOC_BK_HASH 256
struct noc_bucket {
  sim_time_t t;  /* ps */
  uint32_t next; /* hash chain or free list */
  uint32_t n, cap;
  uint8_t hashed; /* in the hash (merging on) */
  uint32_t *v;   /* router ids */
};

/* Log-linear latency histogram: values < 256 exact, then 128 sub-buckets
 * per power of two. */
#define NOC_HIST_BUCKETS (256 + 56 * 128)
struct noc_hist {
  uint64_t n;
  uint64_t b[NOC_HIST_BUCKETS];
};
void noc__hist_add(struct noc_hist *h, uint64_t v);
/* Nearest-rank percentile q in [0, 1]: the bucket's lower bound. */
uint64_t noc__hist_pct(const struct noc_hist *h, double q);

struct noc_mesh {
  struct sim_kernel *k;
  struct noc_conf c;
  uint32_t w, h, n, depth;
  noc_route_fn route;
  int x_first;
  noc_alloc_fn alloc;      /* output arbiter of the switch allocator */
  uint16_t kind_tick, kind_deliver, kind_cycle;
  noc_deliver_fn deliver;
  void *ctx;
  noc_observe_fn observe;
  void *octx;
  /* delays, ps */
  sim_time_t d_buffer, d_route, d_alloc, d_xbar, d_link, d_inject, d_eject;
  sim_time_t cycle;    /* ps, flit period of a port */
  sim_time_t clock;    /* ps, clock edge spacing (clocked), else 1 */
  /* routers */
  struct noc_in *in;
  struct noc_branches *br; /* [n*5] */
  uint8_t *nonempty;       /* [n] mask of inputs holding flits */
  struct noc_out *out;
  struct noc_slot *slots;  /* [n*5*depth] */
  sim_time_t *cr;          /* [n*5*depth] output credit rings, ps */
  struct noc_ni *ni;
  sim_time_t *nicr;        /* [n*depth] interface credit rings, ps */
  sim_time_t *alloc_at;    /* [n] ps, when the router allocates next (its
                              entry in that time's bucket is the valid one) */
  struct noc_bucket *bk;
  uint32_t nbk, bk_free;
  uint32_t heads[NOC_BK_HASH];
  int sched;               /* enum noc_sched */
  int ticking;             /* PER_CYCLE: a CYCLE event is pending */
  /* pools */
  struct noc_pkt *pk;
  uint32_t npk, pk_free, live;
  struct noc_dlist *dls;
  uint32_t ndl, dl_free;
  uint32_t *scratch;
  uint64_t *keys;
  uint32_t nscratch;
  uint64_t queued;         /* packet copies in interface queues */
  /* statistics */
  struct noc_totals tot;
  uint64_t hops_deliv;     /* hops summed over deliveries */
  sim_time_t t0;           /* ps, stats epoch */
  struct noc_hist lat;
};

#endif /* SPIKEMESH_NOC_INT_H */
