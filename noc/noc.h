/*
 * noc.h -- the mesh network-on-chip: W x H routers, one core port each.
 *
 * CONTRACT (the parts the rest of the program relies on; the
 * implementation may add to it but not change it):
 *
 *  - A mesh lives on a caller's sim kernel and uses the event kinds
 *    [kind_base, kind_base + NOC_NKINDS).  It never calls sim_run itself.
 *  - Nodes are numbered row-major: node = y * width + x, (0,0) top-left,
 *    north is y-1, east is x+1.
 *  - noc_send() hands a packet to the network interface of `src` at the
 *    current simulated time.  The interface queue at the source is
 *    unbounded (cores never block), and the time spent in it is counted.
 *    The packet goes to every node in dst[0..ndst) (a destination set:
 *    unicast mode sends one copy per destination from the source
 *    interface; tree mode sends one packet that routers replicate where
 *    the dimension-order paths split).  A destination equal to src is
 *    delivered through the local port without entering the mesh (0 hops).
 *  - When a packet's flits have all left the network at a destination,
 *    the mesh calls deliver(ctx, node, payload, src, t_send) once for that
 *    destination, from inside one of its event handlers, at that time.
 *  - Hops are counted per link traversal (router to router), per packet
 *    copy: a tree packet that splits counts each branch's links once.
 *  - No packet is ever dropped: flow control is credit based.
 *  - Hot paths allocate nothing after warm-up (pooled packets/flits).
 */
#ifndef SPIKEMESH_NOC_H
#define SPIKEMESH_NOC_H

#include <stdint.h>

#include "sim/sim.h"
#include "util/conf.h"
#include "util/util.h"

#define NOC_MAX_SIDE 64
#define NOC_NKINDS 8 /* event kinds a mesh reserves from kind_base */

enum noc_dir { NOC_N, NOC_E, NOC_S, NOC_W, NOC_LOCAL, NOC_NDIRS };
enum noc_timing { NOC_ASYNC, NOC_CLOCKED };
enum noc_multicast { NOC_UNICAST, NOC_TREE };

/* Options (table: noc_conf_opts; keys "noc.*").  Delays are ps in async
 * timing and whole cycles of clock_ps in clocked timing. */
struct noc_conf {
  uint64_t width, height;  /* routers */
  uint64_t buffer_depth;   /* flits per input port */
  int routing;             /* index into the routing registry ("xy", "yx") */
  int allocator;           /* index into the switch allocator registry
                              ("rr", "oldest", "fixed") */
  int timing;              /* enum noc_timing */
  uint64_t clock_ps;       /* ps per cycle (clocked timing; also the unit of
                              injection rates in flits/node/cycle) */
  uint64_t t_buffer;       /* buffer write: ps or cycles */
  uint64_t t_route;        /* route computation */
  uint64_t t_alloc;        /* switch (and VC) allocation */
  uint64_t t_xbar;         /* crossbar traversal */
  uint64_t t_link;         /* link traversal */
  uint64_t t_inject;       /* network interface to router */
  uint64_t t_eject;        /* router to network interface */
  int multicast;           /* enum noc_multicast */
};
extern const struct sm_opt noc_conf_opts[];
extern const size_t noc_conf_nopts;

/* Called once per destination when a packet has fully arrived there. */
typedef void (*noc_deliver_fn)(void *ctx, uint32_t node, uint64_t payload,
                               uint32_t src, sim_time_t t_send);

struct noc_mesh;

/* Validates the configuration (errors name the key and the valid range);
 * kinds past the kernel's (kind_base + NOC_NKINDS > SIM_MAX_KINDS) are
 * SM_ERANGE naming the kinds and the limit. */
int noc_mesh_new(struct sim_kernel *k, const struct noc_conf *c,
                 uint16_t kind_base, noc_deliver_fn deliver, void *ctx,
                 struct noc_mesh **out, struct sm_err *err);
