/*
 * place.c -- placements by name (see place.h for the contract).
 *
 * Hilbert.  The generalised Hilbert curve splits a w x h rectangle along
 * its major axis a (the direction the curve travels, from one corner to the
 * next along a) and its minor axis b: a long rectangle (2w > 3h) in two
 * halves along a, otherwise in three parts (up along b, across the whole of
 * a, back down), each recursing with its own axes; a strip one cell wide is
 * filled straight.  Halves are rounded to even lengths where the part is
 * longer than 2, which keeps each part's entry and exit corners reachable
 * without a diagonal step.  A grid path from corner (0, 0) to the next
 * corner along a exists only if the a side is even or both sides are odd
 * (colour the mesh as a chessboard), so the top-level major axis is the
 * even side when exactly one side is even, else the longer side.  With
 * that rule the curve steps to a mesh neighbour at every one of the
 * 64 x 64 mesh sizes (tests/check_place.c checks them all); taking the
 * longer side always would step diagonally on 930 of them (4x5, 4x7, ...).
 * Cost O(w h), recursion depth O(log w + log h).
 *
 * Greedy.  The hop count of a placement is a sum over edges of
 * weight x (|dx| + |dy|), so the cost of one group at (x, y), the others
 * fixed, is Fx(x) + Fy(y) with Fx(x) = sum_c H[c] |x - c| over the weight
 * H[c] of its neighbours in column c (likewise rows).  Each group keeps
 * these two histograms (width + height words), which makes every
 * evaluation O(width + height) whatever the group's degree: an all-to-all
 * pair of 2048-group layers costs the same per evaluation as a chain.  A
 * taken move updates the histograms of the moved groups' neighbours,
 * O(degree).  A swap of neighbours a, b needs their mutual weight
 * (the histograms see each other at the old nodes): the edges are indexed
 * by source with destinations sorted (two counting sorts, 12 bytes per
 * edge, no copy of the edges), so it is a binary search.
 *
 * The refinement anneals with the Metropolis rule in base 2 (take_worse),
 * computed without exp(), so no math library decides a placement.
 *
 * Rejected: hill climbing alone (it ends in the first local optimum; on
 * conv-like graphs of a few hundred groups that was far above what
 * annealing reaches in the same budget); threshold accepting (any move
 * below a falling threshold: as good on large graphs, but a threshold
 * below a small graph's smallest worsening step never leaves a local
 * optimum: a star of five groups on 3x3 stayed at 5 unit hops, not 4);
 * per-evaluation sums over the group's edges (O(degree), 2048 operations
 * per evaluation for a dense layer); a copy of the edge list as symmetric
 * adjacency (16 bytes per edge and direction: 134 MB for 2048 x 2048
 * edges).
 */
#include "models/place.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

#define NONE UINT32_MAX

static const char *const kind_names[MODEL_PLACE_NKINDS] = {
    "rowmajor", "snake", "hilbert", "greedy"};

const char *model_place_name(int kind) {
  if (kind < 0 || kind >= MODEL_PLACE_NKINDS)
    return NULL;
  return kind_names[kind];
}

uint64_t model_place_hops(uint32_t width, const uint32_t *node,
                          const struct model_place_edge *e, size_t ne) {
  uint64_t sum = 0;
  for (size_t i = 0; i < ne; i++) {
    uint32_t a = node[e[i].src], b = node[e[i].dst];
    uint32_t ax = a % width, ay = a / width, bx = b % width, by = b / width;
    uint64_t d = (uint64_t)(ax > bx ? ax - bx : bx - ax) +
                 (ay > by ? ay - by : by - ay);
    if (!d || !e[i].weight)
      continue;
    if (e[i].weight > UINT64_MAX / d || sum > UINT64_MAX - e[i].weight * d)
      return UINT64_MAX;
    sum += e[i].weight * d;
  }
  return sum;
}

/* ---- the fixed orders ---------------------------------------------------- */

static void place_rows(int snake, uint32_t width, uint32_t ngroups,
                       uint32_t *node) {
  for (uint32_t g = 0; g < ngroups; g++) {
    uint32_t y = g / width, x = g % width;
    if (snake && (y & 1))
      x = width - 1 - x;
    node[g] = y * width + x;
  }
}

