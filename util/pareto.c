/*
 * pareto.c -- the Pareto front of a set of points, the one definition the
 * sweep summary and the plots share.
 *
 * Method: the points are sorted lexicographically, every objective turned
 * into "smaller is better"; a point can only be dominated by one before it,
 * and if it is dominated at all, it is dominated by a point of the front
 * before it (domination is transitive), so each point is compared with the
 * front found so far only.  O(n log n + n f dims) for a front of f points;
 * the brute force (every pair) is O(n^2 dims).
 */
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pareto_ctx {
  const double *pts;
  size_t dims;
  const int *maximize;
};

/* Objective d of point i, as "smaller is better". */
static double cost(const struct pareto_ctx *c, size_t i, size_t d) {
  double v = c->pts[i * c->dims + d];
  return c->maximize && c->maximize[d] ? -v : v;
}

/* <0, 0, >0 as point i is lexicographically better than, equal to or worse
 * than point j. */
static int lex_cmp(const struct pareto_ctx *c, size_t i, size_t j) {
  for (size_t d = 0; d < c->dims; d++) {
    double a = cost(c, i, d), b = cost(c, j, d);
    if (a != b)
      return a < b ? -1 : 1;
  }
  return 0;
}

/* 1 if point j dominates point i: at least as good in every objective and
 * strictly better in one. */
static int dominates(const struct pareto_ctx *c, size_t j, size_t i) {
  int better = 0;
  for (size_t d = 0; d < c->dims; d++) {
    double a = cost(c, j, d), b = cost(c, i, d);
    if (a > b)
      return 0;
    better |= a < b;
  }
  return better;
}

/* Merge sort of idx[0..n) by lex_cmp (stable), with tmp as scratch. */
static void sort_idx(const struct pareto_ctx *c, size_t *idx, size_t *tmp,
                     size_t n) {
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n;
      size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi)
        tmp[k++] = lex_cmp(c, idx[b], idx[a]) < 0 ? idx[b++] : idx[a++];
      while (a < mid)
        tmp[k++] = idx[a++];
      while (b < hi)
        tmp[k++] = idx[b++];
    }
    memcpy(idx, tmp, n * sizeof *idx);
  }
}

void sm_pareto_front(const double *pts, size_t n, size_t dims,
                     const int *maximize, int *on_front) {
  struct pareto_ctx c = {pts, dims, maximize};
  size_t *idx = sm_xmallocarray(n, sizeof *idx);
  size_t *tmp = sm_xmallocarray(n, sizeof *tmp);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int nan = 0;
    for (size_t d = 0; d < dims; d++)
      nan |= isnan(pts[i * dims + d]);
    on_front[i] = 0;
    if (!nan)
      idx[m++] = i;
  }
  sort_idx(&c, idx, tmp, m);
  size_t *front = tmp, nf = 0; /* the front so far, in sorted order */
  for (size_t k = 0; k < m; k++) {
    size_t i = idx[k];
    int dominated = 0;
    for (size_t f = 0; f < nf && !dominated; f++)
      dominated = dominates(&c, front[f], i);
    if (!dominated) {
      front[nf++] = i;
      on_front[i] = 1;
    }
  }
  free(idx);
  free(tmp);
}
