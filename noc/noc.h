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
  int allocator;           /* switch allocator ("rr" separable round-robin, ...) */
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

/* Validates the configuration (errors name the key and the valid range). */
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

#endif /* SPIKEMESH_NOC_H */