void noc_mesh_free(struct noc_mesh *m); /* NULL-safe */

/* Send a packet of `flits` flits (spikes: 1) from src to the destination
 * set at the current time.  Returns 0 or SM_EINVAL for a node out of range
 * or an empty set. */
int noc_send(struct noc_mesh *m, uint32_t src, const uint32_t *dst,
             uint32_t ndst, uint32_t flits, uint64_t payload);

/* 1 when no packet is queued or in flight anywhere. */
int noc_idle(const struct noc_mesh *m);

/* Put an idle mesh back in the state of a new one, for a kernel whose
 * clock restarted at 0 (sim_kernel_reset): every router's and interface's
 * times, rings, locks and round-robin pointers, the pools' free lists and
 * the statistics epoch.  The statistics themselves are kept.  Returns 0,
 * or SM_ESTATE when a packet is queued or in flight (nothing changes). */
int noc_mesh_reset(struct noc_mesh *m);

/* Totals since creation or the last noc_reset_stats(). */
struct noc_totals {
  uint64_t packets_sent;      /* noc_send calls' packets (unicast: copies) */
  uint64_t deliveries;        /* deliver() calls */
  uint64_t flits_delivered;
  uint64_t hops;              /* link traversals, summed over packet copies */
  uint64_t blocked_ps;        /* time flits waited for allocation or credit */
  sim_time_t latency_sum;     /* ps, send to delivery, over deliveries */
  sim_time_t latency_max;     /* ps */
};
void noc_totals(const struct noc_mesh *m, struct noc_totals *out);
void noc_reset_stats(struct noc_mesh *m);

uint32_t noc_nodes(const struct noc_mesh *m);
/* Hop count of the dimension-order path between two nodes. */
uint32_t noc_distance(const struct noc_mesh *m, uint32_t a, uint32_t b);
/* Link traversals (hops) one packet from src to the n destinations dst
 * costs on this mesh: with tree multicast the directed links of the union
 * of its routes (copies share the links before they split), with unicast
 * the sum of the routes.  What noc_totals() counts for it. */
uint64_t noc_route_links(const struct noc_mesh *m, uint32_t src,
                         const uint32_t *dst, uint32_t n);

/* ==== Additions to the contract (implementation-defined parts) ======== */

/* Routing registry: pure functions, chosen by name (noc.routing).  The
 * index of an entry is the value of struct noc_conf.routing, so the order
 * here is the order of NOC_ROUTING_CHOICES. */
#define NOC_ROUTING_CHOICES "xy|yx"

/* Output direction at node cur for a packet to dst on a w x h mesh
 * (NOC_LOCAL when cur == dst).  Pure: no state, no side effects. */
typedef enum noc_dir (*noc_route_fn)(uint32_t w, uint32_t h, uint32_t cur,
                                     uint32_t dst);
struct noc_routing {
  const char *name;
  noc_route_fn fn;
  int x_first; /* 1: the X dimension is resolved first (orders tree sets) */
  const char *help;
};
size_t noc_routing_count(void);
const struct noc_routing *noc_routing_get(int index); /* NULL if out of range */
const struct noc_routing *noc_routing_find(const char *name); /* NULL if unknown */
const char *noc_dir_name(enum noc_dir d); /* "N", "E", "S", "W", "L" */

/* Switch allocator registry (noc.allocator).  Each output of a router
 * arbitrates among the inputs requesting it with the allocator chosen by
 * name.  One list, X(ID, name, function, summary) separated by S, gives the
 * enum (whose value is struct noc_conf.allocator and the index of the
 * entry), the option's choices (NOC_ALLOC_CHOICES) and help (NOC_ALLOC_HELP)
 * and the table in noc/alloc.c, where the functions are defined. */
