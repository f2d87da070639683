/*
 * place.h -- placements by name: which mesh node each group of a mapping
 * goes on.
 *
 * Part of the models/ module (prefix model_).  Pure functions of the mesh
 * size, the group count and the traffic between groups; they know nothing
 * of layers, channels or tiles (models/map.c computes the traffic and
 * calls them), and include only util/.
 *
 * Groups are numbered 0..ngroups-1, layer by layer with the input first, so
 * consecutive groups are usually connected.  Nodes are row-major ids
 * y * width + x on a width x height mesh; a placement puts each group on a
 * distinct node (ngroups <= width * height; any remaining nodes stay free).
 *
 *   rowmajor  group g on node g: rows left to right.
 *   snake     rows left to right, every odd row reversed (y = g / width),
 *             so consecutive groups are always mesh neighbours.
 *   hilbert   groups in the order of a Hilbert curve generalised to any
 *             width x height (the recursive split of place.c).  On every
 *             mesh up to 64 x 64 consecutive groups are mesh neighbours
 *             (Manhattan distance 1, no diagonal step; a test checks every
 *             size), and a run of groups fills a compact region in both
 *             dimensions, not a strip of rows.
 *   greedy    minimises the traffic-weighted hop count (model_place_hops)
 *             from the edges: a constructive placement refined by moves
 *             and swaps (model_place_greedy below).  It is never worse than
 *             the best of rowmajor, snake and hilbert for the same inputs.
 *
 * Only greedy reads the seed: the other three are fixed functions of the
 * mesh size, and greedy with one seed always gives the same nodes (integer
 * arithmetic and the project's generator only); two seeds may give
 * different nodes of different hop counts.
 */
#ifndef SPIKEMESH_MODELS_PLACE_H
#define SPIKEMESH_MODELS_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Traffic between two groups: weight = source neurons of src with a
 * synapse into dst (so weight x hops counts the hops of one spike of every
 * such neuron).  Edges with src == dst or weight 0 cost nothing wherever
 * the groups go; repeated pairs add up. */
struct model_place_edge {
  uint32_t src, dst; /* groups */
  uint64_t weight;   /* neurons */
};

/* In the order of MODEL_PLACE_CHOICES (an enum option's index). */
enum model_place_kind {
  MODEL_PLACE_K_ROWMAJOR,
  MODEL_PLACE_K_SNAKE,
  MODEL_PLACE_K_HILBERT,
  MODEL_PLACE_K_GREEDY,
  MODEL_PLACE_NKINDS
};
#define MODEL_PLACE_CHOICES "rowmajor|snake|hilbert|greedy"

#define MODEL_PLACE_MAX_SIDE 64 /* = the mesh's largest side (noc/noc.h) */

/* The kind's name ("hilbert"), or NULL for an unknown kind. */
const char *model_place_name(int kind);

/* Place ngroups groups on a width x height mesh: node[g] is group g's node
 * (row-major id), all distinct.  Errors, with node[] unspecified:
 *   SM_EINVAL  an unknown kind; width or height 0; an edge whose src or dst
 *              is not below ngroups (naming the edge's index);
 *   SM_ERANGE  a side above MODEL_PLACE_MAX_SIDE; edge weights (between
 *              distinct groups) whose total times the mesh's longest route
 *              (width-1 + height-1 hops) reaches 2^61, so that neither a
 *              hop count nor greedy's arithmetic can overflow;
 *   SM_ELIMIT  more than UINT32_MAX edges;
 *   SM_ENOFIT  ngroups > width * height (naming both numbers).
 * The edges are checked for every kind, although only greedy reads them. */
int model_place_nodes(int kind, uint64_t seed, uint32_t width, uint32_t height,
                      uint32_t ngroups, const struct model_place_edge *e,
                      size_t ne, uint32_t *node, struct sm_err *err);

/* Sum over the edges of weight x Manhattan distance between the nodes of
 * the two groups: the hops the traffic travels under XY routing.  Every
 * edge's groups must index node[] (model_place_nodes checks that); the sum
 * saturates at UINT64_MAX, which edges accepted by model_place_nodes never
 * reach. */