struct curve {
  int width, height;
  uint32_t *out; /* [width * height] nodes in curve order */
  uint32_t k;    /* cells emitted */
};

static int sgn(int v) { return (v > 0) - (v < 0); }

static void emit(struct curve *c, int x, int y) {
  assert(x >= 0 && x < c->width && y >= 0 && y < c->height);
  assert(c->k < (uint32_t)(c->width * c->height));
  c->out[c->k++] = (uint32_t)(y * c->width + x);
}

/* The rectangle at (x, y) spanned by the major axis (ax, ay) and the minor
 * axis (bx, by) (one component of each is 0; the signs give directions). */
static void gilbert(struct curve *c, int x, int y, int ax, int ay, int bx,
                    int by) {
  int w = abs(ax + ay), h = abs(bx + by);
  int dax = sgn(ax), day = sgn(ay), dbx = sgn(bx), dby = sgn(by);
  if (h == 1) {
    for (int i = 0; i < w; i++, x += dax, y += day)
      emit(c, x, y);
    return;
  }
  if (w == 1) {
    for (int i = 0; i < h; i++, x += dbx, y += dby)
      emit(c, x, y);
    return;
  }
  int ax2 = ax / 2, ay2 = ay / 2, bx2 = bx / 2, by2 = by / 2;
  int w2 = abs(ax2 + ay2), h2 = abs(bx2 + by2);
  if (2 * w > 3 * h) {
    if ((w2 & 1) && w > 2) {
      ax2 += dax;
      ay2 += day;
    }
    gilbert(c, x, y, ax2, ay2, bx, by);
    gilbert(c, x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by);
  } else {
    if ((h2 & 1) && h > 2) {
      bx2 += dbx;
      by2 += dby;
    }
    gilbert(c, x, y, bx2, by2, ax2, ay2);
    gilbert(c, x + bx2, y + by2, ax, ay, bx - bx2, by - by2);
    gilbert(c, x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby),
            -bx2, -by2, -(ax - ax2), -(ay - ay2));
  }
}

static void place_hilbert(uint32_t width, uint32_t height, uint32_t ngroups,
                          uint32_t *node) {
  struct curve c = {.width = (int)width, .height = (int)height, .k = 0};
  c.out = sm_xmallocarray((size_t)width * height, sizeof *c.out);
  int major_x = (width & 1) != (height & 1) ? !(width & 1) : width >= height;
  if (major_x)
    gilbert(&c, 0, 0, (int)width, 0, 0, (int)height);
  else
    gilbert(&c, 0, 0, 0, (int)height, (int)width, 0);
  assert(c.k == width * height);
  memcpy(node, c.out, (size_t)ngroups * sizeof *node);
  free(c.out);
}

/* ---- checks -------------------------------------------------------------- */

static int check_inputs(const char *what, uint32_t width, uint32_t height,
                        uint32_t ngroups, const struct model_place_edge *e,
                        size_t ne, struct sm_err *err) {
  if (!width || !height)
    return sm_fail(err, SM_EINVAL,
                   "placement %s: mesh %ux%u: width and height must be at "
                   "least 1",
                   what, width, height);
  if (width > MODEL_PLACE_MAX_SIDE || height > MODEL_PLACE_MAX_SIDE)
    return sm_fail(err, SM_ERANGE,
                   "placement %s: mesh %ux%u: a side is above %d", what, width,
                   height, MODEL_PLACE_MAX_SIDE);
  uint32_t nodes = width * height;
  if (ngroups > nodes)
    return sm_fail(err, SM_ENOFIT,
                   "placement %s: %u groups do not fit a %ux%u mesh of %u "
                   "nodes (short by %u)",
                   what, ngroups, width, height, nodes, ngroups - nodes);
  if (ne > UINT32_MAX)
    return sm_fail(err, SM_ELIMIT,
                   "placement %s: %zu edges exceed the limit of %u", what, ne,
                   UINT32_MAX);
  uint64_t total = 0;
  for (size_t i = 0; i < ne; i++) {
    if (e[i].src >= ngroups || e[i].dst >= ngroups)
      return sm_fail(err, SM_EINVAL,
                     "placement %s: edge %zu (%u -> %u): %s group %u is not "
                     "below the number of groups, %u",
                     what, i, e[i].src, e[i].dst,
                     e[i].src >= ngroups ? "source" : "destination",
                     e[i].src >= ngroups ? e[i].src : e[i].dst, ngroups);
    if (e[i].src == e[i].dst)
      continue;
    if (e[i].weight > UINT64_MAX - total)
      return sm_fail(err, SM_ERANGE,
                     "placement %s: edge %zu: the edge weights sum past 2^64",
                     what, i);
    total += e[i].weight;
  }
  uint64_t longest = (uint64_t)width - 1 + height - 1;
  /* a swap's delta adds four terms of at most total x longest each */
  if (longest && total > ((uint64_t)INT64_MAX / 4) / longest)
    return sm_fail(err, SM_ERANGE,
                   "placement %s: the edge weights sum to %llu; over the "
                   "%u hops of a %ux%u mesh's longest route the weighted "
                   "hops could reach 2^61",
                   what, (unsigned long long)total, (unsigned)longest, width,
                   height);
  return 0;
}