#define NOC_ALLOCATORS(X, S)                                                   \
  X(RR, "rr", alloc_rr, "separable round-robin")                              \
  S X(OLDEST, "oldest", alloc_oldest, "oldest-first")                         \
  S X(FIXED, "fixed", alloc_fixed, "fixed priority")

enum {
#define NOC__ALLOC_ID(id, name, fn, summary) NOC_ALLOC_##id,
  NOC_ALLOCATORS(NOC__ALLOC_ID, )
#undef NOC__ALLOC_ID
      NOC_ALLOC_COUNT
};
#define NOC__ALLOC_NAME(id, name, fn, summary) name
#define NOC__ALLOC_SUMMARY(id, name, fn, summary) summary
#define NOC_ALLOC_CHOICES NOC_ALLOCATORS(NOC__ALLOC_NAME, "|")
#define NOC_ALLOC_HELP                                                         \
  "switch allocator: " NOC_ALLOCATORS(NOC__ALLOC_SUMMARY, ", ")

struct noc_out;
/* The winning input (0..NOC_NDIRS-1) among the requesting inputs of output
 * `out` of router r, a non-empty mask cand of input directions (the
 * output is free and has a credit).  May update the output's arbitration
 * state (the round-robin pointer); nothing else. */
typedef uint32_t (*noc_alloc_fn)(struct noc_mesh *m, uint32_t r,
                                 struct noc_out *out, uint32_t cand);
struct noc_allocator {
  const char *name;
  noc_alloc_fn fn;
  const char *help;
};
size_t noc_allocator_count(void);
const struct noc_allocator *noc_allocator_get(int index); /* NULL if out of range */
const struct noc_allocator *noc_allocator_find(const char *name); /* NULL if unknown */

/* Checks a configuration as noc_mesh_new does (errors name the key). */
int noc_conf_check(const struct noc_conf *c, struct sm_err *err);

/* Zero-load latency in ps of a packet of `flits` flits over `hops` links
 * when nothing else is in the network and it is sent on a clock edge:
 *   t_inject + (hops+1)(t_buffer+t_route+t_alloc+t_xbar) + hops*t_link
 *   + t_eject + (flits-1)*cycle
 * (delays in ps, or cycles x clock_ps when clocked; `cycle` is the per-port
 * flit period, noc_flit_period).  hops = 0 with src == dst is the local
 * loop-back: t_inject + t_eject. */
sim_time_t noc_zero_load_ps(const struct noc_conf *c, uint32_t hops,
                            uint32_t flits);
/* ps between two flits through one port: clock_ps when clocked, else
 * max(t_alloc, t_xbar, t_link, 1 ps). */
sim_time_t noc_flit_period(const struct noc_conf *c);

/* Per-packet observer: one call per delivered packet copy, NULL by default
 * (a single predictable branch per delivery when unset).  Without a
 * deliver callback it runs inside a router's allocation, when the tail is
 * granted the ejection port (t_eject is then in the near future): it may
 * record, not call back into the mesh. */
struct noc_packet_record {
  uint32_t src, dst;
  uint32_t hops;       /* links traversed by this copy */
  uint32_t flits;
  uint64_t payload;
  sim_time_t t_send;   /* ps, noc_send() */
  sim_time_t t_inject; /* ps, head flit left the source interface */
  sim_time_t t_eject;  /* ps, tail flit reached the destination interface */
  sim_time_t blocked_ps; /* ps, summed over the copy's flits and routers */
};
typedef void (*noc_observe_fn)(void *ctx, const struct noc_packet_record *r);
void noc_set_observer(struct noc_mesh *m, noc_observe_fn fn, void *ctx);

/* How router allocations are scheduled; the results are the same, only
 * the cost differs (the alternatives are references and benchmark
 * baselines):
 *   MERGED      routers due at the same time share one kernel event (the
 *               default);
 *   PER_ROUTER  every router allocation is its own kernel event;
 *   PER_CYCLE   clocked timing only: every router allocates at every clock
 *               edge while anything is in flight, the naive cycle-driven
 *               model; it cannot miss a wake-up, which makes it the oracle
 *               for the event-driven schedule.
 * Set before the first noc_send.  Returns 0, or SM_EINVAL for PER_CYCLE
 * in async timing. */