uint64_t model_place_hops(uint32_t width, const uint32_t *node,
                          const struct model_place_edge *e, size_t ne);

/* ---- greedy, with its budget and what it did --------------------------- */

/* The refinement's budget, in evaluations: each evaluation of a move or
 * swap counts 1, and a taken one also counts the histogram updates it
 * costs, (degree of the moved groups) / (width + height) evaluations.
 * model_place_nodes gives MODEL_PLACE_GREEDY_EVALS_PER_GROUP per group, at
 * least MODEL_PLACE_GREEDY_MIN_EVALS and at most
 * MODEL_PLACE_GREEDY_MAX_EVALS.  The schedule (annealing):
 *   warm-up   the first budget / MODEL_PLACE_GREEDY_WARM_DIV evaluations
 *             take nothing; they measure the mean worsening delta, and the
 *             temperature starts at MODEL_PLACE_GREEDY_T0_TENTHS tenths of
 *             it;
 *   cooling   until MODEL_PLACE_GREEDY_COOL_TENTHS tenths of the budget,
 *             every move that does not add hops is taken and one adding d
 *             hops with probability 2^(-d/T), T falling linearly to 0;
 *   descent   the rest takes only improvements, and stops early after
 *             MODEL_PLACE_GREEDY_STALL_PER_GROUP evaluations per group in
 *             a row (at least MODEL_PLACE_GREEDY_MIN_STALL) found none.
 * The best placement met is the result. */
#define MODEL_PLACE_GREEDY_EVALS_PER_GROUP 512
#define MODEL_PLACE_GREEDY_MIN_EVALS 65536
#define MODEL_PLACE_GREEDY_MAX_EVALS ((uint64_t)1 << 20)
#define MODEL_PLACE_GREEDY_WARM_DIV 64
#define MODEL_PLACE_GREEDY_T0_TENTHS 5
#define MODEL_PLACE_GREEDY_COOL_TENTHS 8
#define MODEL_PLACE_GREEDY_STALL_PER_GROUP 32
#define MODEL_PLACE_GREEDY_MIN_STALL 4096
/* model_place_greedy's default budget for ngroups groups. */
uint64_t model_place_greedy_budget(uint32_t ngroups);

/* The starts greedy compares, in the order ties are broken. */
enum model_place_start {
  MODEL_PLACE_START_CONSTRUCTIVE, /* groups in order, each on its best node */
  MODEL_PLACE_START_ROWMAJOR,
  MODEL_PLACE_START_SNAKE,
  MODEL_PLACE_START_HILBERT,
  MODEL_PLACE_NSTARTS
};

struct model_place_stats {
  uint64_t start_hops[MODEL_PLACE_NSTARTS]; /* hops of each start */
  int start;          /* enum model_place_start: the one refined (fewest
                         hops, ties to the earliest) */
  uint64_t evals;     /* move evaluations made (<= the budget) */
  uint64_t moves;     /* moves and swaps taken */
  uint64_t hops;      /* hops of the result */
};

/* Greedy placement with an explicit budget (above; 0: the best start as
 * it is).  The construction: groups in order, each on the free node of
 * least weighted distance to its already placed neighbours, ties to the
 * lowest node id.  The start: whichever of that, rowmajor, snake and
 * hilbert has the fewest hops.  The refinement, annealing driven by the
 * generator seeded from `seed`: each evaluation draws a connected group
 * (one with an edge) and a target node (half the time within one step of
 * the weighted median of the group's neighbours, where the group alone
 * would be best; otherwise any node) and prices the move (target free) or
 * the swap (target occupied) exactly.  The result is the best placement
 * met, so it has at most the hops of every start.  Same errors as
 * model_place_nodes; st may be NULL. */
int model_place_greedy(uint64_t seed, uint32_t width, uint32_t height,
                       uint32_t ngroups, const struct model_place_edge *e,
                       size_t ne, uint64_t budget, uint32_t *node,
                       struct model_place_stats *st, struct sm_err *err);

#endif /* SPIKEMESH_MODELS_PLACE_H */