/* ---- greedy -------------------------------------------------------------- */

struct gp {
  uint32_t w, h, n;
  const struct model_place_edge *e;
  uint32_t *out0, *outi; /* edges by source: outi[out0[g] .. out0[g+1]),
                            destinations ascending */
  uint32_t *outd;        /* the destination of each outi entry (a binary
                            search reads 4 bytes per step, not an edge) */
  uint32_t *in0, *ini;   /* edges by destination */
  uint64_t *hx, *hy;     /* [n * w], [n * h]: neighbours' weight per column,
                            per row, at their current nodes */
  uint64_t *tot;         /* [n] weight of each group's edges (fixed) */
  uint32_t *node;        /* [n] current node of each group */
  uint32_t *at;          /* [w * h] group on each node, or NONE */
};

static int live(const struct model_place_edge *e) {
  return e->src != e->dst && e->weight;
}

static void index_edges(struct gp *s, size_t ne) {
  uint32_t n = s->n;
  s->out0 = sm_xcalloc((size_t)n + 1, sizeof *s->out0);
  s->in0 = sm_xcalloc((size_t)n + 1, sizeof *s->in0);
  s->tot = sm_xcalloc(n, sizeof *s->tot);
  for (size_t i = 0; i < ne; i++)
    if (live(&s->e[i])) {
      s->out0[s->e[i].src + 1]++;
      s->in0[s->e[i].dst + 1]++;
      s->tot[s->e[i].src] += s->e[i].weight;
      s->tot[s->e[i].dst] += s->e[i].weight;
    }
  for (uint32_t g = 0; g < n; g++) {
    s->out0[g + 1] += s->out0[g];
    s->in0[g + 1] += s->in0[g];
  }
  size_t nl = s->out0[n];
  s->ini = sm_xmallocarray(nl + 1, sizeof *s->ini);
  s->outi = sm_xmallocarray(nl + 1, sizeof *s->outi);
  uint32_t *pos = sm_xmallocarray((size_t)n + 1, sizeof *pos);
  memcpy(pos, s->in0, ((size_t)n + 1) * sizeof *pos);
  for (size_t i = 0; i < ne; i++)
    if (live(&s->e[i]))
      s->ini[pos[s->e[i].dst]++] = (uint32_t)i;
  /* taken in order of destination, so each source's run is sorted by it */
  memcpy(pos, s->out0, ((size_t)n + 1) * sizeof *pos);
  s->outd = sm_xmallocarray(nl + 1, sizeof *s->outd);
  for (size_t k = 0; k < nl; k++) {
    uint32_t i = s->ini[k], at = pos[s->e[i].src]++;
    s->outi[at] = i;
    s->outd[at] = s->e[i].dst;
  }
  free(pos);
}

/* Add group g at node p to its neighbours' histograms. */
static void hist_put(struct gp *s, uint32_t g, uint32_t p) {
  uint32_t x = p % s->w, y = p / s->w;
  for (uint32_t k = s->out0[g]; k < s->out0[g + 1]; k++) {
    const struct model_place_edge *e = &s->e[s->outi[k]];
    s->hx[(size_t)e->dst * s->w + x] += e->weight;
    s->hy[(size_t)e->dst * s->h + y] += e->weight;
  }
  for (uint32_t k = s->in0[g]; k < s->in0[g + 1]; k++) {
    const struct model_place_edge *e = &s->e[s->ini[k]];
    s->hx[(size_t)e->src * s->w + x] += e->weight;
    s->hy[(size_t)e->src * s->h + y] += e->weight;
  }
}