enum noc_sched { NOC_SCHED_MERGED, NOC_SCHED_PER_ROUTER, NOC_SCHED_PER_CYCLE };
#define NOC_SCHED_CHOICES "merged|router|cycle"
int noc_set_sched(struct noc_mesh *m, enum noc_sched s);

/* Per output link (node, dir); dir NOC_LOCAL is the ejection link.  For the
 * recorder: one row per (node, dir). */
struct noc_link_stats {
  int exists;            /* 0 for a mesh edge (no neighbour) */
  uint64_t flits;        /* flits carried */
  uint64_t packets;      /* head flits carried */
  sim_time_t busy_ps;    /* ps, flits x flit period */
  double utilization;    /* busy_ps / elapsed, 0..1 */
  sim_time_t credit_stall_ps; /* ps a ready flit waited for a credit here */
};
/* Per input port (node, dir); dir NOC_LOCAL is the injection port. */
struct noc_port_stats {
  int exists;
  uint64_t flits;          /* flits that left this buffer */
  sim_time_t blocked_ps;   /* ps, ready flits waiting (lost allocation,
                              busy output or no credit) */
  uint32_t peak_occupancy; /* flits physically in the buffer, maximum */
  double mean_occupancy;   /* flits, time average over the elapsed time */
};
/* 0, or SM_EINVAL for a node or direction out of range. */
int noc_link_stats(const struct noc_mesh *m, uint32_t node, enum noc_dir dir,
                   struct noc_link_stats *out);
int noc_port_stats(const struct noc_mesh *m, uint32_t node, enum noc_dir dir,
                   struct noc_port_stats *out);
/* Sums over all routers for one direction. */
struct noc_dir_stats {
  uint64_t flits_out;      /* flits sent on outputs of this direction */
  uint64_t flits_in;       /* flits that left input buffers of this direction */
  sim_time_t blocked_ps;   /* ps, at inputs of this direction */
  double max_utilization;  /* busiest output link of this direction */
};
void noc_dir_stats(const struct noc_mesh *m, enum noc_dir dir,
                   struct noc_dir_stats *out);
/* Latency over deliveries since the last reset.  Percentiles come from a
 * log-linear histogram (exact below 256 ps, else within 1/128). */
struct noc_latency {
  uint64_t count;
  double mean_ps;
  sim_time_t p50_ps, p99_ps, max_ps;
  double hops_mean;
};
void noc_latency_stats(const struct noc_mesh *m, struct noc_latency *out);
/* ps since creation or the last noc_reset_stats(). */
sim_time_t noc_stats_elapsed(const struct noc_mesh *m);
const struct noc_conf *noc_mesh_conf(const struct noc_mesh *m);
/* Packets waiting in source interfaces (not yet fully injected). */
uint64_t noc_queued(const struct noc_mesh *m);

/* ==== Synthetic traffic (`spikemesh noc`) ============================== */

#define NOC_PATTERN_CHOICES "uniform|transpose|bitcomp|hotspot|neighbor"
enum noc_pattern {
  NOC_UNIFORM,   /* any other node, uniformly */
  NOC_TRANSPOSE, /* (x,y) -> (y,x); square meshes; the diagonal is silent */
  NOC_BITCOMP,   /* (x,y) -> (W-1-x, H-1-y); a centre node is silent */
  NOC_HOTSPOT,   /* hotspot_fraction to hotspot_node, the rest uniform */
  NOC_NEIGHBOR   /* one of the up to 4 mesh neighbours, uniformly */
};