static void hist_rebuild(struct gp *s) {
  memset(s->hx, 0, (size_t)s->n * s->w * sizeof *s->hx);
  memset(s->hy, 0, (size_t)s->n * s->h * sizeof *s->hy);
  for (uint32_t g = 0; g < s->n; g++)
    hist_put(s, g, s->node[g]);
}

/* Fx(x) = sum_c H[c] |x - c| for every x, in O(len).  Exact in wrapping
 * arithmetic: every true value fits (check_inputs). */
static void dist_costs(const uint64_t *H, uint32_t len, uint64_t *F) {
  uint64_t total = 0, f = 0;
  for (uint32_t c = 0; c < len; c++) {
    total += H[c];
    f += H[c] * c;
  }
  uint64_t left = 0; /* weight at columns <= x */
  for (uint32_t x = 0; x < len; x++) {
    F[x] = f;
    left += H[x];
    f += left - (total - left); /* F(x+1) - F(x) */
  }
}

static void construct(struct gp *s) {
  uint64_t *fx = sm_xmallocarray(s->w, sizeof *fx);
  uint64_t *fy = sm_xmallocarray(s->h, sizeof *fy);
  uint32_t nodes = s->w * s->h;
  for (uint32_t g = 0; g < s->n; g++) {
    dist_costs(s->hx + (size_t)g * s->w, s->w, fx);
    dist_costs(s->hy + (size_t)g * s->h, s->h, fy);
    uint32_t best = NONE;
    uint64_t bc = UINT64_MAX;
    for (uint32_t p = 0; p < nodes; p++) {
      if (s->at[p] != NONE)
        continue;
      uint64_t c = fx[p % s->w] + fy[p / s->w];
      if (best == NONE || c < bc) {
        best = p;
        bc = c;
      }
    }
    assert(best != NONE);
    s->node[g] = best;
    s->at[best] = g;
    hist_put(s, g, best);
  }
  free(fx);
  free(fy);
}

/* sum_c H[c] (|to - c| - |from - c|), where total = sum_c H[c].  With
 * lo < hi the two nodes' coordinates, each c <= lo adds span = hi - lo,
 * each c >= hi adds -span, and each c between adds lo + hi - 2c (moving up;
 * moving down negates it), so one loop runs between lo and hi and one over
 * the shorter of the two ends. */
static int64_t axis_delta(const uint64_t *H, uint32_t len, uint64_t total,
                          uint32_t from, uint32_t to) {
  if (from == to)
    return 0;
  uint32_t lo = from < to ? from : to, hi = from < to ? to : from;
  int64_t mid = 0;
  uint64_t mid_w = 0, below = 0, above = 0;
  for (uint32_t c = lo + 1; c < hi; c++) {
    mid += (int64_t)H[c] * ((int64_t)lo + hi - 2 * (int64_t)c);
    mid_w += H[c];
  }
  if (lo + 1 <= len - hi) {
    for (uint32_t c = 0; c <= lo; c++)
      below += H[c];
    above = total - below - mid_w;
  } else {
    for (uint32_t c = hi; c < len; c++)
      above += H[c];
    below = total - above - mid_w;
  }
  int64_t d = (int64_t)(hi - lo) * ((int64_t)below - (int64_t)above) + mid;
  return from < to ? d : -d;
}

/* Change of group g's edge costs if it alone moved from p to q. */
static int64_t move_delta(const struct gp *s, uint32_t g, uint32_t p,
                          uint32_t q) {
  return axis_delta(s->hx + (size_t)g * s->w, s->w, s->tot[g], p % s->w,
                    q % s->w) +
         axis_delta(s->hy + (size_t)g * s->h, s->h, s->tot[g], p / s->w,
                    q / s->w);
}

/* Weight of the edges from a to b: a search in a's sorted run that
 * alternates interpolation steps (one or two steps when the run is dense,
 * as for an all-to-all layer) with halving ones (O(log degree) at worst). */
static uint64_t weight_to(const struct gp *s, uint32_t a, uint32_t b) {
  uint32_t lo = s->out0[a], hi = s->out0[a + 1], end = hi;
  /* invariant: outd[< lo] < b, outd[>= hi] >= b */
  for (int step = 0; lo < hi; step++) {
    uint32_t mid = lo + (hi - lo) / 2;
    uint32_t vlo = s->outd[lo], vhi = s->outd[hi - 1];
    if (vlo >= b) {
      hi = lo;
      break;
    }
    if (vhi < b) {
      lo = hi;
      break;
    }
    if (!(step & 1)) /* vlo < b <= vhi */
      mid = lo + (uint32_t)((uint64_t)(b - vlo) * (hi - 1 - lo) / (vhi - vlo));
    if (s->outd[mid] < b)
      lo = mid + 1;
    else
      hi = mid;
  }
  uint64_t w = 0;
  for (; lo < end && s->outd[lo] == b; lo++)
    w += s->e[s->outi[lo]].weight;
  return w;
}

/* The index where half of the histogram's weight is reached (the weighted
 * median: a group alone is best at the medians of its neighbours). */
static uint32_t median(const uint64_t *H, uint32_t len, uint64_t total) {
  uint64_t cum = 0;
  for (uint32_t c = 0; c < len; c++) {
    cum += H[c];
    if (cum >= total - cum)
      return c;
  }
  return len - 1;
}

static uint32_t below(struct sm_rng *r, uint32_t n) {
  return (uint32_t)(((sm_rng_next(r) >> 32) * n) >> 32);
}

static uint32_t near_median(const struct gp *s, struct sm_rng *r, uint32_t g) {
  int64_t x = median(s->hx + (size_t)g * s->w, s->w, s->tot[g]);
  int64_t y = median(s->hy + (size_t)g * s->h, s->h, s->tot[g]);
  uint64_t v = sm_rng_next(r);
  x += (int64_t)(v % 3) - 1;
  y += (int64_t)((v >> 8) % 3) - 1;
  x = x < 0 ? 0 : x >= s->w ? s->w - 1 : x;
  y = y < 0 ? 0 : y >= s->h ? s->h - 1 : y;
  return (uint32_t)(y * s->w + x);
}

/* Group g moves from node p to node q: its neighbours' histograms follow. */
static void move_group(struct gp *s, uint32_t g, uint32_t p, uint32_t q) {
  uint32_t px = p % s->w, py = p / s->w, qx = q % s->w, qy = q / s->w;
  for (int dir = 0; dir < 2; dir++) {
    const uint32_t *k0 = dir ? s->ini + s->in0[g] : s->outi + s->out0[g];
    const uint32_t *k1 =
        dir ? s->ini + s->in0[g + 1] : s->outi + s->out0[g + 1];
    for (const uint32_t *k = k0; k < k1; k++) {
      const struct model_place_edge *e = &s->e[*k];
      size_t j = dir ? e->src : e->dst;
      uint64_t *hx = s->hx + j * s->w, *hy = s->hy + j * s->h;
      hx[px] -= e->weight;
      hx[qx] += e->weight;
      hy[py] -= e->weight;
      hy[qy] += e->weight;
    }
  }
  s->node[g] = q;
}

static uint64_t degree(const struct gp *s, uint32_t g) {
  return (uint64_t)(s->out0[g + 1] - s->out0[g]) + (s->in0[g + 1] - s->in0[g]);
}

/* The Metropolis rule in base 2: a move that adds d > 0 hops is taken with
 * probability 2^(-d/t), interpolated linearly within each octave (exact at
 * whole powers of two).  IEEE +, -, *, / only, no math library, so a seed
 * gives the same placement on every conforming machine. */
static int take_worse(struct sm_rng *r, int64_t d, double t) {
  if (t <= 0)
    return 0;
  double y = (double)d / t;
  if (y >= 40)
    return 0;
  int i = (int)y;
  double p = (1 - (y - i) / 2) / (double)((uint64_t)1 << i);
  return sm_rng_uniform(r) < p;
}

/* Annealing from the start in s->node (see place.h for the schedule);
 * leaves the best placement met in s->node and returns its change of the
 * hop count (<= 0). */