/* Options (table: noc_traffic_conf_opts; keys "traffic.*"). */
struct noc_traffic_conf {
  int pattern;                 /* enum noc_pattern */
  char rates[SM_CONF_STRLEN];  /* flits/node/cycle: "0.1", "0.1,0.2" or
                                  "lo:hi:step" */
  uint64_t packet_flits;       /* flits per packet */
  uint64_t warmup;             /* cycles */
  uint64_t measure;            /* cycles */
  uint64_t drain;              /* cycles, at most, for measured packets */
  uint64_t hotspot_node;       /* node */
  double hotspot_fraction;     /* of packets, 0..1 */
  int schedule;                /* enum noc_sched: how these runs schedule
                                  allocations (results are identical) */
};
extern const struct sm_opt noc_traffic_conf_opts[];
extern const size_t noc_traffic_conf_nopts;

/* Parse traffic.rates into rates[0..*n) (at most max). */
int noc_traffic_parse_rates(const char *text, double *rates, size_t max,
                            size_t *n, struct sm_err *err);

/* One point of a sweep.  Rates are flits/node/cycle over the nodes the
 * pattern makes inject (active nodes); latencies are cycles of clock_ps. */
struct noc_traffic_result {
  double rate;          /* nominal offered load */
  uint32_t active;      /* nodes that inject */
  double offered;       /* flits generated in the window / active / cycles */
  double accepted;      /* flits ejected in the window / active / cycles */
  uint64_t measured;    /* packets generated in the measurement window */
  uint64_t measured_delivered; /* of those, delivered by the drain's end */
  double lat_mean, lat_p50, lat_p99, lat_max; /* cycles, measured packets */
  double zero_load_mean; /* cycles, formula over the same packets */
  double hops_mean;
  double max_link_util;  /* busiest link during the window, 0..1 */
  uint64_t dir_flits[NOC_NDIRS];   /* flits sent on outputs of each
                                      direction during the window */
  double dir_max_util[NOC_NDIRS];  /* busiest output of each direction */
  double dir_blocked[NOC_NDIRS];   /* cycles flits waited at inputs of
                                      each direction, per flit leaving them */
  uint64_t gen_flits;    /* whole run */
  uint64_t deliv_flits;  /* whole run, after the final drain */
  int drained;           /* every measured packet delivered within drain */
  int idle;              /* network empty after injection stopped */
  int64_t backlog_growth; /* packets: source queues at the window's end
                             minus at its start */
  int saturated;         /* accepted < 0.95 offered, backlog growth above
                            max(0.5% of measured, 2 x active), or !drained */
  uint64_t cycles;       /* simulated, all phases */
  uint64_t events;       /* kernel events dispatched */
  double wall_s;         /* seconds of wall time, all phases */
  double cpu_s;          /* seconds of process CPU time, all phases (other
                            processes sharing the cores inflate wall_s) */
  uint64_t digest;       /* hash of the multiset of deliveries
                            (src, dst, t_eject, hops) */
};

/* Check a traffic configuration against a mesh (errors name the key). */
int noc_traffic_check(const struct noc_conf *nc,
                      const struct noc_traffic_conf *tc, struct sm_err *err);

/* Run one offered load on a fresh kernel and mesh (event kinds 0..
 * NOC_NKINDS; the generator uses NOC_NKINDS), scheduled as `sched`. */
int noc_traffic_run(const struct noc_conf *nc,
                    const struct noc_traffic_conf *tc, double rate,
                    enum sim_queue_kind queue, uint64_t seed,
                    enum noc_sched sched, struct noc_traffic_result *out,
                    struct sm_err *err);

/* The node an event of a mesh whose kinds start at kind_base happens at
 * (a delivery's node), or UINT32_MAX when it has none (an allocation tick
 * of a bucket of routers, a clock cycle of every router) or is not one of
 * the mesh's kinds. */
uint32_t noc_event_node(const struct sim_event *ev, uint16_t kind_base);

#endif /* SPIKEMESH_NOC_H */