static int64_t refine(struct gp *s, uint64_t seed, uint64_t budget,
                      struct model_place_stats *st) {
  uint32_t nodes = s->w * s->h;
  uint32_t *conn = sm_xmallocarray((size_t)s->n + 1, sizeof *conn);
  uint32_t nc = 0;
  for (uint32_t g = 0; g < s->n; g++)
    if (degree(s, g))
      conn[nc++] = g;
  uint32_t *best = sm_xmallocarray(s->n, sizeof *best);
  uint64_t stall_max = (uint64_t)MODEL_PLACE_GREEDY_STALL_PER_GROUP * s->n;
  if (stall_max < MODEL_PLACE_GREEDY_MIN_STALL)
    stall_max = MODEL_PLACE_GREEDY_MIN_STALL;
  uint64_t warm = budget / MODEL_PLACE_GREEDY_WARM_DIV;
  uint64_t cool = budget / 10 * MODEL_PLACE_GREEDY_COOL_TENTHS;
  if (cool < warm)
    cool = warm;
  struct sm_rng rng;
  sm_rng_seed(&rng, seed);
  double worse_sum = 0, t0 = 0;
  uint64_t nworse = 0, stall = 0, work = 0, wh = (uint64_t)s->w + s->h;
  int64_t gain = 0, best_gain = 0;
  int best_is_current = 1; /* best[] is stale while the current is best */
  int t0_set = 0;
  if (nc && nodes > 1)
    for (; work < budget && stall < stall_max; st->evals++, work++) {
      if (work >= warm && !t0_set) {
        t0 = nworse ? worse_sum / (double)nworse *
                          MODEL_PLACE_GREEDY_T0_TENTHS / 10
                    : 0;
        t0_set = 1;
      }
      double t = 0; /* 0: improvements only */
      if (work >= warm && work < cool)
        t = t0 * (double)(cool - work) / (double)(cool - warm);
      uint32_t a = conn[below(&rng, nc)], p = s->node[a];
      uint32_t q = (sm_rng_next(&rng) & 1) ? near_median(s, &rng, a)
                                           : below(&rng, nodes);
      if (work >= cool)
        stall++;
      if (q == p)
        continue;
      uint32_t b = s->at[q];
      int64_t d = move_delta(s, a, p, q);
      if (b != NONE) {
        d += move_delta(s, b, q, p);
        /* the mutual edge only adds: look it up only if it can matter */
        if (work < warm || d < 0 || (double)d < 40 * t) {
          uint32_t qx = q % s->w, qy = q / s->w, px = p % s->w, py = p / s->w;
          uint64_t dist = (uint64_t)(px > qx ? px - qx : qx - px) +
                          (py > qy ? py - qy : qy - py);
          uint64_t wab = weight_to(s, a, b) + weight_to(s, b, a);
          d += (int64_t)(2 * wab * dist);
        }
      }
      if (work < warm) { /* sample the scale of worsening moves */
        if (d > 0) {
          worse_sum += (double)d;
          nworse++;
        }
        continue;
      }
      if (d >= 0 && !take_worse(&rng, d, t))
        continue;
      if (d >= 0 && best_is_current) {
        memcpy(best, s->node, (size_t)s->n * sizeof *best);
        best_is_current = 0;
      }
      move_group(s, a, p, q);
      s->at[q] = a;
      s->at[p] = b;
      if (b != NONE)
        move_group(s, b, q, p);
      work += (degree(s, a) + (b != NONE ? degree(s, b) : 0)) / wh;
      gain += d;
      st->moves++;
      if (d < 0)
        stall = 0;
      if (gain < best_gain) {
        best_gain = gain;
        best_is_current = 1;
      }
    }
  if (!best_is_current) {
    memcpy(s->node, best, (size_t)s->n * sizeof *best);
    gain = best_gain;
  }
  free(best);
  free(conn);
  return gain;
}

int model_place_greedy(uint64_t seed, uint32_t width, uint32_t height,
                       uint32_t ngroups, const struct model_place_edge *e,
                       size_t ne, uint64_t budget, uint32_t *node,
                       struct model_place_stats *st, struct sm_err *err) {
  int rc = check_inputs("greedy", width, height, ngroups, e, ne, err);
  if (rc)
    return rc;
  struct model_place_stats local;
  if (!st)
    st = &local;
  memset(st, 0, sizeof *st);
  if (!ngroups)
    return 0;
  struct gp s = {.w = width, .h = height, .n = ngroups, .e = e, .node = node};
  index_edges(&s, ne);
  s.hx = sm_xcalloc((size_t)ngroups * width, sizeof *s.hx);
  s.hy = sm_xcalloc((size_t)ngroups * height, sizeof *s.hy);
  s.at = sm_xmallocarray((size_t)width * height, sizeof *s.at);
  for (uint32_t p = 0; p < width * height; p++)
    s.at[p] = NONE;

  /* the starts: the construction (in node[]) and the three fixed orders */
  construct(&s);
  uint32_t *fixed[MODEL_PLACE_NSTARTS] = {NULL};
  st->start_hops[MODEL_PLACE_START_CONSTRUCTIVE] =
      model_place_hops(width, node, e, ne);
  for (int k = MODEL_PLACE_START_ROWMAJOR; k < MODEL_PLACE_NSTARTS; k++) {
    fixed[k] = sm_xmallocarray(ngroups, sizeof *fixed[k]);
    if (k == MODEL_PLACE_START_HILBERT)
      place_hilbert(width, height, ngroups, fixed[k]);
    else
      place_rows(k == MODEL_PLACE_START_SNAKE, width, ngroups, fixed[k]);
    st->start_hops[k] = model_place_hops(width, fixed[k], e, ne);
  }
  st->start = MODEL_PLACE_START_CONSTRUCTIVE;
  for (int k = 1; k < MODEL_PLACE_NSTARTS; k++)
    if (st->start_hops[k] < st->start_hops[st->start])
      st->start = k;
  if (st->start != MODEL_PLACE_START_CONSTRUCTIVE) {
    memcpy(node, fixed[st->start], (size_t)ngroups * sizeof *node);
    for (uint32_t p = 0; p < width * height; p++)
      s.at[p] = NONE;
    for (uint32_t g = 0; g < ngroups; g++)
      s.at[node[g]] = g;
    hist_rebuild(&s);
  }
  for (int k = 0; k < MODEL_PLACE_NSTARTS; k++)
    free(fixed[k]);

  int64_t gain = refine(&s, seed, budget, st);
  st->hops = model_place_hops(width, node, e, ne);
  /* the running sum of taken deltas must land on the recount */
  assert((int64_t)st->start_hops[st->start] + gain == (int64_t)st->hops);
  (void)gain;
  free(s.out0);
  free(s.in0);
  free(s.outi);
  free(s.outd);
  free(s.tot);
  free(s.ini);
  free(s.hx);
  free(s.hy);
  free(s.at);
  return 0;
}

uint64_t model_place_greedy_budget(uint32_t ngroups) {
  uint64_t b = (uint64_t)MODEL_PLACE_GREEDY_EVALS_PER_GROUP * ngroups;
  if (!ngroups)
    return 0;
  if (b < MODEL_PLACE_GREEDY_MIN_EVALS)
    b = MODEL_PLACE_GREEDY_MIN_EVALS;
  return b < MODEL_PLACE_GREEDY_MAX_EVALS ? b : MODEL_PLACE_GREEDY_MAX_EVALS;
}

int model_place_nodes(int kind, uint64_t seed, uint32_t width, uint32_t height,
                      uint32_t ngroups, const struct model_place_edge *e,
                      size_t ne, uint32_t *node, struct sm_err *err) {
  const char *name = model_place_name(kind);
  if (!name)
    return sm_fail(err, SM_EINVAL,
                   "placement kind %d is unknown (expected one of %s)", kind,
                   MODEL_PLACE_CHOICES);
  if (kind == MODEL_PLACE_K_GREEDY)
    return model_place_greedy(seed, width, height, ngroups, e, ne,
                              model_place_greedy_budget(ngroups), node, NULL,
                              err);
  int rc = check_inputs(name, width, height, ngroups, e, ne, err);
  if (rc || !ngroups)
    return rc;
  if (kind == MODEL_PLACE_K_HILBERT)
    place_hilbert(width, height, ngroups, node);
  else
    place_rows(kind == MODEL_PLACE_K_SNAKE, width, ngroups, node);
  return 0;
}
