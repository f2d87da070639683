/*
 * check_place.c -- placements by name (models/place.h): rowmajor and snake
 * against the mapper's own placement, the generalised Hilbert curve on
 * every mesh up to 64 x 64, hop counts by hand and by an independent
 * count, greedy against the fixed orders, against brute force on small
 * meshes and against a lower bound, determinism, and bad inputs.
 *
 * `check_place bench` times greedy on 64 x 64 groups with all-to-all edges
 * between the two halves (2048 x 2048 edges) and prints what it did;
 * `check_place bench all` connects every pair of groups (4096 x 4095
 * edges, about 0.5 GB).  The figures in doc/core.md come from them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/map.h"
#include "models/place.h"
#include "util/rng.h"

/* ---- helpers ------------------------------------------------------------- */

struct edges {
  struct model_place_edge *e;
  size_t n, cap;
};

static void add(struct edges *E, uint32_t src, uint32_t dst, uint64_t w) {
  if (E->n == E->cap) {
    E->cap = E->cap ? 2 * E->cap : 256;
    E->e = sm_xreallocarray(E->e, E->cap, sizeof *E->e);
  }
  E->e[E->n++] = (struct model_place_edge){src, dst, w};
}

/* The hop count, written without the library: for each edge, the nodes'
 * (x, y) and |dx| + |dy|, times the weight. */
static uint64_t count_hops(uint32_t width, const uint32_t *node,
                           const struct edges *E) {
  uint64_t sum = 0;
  for (size_t i = 0; i < E->n; i++) {
    long ax = node[E->e[i].src] % width, ay = node[E->e[i].src] / width;
    long bx = node[E->e[i].dst] % width, by = node[E->e[i].dst] / width;
    sum += E->e[i].weight * (uint64_t)(labs(ax - bx) + labs(ay - by));
  }
  return sum;
}

/* Every group on its own node of the mesh. */
static void assert_distinct_nodes(const uint32_t *node, uint32_t n,
                                  uint32_t nodes) {
  char *seen = calloc(nodes, 1);
  for (uint32_t g = 0; g < n; g++) {
    if (node[g] >= nodes)
      ck_abort_msg("group %u on node %u of %u", g, node[g], nodes);
    if (seen[node[g]])
      ck_abort_msg("node %u holds two groups", node[g]);
    seen[node[g]] = 1;
  }
  free(seen);
}

static uint32_t *place(int kind, uint64_t seed, uint32_t w, uint32_t h,
                       uint32_t n, const struct edges *E) {
  uint32_t *node = malloc((n + 1) * sizeof *node);
  struct sm_err err = {0};
  int rc = model_place_nodes(kind, seed, w, h, n, E ? E->e : NULL,
                             E ? E->n : 0, node, &err);
  ck_assert_msg(rc == 0, "%s on %ux%u: %s", model_place_name(kind), w, h,
                err.msg);
  assert_distinct_nodes(node, n, w * h);
  return node;
}

/* Layers of the given group counts, every group of one layer sending to
 * every group of the next with weight w (an MLP's dense layers). */
static uint32_t mlp_edges(struct edges *E, const uint32_t *size, int nl,
                          uint64_t w) {
  uint32_t first = 0;
  for (int l = 0; l + 1 < nl; l++) {
    for (uint32_t a = 0; a < size[l]; a++)
      for (uint32_t b = 0; b < size[l + 1]; b++)
        add(E, first + a, first + size[l] + b, w);
    first += size[l];
  }
  return first + size[nl - 1];
}

/* Layers of t x t spatial tiles; a tile sends to the tiles of the next
 * layer whose area overlaps its own grown by one tile (a conv layer's
 * receptive fields), weight 16 per tile pair. */
static uint32_t conv_edges(struct edges *E, const uint32_t *t, int nl) {
  uint32_t first = 0;
  for (int l = 0; l + 1 < nl; l++) {
    uint32_t a = t[l], b = t[l + 1];
    for (uint32_t i = 0; i < a * a; i++)
      for (uint32_t j = 0; j < b * b; j++) {
        /* tile rows [i/a, (i+1)/a) and [j/b, (j+1)/b) of the unit square,
         * in units of 1/(a b) */
        long ir = (long)(i / a) * b, ic = (long)(i % a) * b;
        long jr = (long)(j / b) * a, jc = (long)(j % b) * a;
        long grow = b; /* one source tile */
        if (jr < ir + (long)b + grow && ir - grow < jr + (long)a &&
            jc < ic + (long)b + grow && ic - grow < jc + (long)a)
          add(E, first + i, first + a * a + j, 16);
      }
    first += a * a;
  }
  return first + t[nl - 1] * t[nl - 1];
}

static uint32_t random_edges(struct edges *E, uint64_t seed, uint32_t n,
                             uint32_t ne) {
  struct sm_rng r;
  sm_rng_seed(&r, seed);
  for (uint32_t i = 0; i < ne; i++) {
    uint32_t src = (uint32_t)(sm_rng_next(&r) % n);
    uint32_t dst = (uint32_t)(sm_rng_next(&r) % n);
    add(E, src, dst, 1 + sm_rng_next(&r) % 50);
  }
  return n;
}

/* ---- names --------------------------------------------------------------- */

START_TEST(test_names_follow_the_choices_string) {
  char buf[] = MODEL_PLACE_CHOICES;
  int k = 0;
  for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|"), k++)
    ck_assert_str_eq(model_place_name(k), tok);
  ck_assert_int_eq(k, MODEL_PLACE_NKINDS);
  ck_assert_str_eq(model_place_name(MODEL_PLACE_K_HILBERT), "hilbert");
  ck_assert_ptr_null(model_place_name(-1));
  ck_assert_ptr_null(model_place_name(MODEL_PLACE_NKINDS));
}
END_TEST

/* ---- rowmajor and snake -------------------------------------------------- */

START_TEST(test_rowmajor_and_snake_are_the_mappers_placement) {
  for (uint32_t w = 1; w <= 12; w++)
    for (uint32_t h = 1; h <= 12; h++)
      for (uint32_t n = w * h > 3 ? w * h - 3 : 1; n <= w * h; n++) {
        uint32_t *r = place(MODEL_PLACE_K_ROWMAJOR, 0, w, h, n, NULL);
        uint32_t *s = place(MODEL_PLACE_K_SNAKE, 0, w, h, n, NULL);
        for (uint32_t g = 0; g < n; g++)
          if (r[g] != model_map_place(MODEL_PLACE_ROWMAJOR, w, g) ||
              s[g] != model_map_place(MODEL_PLACE_SNAKE, w, g))
            ck_abort_msg("%ux%u, group %u: rowmajor %u, snake %u; the "
                         "mapper's %u, %u", w, h, g, r[g], s[g],
                         model_map_place(MODEL_PLACE_ROWMAJOR, w, g),
                         model_map_place(MODEL_PLACE_SNAKE, w, g));
        free(r);
        free(s);
      }
  /* and by hand on 3x2: 0 1 2 / 5 4 3 */
  uint32_t *s = place(MODEL_PLACE_K_SNAKE, 0, 3, 2, 6, NULL);
  uint32_t want[] = {0, 1, 2, 5, 4, 3};
  for (int g = 0; g < 6; g++)
    ck_assert_uint_eq(s[g], want[g]);
  free(s);
}
END_TEST

/* ---- hilbert ------------------------------------------------------------- */

START_TEST(test_hilbert_visits_every_node_once_in_unit_steps) {
  for (uint32_t w = 1; w <= MODEL_PLACE_MAX_SIDE; w++)
    for (uint32_t h = 1; h <= MODEL_PLACE_MAX_SIDE; h++) {
      uint32_t *c = place(MODEL_PLACE_K_HILBERT, 0, w, h, w * h, NULL);
      ck_assert_uint_eq(c[0], 0);
      for (uint32_t g = 1; g < w * h; g++) {
        long dx = labs((long)(c[g] % w) - (long)(c[g - 1] % w));
        long dy = labs((long)(c[g] / w) - (long)(c[g - 1] / w));
        if (dx + dy != 1) /* (ck_assert is slow in a loop this long) */
          ck_abort_msg("%ux%u: groups %u and %u are %ld apart", w, h, g - 1,
                       g, dx + dy);
      }
      free(c);
    }
}
END_TEST

/* On 2^k x 2^k meshes it is the Hilbert curve: every aligned run of 4^j
 * groups fills an aligned 2^j x 2^j square. */
START_TEST(test_hilbert_fills_quadrants_on_power_of_two_meshes) {
  for (uint32_t side = 2; side <= MODEL_PLACE_MAX_SIDE; side *= 2) {
    uint32_t *c = place(MODEL_PLACE_K_HILBERT, 0, side, side, side * side,
                        NULL);
    for (uint32_t q = 2; q <= side; q *= 2)
      for (uint32_t g0 = 0; g0 < side * side; g0 += q * q) {
        uint32_t x0 = c[g0] % side / q * q, y0 = c[g0] / side / q * q;
        for (uint32_t g = g0; g < g0 + q * q; g++)
          if (c[g] % side / q * q != x0 || c[g] / side / q * q != y0)
            ck_abort_msg("%ux%u: group %u leaves the %ux%u square of group "
                         "%u", side, side, g, q, q, g0);
      }
    free(c);
  }
}
END_TEST

/* Locality in both dimensions on any size: a run of 16 consecutive groups
 * spans a box of half-perimeter (width + height) at most 10 on average, a
 * 4x4 square being 8, where the snake's rows give 12 or more. */
static uint64_t run_boxes(const uint32_t *c, uint32_t w, uint32_t n,
                          uint32_t k) {
  uint64_t sum = 0;
  for (uint32_t g = 0; g + k <= n; g++) {
    uint32_t x0 = UINT32_MAX, x1 = 0, y0 = UINT32_MAX, y1 = 0;
    for (uint32_t i = g; i < g + k; i++) {
      uint32_t x = c[i] % w, y = c[i] / w;
      x0 = x < x0 ? x : x0;
      x1 = x > x1 ? x : x1;
      y0 = y < y0 ? y : y0;
      y1 = y > y1 ? y : y1;
    }
    sum += (x1 - x0 + 1) + (y1 - y0 + 1);
  }
  return sum;
}

START_TEST(test_hilbert_keeps_runs_of_groups_compact) {
  static const uint32_t sizes[][2] = {{12, 12}, {16, 16}, {20, 14},
                                      {33, 17}, {48, 40}, {64, 64}};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint32_t w = sizes[i][0], h = sizes[i][1], n = w * h, k = 16;
    uint32_t *c = place(MODEL_PLACE_K_HILBERT, 0, w, h, n, NULL);
    uint32_t *s = place(MODEL_PLACE_K_SNAKE, 0, w, h, n, NULL);
    uint64_t runs = n - k + 1, bc = run_boxes(c, w, n, k),
             bs = run_boxes(s, w, n, k);
    ck_assert_msg(bc <= 10 * runs, "%ux%u: hilbert runs of 16 span %.2f",
                  w, h, (double)bc / (double)runs);
    ck_assert_msg(bs >= 12 * runs, "%ux%u: snake runs of 16 span %.2f", w, h,
                  (double)bs / (double)runs);
    free(c);
    free(s);
  }
}
END_TEST

START_TEST(test_fewer_groups_than_nodes_take_the_curves_first_nodes) {
  uint32_t *all = place(MODEL_PLACE_K_HILBERT, 0, 7, 5, 35, NULL);
  uint32_t *some = place(MODEL_PLACE_K_HILBERT, 0, 7, 5, 20, NULL);
  ck_assert_mem_eq(all, some, 20 * sizeof *all);
  free(all);
  free(some);
  uint32_t *none = place(MODEL_PLACE_K_GREEDY, 1, 4, 4, 0, NULL);
  free(none);
}
END_TEST

/* ---- hops ---------------------------------------------------------------- */

START_TEST(test_hops_equal_a_hand_count) {
  /* 3x3 mesh; group 0 at (0,0), 1 at (2,2), 2 at (1,1), 3 at (2,0) */
  uint32_t node[] = {0, 8, 4, 2};
  struct model_place_edge e[] = {
      {0, 1, 3},   /* 4 hops: 12 */
      {1, 2, 5},   /* 2 hops: 10 */
      {2, 3, 7},   /* (1,1) -> (2,0): 2 hops: 14 */
      {3, 3, 100}, /* to itself: 0 */
      {0, 1, 1},   /* the pair again: 4 */
      {3, 0, 0},   /* weight 0: 0 */
  };
  ck_assert_uint_eq(model_place_hops(3, node, e, 6), 40);
  ck_assert_uint_eq(model_place_hops(3, node, e, 0), 0);
  /* a sum past 2^64 saturates */
  struct model_place_edge big[] = {{0, 1, UINT64_MAX / 2}};
  ck_assert_uint_eq(model_place_hops(3, node, big, 1), UINT64_MAX);
}
END_TEST

/* ---- greedy -------------------------------------------------------------- */

/* Greedy on (w, h, n, E): its nodes are distinct, its statistics recount,
 * and its hops are at most those of rowmajor, snake and hilbert.  Returns
 * greedy's hops; *best gets the best fixed order's. */
static uint64_t greedy_vs_fixed(uint32_t w, uint32_t h, uint32_t n,
                                const struct edges *E, uint64_t seed,
                                uint64_t *best) {
  uint32_t *node = malloc((n + 1) * sizeof *node);
  struct model_place_stats st;
  struct sm_err err = {0};
  ck_assert_int_eq(model_place_greedy(seed, w, h, n, E->e, E->n,
                                      model_place_greedy_budget(n), node, &st,
                                      &err),
                   0);
  assert_distinct_nodes(node, n, w * h);
  uint64_t hops = count_hops(w, node, E);
  ck_assert_uint_eq(st.hops, hops);
  ck_assert_uint_le(st.evals, model_place_greedy_budget(n));
  /* model_place_nodes gives the same nodes */
  uint32_t *same = place(MODEL_PLACE_K_GREEDY, seed, w, h, n, E);
  ck_assert_mem_eq(same, node, n * sizeof *node);
  free(same);
  *best = UINT64_MAX;
  static const int fixed[] = {MODEL_PLACE_K_ROWMAJOR, MODEL_PLACE_K_SNAKE,
                              MODEL_PLACE_K_HILBERT};
  static const int start[] = {MODEL_PLACE_START_ROWMAJOR,
                              MODEL_PLACE_START_SNAKE,
                              MODEL_PLACE_START_HILBERT};
  for (int k = 0; k < 3; k++) {
    uint32_t *f = place(fixed[k], seed, w, h, n, E);
    uint64_t fh = count_hops(w, f, E);
    ck_assert_uint_eq(st.start_hops[start[k]], fh);
    ck_assert_uint_eq(model_place_hops(w, f, E->e, E->n), fh);
    if (fh < *best)
      *best = fh;
    free(f);
  }
  ck_assert_msg(hops <= *best, "%ux%u, %u groups: greedy %llu > %llu", w, h,
                n, (unsigned long long)hops, (unsigned long long)*best);
  ck_assert_uint_le(hops, st.start_hops[MODEL_PLACE_START_CONSTRUCTIVE]);
  free(node);
  return hops;
}

START_TEST(test_greedy_is_never_worse_than_the_fixed_orders) {
  struct edges E = {0};
  uint64_t best, hops;

  /* an MLP: input, hidden, output groups, all-to-all between layers */
  uint32_t mlp1[] = {1, 1, 1};
  hops = greedy_vs_fixed(2, 2, mlp_edges(&E, mlp1, 3, 100), &E, 1, &best);
  ck_assert_uint_eq(hops, 200); /* a chain of two unit hops is optimal */
  E.n = 0;
  uint32_t mlp2[] = {4, 16, 8, 1};
  hops = greedy_vs_fixed(6, 5, mlp_edges(&E, mlp2, 4, 100), &E, 1, &best);
  ck_assert_uint_lt(hops, best);
  E.n = 0;
  /* an all-to-all pair of layers on a mesh with free nodes */
  uint32_t pair[] = {12, 20};
  hops = greedy_vs_fixed(7, 6, mlp_edges(&E, pair, 2, 3), &E, 1, &best);
  ck_assert_uint_lt(hops, best);
  E.n = 0;

  /* conv-like: tiles 4x4 -> 4x4 -> 3x3 -> 2x2 -> 1 */
  uint32_t conv[] = {4, 4, 3, 2, 1};
  hops = greedy_vs_fixed(7, 7, conv_edges(&E, conv, 5), &E, 1, &best);
  ck_assert_uint_lt(hops, best);
  E.n = 0;
  uint32_t conv2[] = {8, 6, 4, 2, 1};
  hops = greedy_vs_fixed(11, 11, conv_edges(&E, conv2, 5), &E, 7, &best);
  ck_assert_uint_lt(hops, best);
  E.n = 0;

  /* a plain chain: the snake (and hilbert) are optimal, greedy ties */
  for (uint32_t g = 0; g + 1 < 64; g++)
    add(&E, g, g + 1, 5);
  hops = greedy_vs_fixed(8, 8, 64, &E, 1, &best);
  ck_assert_uint_eq(hops, 63 * 5);
  E.n = 0;

  /* random graphs, repeated pairs and self edges included */
  for (uint64_t s = 1; s <= 4; s++) {
    greedy_vs_fixed(15, 14, random_edges(&E, s, 200, 1000), &E, s, &best);
    E.n = 0;
  }
  /* no edges at all: every order costs 0 */
  hops = greedy_vs_fixed(5, 5, 20, &E, 1, &best);
  ck_assert_uint_eq(hops, 0);
  free(E.e);
}
END_TEST

/* Two halves of n groups, every group of one sending to every group of
 * the other: over balanced splits of the nodes, the cross distances sum
 * to at least half of all pairwise distances (Manhattan distance is of
 * negative type), which an interleaving nearly reaches; the halves one
 * above the other (rowmajor) are far from it. */
START_TEST(test_greedy_interleaves_two_all_to_all_halves) {
  for (uint32_t side = 4; side <= 16; side *= 2) {
    struct edges E = {0};
    uint32_t half[] = {side * side / 2, side * side / 2};
    uint32_t n = mlp_edges(&E, half, 2, 1);
    /* all pairwise distances: per axis side^2 * side (side^2 - 1) / 6 */
    uint64_t all = 2 * (uint64_t)side * side * side * (side * side - 1) / 6;
    uint64_t best, hops = greedy_vs_fixed(side, side, n, &E, 3, &best);
    ck_assert_uint_ge(2 * hops, all);
    ck_assert_msg(hops * 1000 <= (all / 2) * 1002, "%ux%u: %llu vs bound %llu",
                  side, side, (unsigned long long)hops,
                  (unsigned long long)(all / 2));
    ck_assert_uint_gt(best * 100, (all / 2) * 110); /* the fixed orders */
    free(E.e);
  }
}
END_TEST

/* The least hops over every injective placement, by enumeration. */
static uint64_t brute_force(uint32_t w, uint32_t h, uint32_t n,
                            const struct edges *E) {
  uint32_t nodes = w * h, node[16], used[16] = {0};
  uint64_t best = UINT64_MAX;
  int depth = 0;
  node[0] = UINT32_MAX;
  while (depth >= 0) {
    if (node[depth] != UINT32_MAX)
      used[node[depth]] = 0;
    uint32_t v = node[depth] + 1; /* UINT32_MAX + 1 = 0 */
    while (v < nodes && used[v])
      v++;
    if (v >= nodes) {
      node[depth--] = UINT32_MAX;
      continue;
    }
    node[depth] = v;
    used[v] = 1;
    if ((uint32_t)depth + 1 == n) {
      uint64_t c = count_hops(w, node, E);
      if (c < best)
        best = c;
    } else {
      node[++depth] = UINT32_MAX;
    }
  }
  return best;
}

START_TEST(test_greedy_finds_the_optimum_of_small_meshes) {
  static const uint32_t cases[][3] = {{3, 2, 6}, {3, 3, 7}, {3, 3, 9},
                                      {4, 2, 8}, {4, 2, 6}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (uint64_t s = 1; s <= 3; s++) {
      uint32_t w = cases[i][0], h = cases[i][1], n = cases[i][2];
      struct edges E = {0};
      random_edges(&E, 100 * i + s, n, 2 * n);
      uint64_t best, hops = greedy_vs_fixed(w, h, n, &E, s, &best);
      uint64_t opt = brute_force(w, h, n, &E);
      ck_assert_msg(hops == opt, "%ux%u, %u groups, graph %llu: %llu, optimum "
                    "%llu", w, h, n, (unsigned long long)s,
                    (unsigned long long)hops, (unsigned long long)opt);
      free(E.e);
    }
}
END_TEST

START_TEST(test_greedy_gives_the_same_nodes_for_a_seed) {
  struct edges E = {0};
  uint32_t n = random_edges(&E, 9, 120, 600);
  uint32_t *a = place(MODEL_PLACE_K_GREEDY, 42, 11, 11, n, &E);
  uint32_t *b = place(MODEL_PLACE_K_GREEDY, 42, 11, 11, n, &E);
  ck_assert_mem_eq(a, b, n * sizeof *a);
  /* the seed is read: some other seed gives other nodes */
  int differ = 0;
  for (uint64_t s = 1; s <= 8 && !differ; s++) {
    uint32_t *c = place(MODEL_PLACE_K_GREEDY, s, 11, 11, n, &E);
    differ = memcmp(a, c, n * sizeof *a) != 0;
    free(c);
  }
  ck_assert(differ);
  /* the fixed orders ignore it */
  uint32_t *h1 = place(MODEL_PLACE_K_HILBERT, 1, 11, 11, n, &E);
  uint32_t *h2 = place(MODEL_PLACE_K_HILBERT, 2, 11, 11, n, &E);
  ck_assert_mem_eq(h1, h2, n * sizeof *h1);
  free(h1);
  free(h2);
  free(a);
  free(b);
  free(E.e);
}
END_TEST

/* Budget 0: the best start as it is.  A star of group 0 and four others
 * on 3x3: the construction puts 0 on node 0 (no placed neighbour: every
 * free node costs 0, the lowest wins), 1 on node 1 (distance 1, before
 * node 3), 2 on node 3, 3 on node 2 (distance 2: nodes 2, 4 and 6), 4 on
 * node 4: 1 + 1 + 2 + 2 = 6 hops per unit weight, which rowmajor ties and
 * loses to by the tie rule. */
START_TEST(test_construction_takes_the_nearest_free_node_lowest_first) {
  struct edges E = {0};
  for (uint32_t g = 1; g <= 4; g++)
    add(&E, 0, g, 10);
  uint32_t node[5];
  struct model_place_stats st;
  struct sm_err err;
  ck_assert_int_eq(
      model_place_greedy(1, 3, 3, 5, E.e, E.n, 0, node, &st, &err), 0);
  uint32_t want[] = {0, 1, 3, 2, 4};
  ck_assert_mem_eq(node, want, sizeof want);
  ck_assert_int_eq(st.start, MODEL_PLACE_START_CONSTRUCTIVE);
  ck_assert_uint_eq(st.start_hops[MODEL_PLACE_START_CONSTRUCTIVE], 60);
  ck_assert_uint_eq(st.start_hops[MODEL_PLACE_START_ROWMAJOR], 60);
  ck_assert_uint_eq(st.evals, 0);
  ck_assert_uint_eq(st.moves, 0);
  ck_assert_uint_eq(st.hops, 60);
  /* with its budget it finds the hub's centre: 4 x 1 hop */
  ck_assert_int_eq(model_place_greedy(1, 3, 3, 5, E.e, E.n,
                                      model_place_greedy_budget(5), node, &st,
                                      &err),
                   0);
  ck_assert_uint_eq(st.hops, 40);
  ck_assert_uint_eq(count_hops(3, node, &E), 40);
  ck_assert_uint_eq(node[0], 4);
  free(E.e);
}
END_TEST

/* The construction replayed by brute force: each group, in order, on a
 * free node of least weighted distance to the groups placed before it,
 * the lowest such node.  (Budget 0 returns it where it beats the fixed
 * orders, as on these random graphs.) */
START_TEST(test_construction_matches_a_brute_force_replay) {
  int replayed = 0;
  for (uint64_t gs = 1; gs <= 6; gs++) {
    uint32_t w = 9, h = 7, n = 50;
    struct edges E = {0};
    random_edges(&E, gs, n, 150);
    uint32_t node[50];
    struct model_place_stats st;
    struct sm_err err;
    ck_assert_int_eq(
        model_place_greedy(gs, w, h, n, E.e, E.n, 0, node, &st, &err), 0);
    if (st.start != MODEL_PLACE_START_CONSTRUCTIVE)
      continue;
    replayed++;
    char used[63] = {0};
    for (uint32_t g = 0; g < n; g++) {
      uint64_t best = UINT64_MAX;
      uint32_t at = UINT32_MAX;
      for (uint32_t p = 0; p < w * h; p++) {
        if (used[p])
          continue;
        uint64_t c = 0;
        for (size_t i = 0; i < E.n; i++) {
          uint32_t o = E.e[i].src == g ? E.e[i].dst
                       : E.e[i].dst == g ? E.e[i].src
                                         : UINT32_MAX;
          if (o == UINT32_MAX || o >= g) /* not an edge of g's, or not placed */
            continue;
          c += E.e[i].weight *
               (uint64_t)(labs((long)(p % w) - (long)(node[o] % w)) +
                          labs((long)(p / w) - (long)(node[o] / w)));
        }
        if (c < best) {
          best = c;
          at = p;
        }
      }
      ck_assert_msg(node[g] == at, "graph %llu, group %u: node %u, replay %u",
                    (unsigned long long)gs, g, node[g], at);
      used[at] = 1;
    }
    free(E.e);
  }
  ck_assert_int_ge(replayed, 3);
}
END_TEST

/* Cut short (a budget whose descent is a few evaluations), the result is
 * still the best placement met, never above the start. */
START_TEST(test_greedy_returns_the_best_placement_met) {
  struct edges E = {0};
  uint32_t n = random_edges(&E, 11, 40, 160), node[40];
  for (uint64_t budget = 40; budget <= 400; budget += 9)
    for (uint64_t seed = 1; seed <= 4; seed++) {
      struct model_place_stats st;
      struct sm_err err;
      ck_assert_int_eq(model_place_greedy(seed, 8, 6, n, E.e, E.n, budget,
                                          node, &st, &err),
                       0);
      assert_distinct_nodes(node, n, 48);
      uint64_t hops = count_hops(8, node, &E);
      ck_assert_uint_eq(st.hops, hops);
      ck_assert_uint_le(hops, st.start_hops[st.start]);
    }
  free(E.e);
}
END_TEST

START_TEST(test_greedy_budget_is_per_group_and_capped) {
  ck_assert_uint_eq(model_place_greedy_budget(0), 0);
  ck_assert_uint_eq(model_place_greedy_budget(10),
                    MODEL_PLACE_GREEDY_MIN_EVALS);
  ck_assert_uint_eq(model_place_greedy_budget(200),
                    200 * MODEL_PLACE_GREEDY_EVALS_PER_GROUP);
  ck_assert_uint_eq(model_place_greedy_budget(4096),
                    MODEL_PLACE_GREEDY_MAX_EVALS);
  /* a budget is a bound on evaluations */
  struct edges E = {0};
  uint32_t n = random_edges(&E, 5, 100, 400), node[100];
  struct model_place_stats st;
  struct sm_err err;
  ck_assert_int_eq(
      model_place_greedy(1, 10, 10, n, E.e, E.n, 777, node, &st, &err), 0);
  ck_assert_uint_le(st.evals, 777);
  ck_assert_uint_gt(st.evals, 0);
  ck_assert_uint_eq(st.hops, count_hops(10, node, &E));
  free(E.e);
}
END_TEST

/* ---- bad inputs ---------------------------------------------------------- */

START_TEST(test_bad_inputs_are_refused_naming_the_fault) {
  uint32_t node[64];
  struct sm_err err;
  struct model_place_edge e[] = {{0, 1, 1}, {1, 2, 1}, {2, 9, 1}};
  for (int k = 0; k < MODEL_PLACE_NKINDS; k++) {
    /* more groups than nodes: both numbers */
    ck_assert_int_eq(model_place_nodes(k, 1, 3, 3, 10, e, 2, node, &err),
                     SM_ENOFIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "10 groups"));
    ck_assert_ptr_nonnull(strstr(err.msg, "9 nodes"));
    ck_assert_ptr_nonnull(strstr(err.msg, model_place_name(k)));
    /* an edge out of range: its index */
    ck_assert_int_eq(model_place_nodes(k, 1, 3, 3, 9, e, 3, node, &err),
                     SM_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "edge 2 (2 -> 9)"));
    ck_assert_ptr_nonnull(strstr(err.msg, "destination group 9"));
    ck_assert_int_eq(model_place_nodes(k, 1, 3, 3, 0, e, 1, node, &err),
                     SM_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "edge 0"));
    ck_assert_ptr_nonnull(strstr(err.msg, "source group 0"));
    /* a mesh without nodes, a side over the limit */
    ck_assert_int_eq(model_place_nodes(k, 1, 0, 3, 0, NULL, 0, node, &err),
                     SM_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "0x3"));
    ck_assert_int_eq(model_place_nodes(k, 1, 65, 1, 1, NULL, 0, node, &err),
                     SM_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "65x1"));
    /* weights whose hops could overflow */
    struct model_place_edge heavy[] = {{0, 1, UINT64_MAX / 8},
                                       {1, 0, UINT64_MAX / 8}};
    ck_assert_int_eq(model_place_nodes(k, 1, 2, 2, 2, heavy, 2, node, &err),
                     SM_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "2^61"));
    struct model_place_edge past[] = {{0, 1, UINT64_MAX}, {1, 0, 1}};
    ck_assert_int_eq(model_place_nodes(k, 1, 2, 2, 2, past, 2, node, &err),
                     SM_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "edge 1"));
    /* but a heavy edge to itself costs nothing anywhere */
    struct model_place_edge self[] = {{0, 0, UINT64_MAX}, {0, 1, 1}};
    ck_assert_int_eq(model_place_nodes(k, 1, 2, 2, 2, self, 2, node, &err), 0);
    /* an edge count past the index's 32 bits (refused before reading) */
    ck_assert_int_eq(model_place_nodes(k, 1, 2, 2, 2, e, (size_t)UINT32_MAX + 1,
                                       node, &err),
                     SM_ELIMIT);
  }
  for (int k = -1; k <= MODEL_PLACE_NKINDS; k += MODEL_PLACE_NKINDS + 1) {
    ck_assert_int_eq(model_place_nodes(k, 1, 3, 3, 2, e, 2, node, &err),
                     SM_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown"));
    ck_assert_ptr_nonnull(strstr(err.msg, MODEL_PLACE_CHOICES));
  }
  /* NULL err is allowed */
  ck_assert_int_eq(model_place_nodes(MODEL_PLACE_K_GREEDY, 1, 3, 3, 10, e, 2,
                                     node, NULL),
                   SM_ENOFIT);
}
END_TEST

/* ---- bench --------------------------------------------------------------- */

static int bench(int all) {
  struct edges E = {0};
  uint32_t half[] = {2048, 2048}, n = 4096;
  uint64_t t0 = sm_now_ns();
  if (all) {
    for (uint32_t a = 0; a < n; a++)
      for (uint32_t b = 0; b < n; b++)
        if (a != b)
          add(&E, a, b, 1);
  } else {
    mlp_edges(&E, half, 2, 1);
  }
  uint32_t *node = malloc(n * sizeof *node);
  struct model_place_stats st;
  struct sm_err err;
  uint64_t t1 = sm_now_ns();
  clock_t c1 = clock();
  int rc = model_place_greedy(1, 64, 64, n, E.e, E.n,
                              model_place_greedy_budget(n), node, &st, &err);
  clock_t c2 = clock();
  uint64_t t2 = sm_now_ns();
  if (rc) {
    fprintf(stderr, "check_place bench: %s\n", err.msg);
    return EXIT_FAILURE;
  }
  printf("greedy, 64x64 mesh, %u groups, %zu edges (%s, weight 1):\n", n,
         E.n, all ? "every pair" : "all-to-all between the halves");
  static const char *names[] = {"construction", "rowmajor", "snake",
                                "hilbert"};
  for (int k = 0; k < MODEL_PLACE_NSTARTS; k++)
    printf("  start %-12s %llu hops%s\n", names[k],
           (unsigned long long)st.start_hops[k],
           k == st.start ? " (refined)" : "");
  printf("  result %llu hops after %llu evaluations (budget %llu), %llu "
         "moves taken\n",
         (unsigned long long)st.hops, (unsigned long long)st.evals,
         (unsigned long long)model_place_greedy_budget(n),
         (unsigned long long)st.moves);
  if (!all)
    printf("  lower bound (half of all pairwise distances) %llu\n",
           (unsigned long long)(2ull * 64 * 64 * 64 * (64 * 64 - 1) / 6 / 2));
  printf("  time %.3f s wall, %.3f s processor (building the edge list: "
         "%.3f s wall, not included)\n",
         (double)(t2 - t1) * 1e-9, (double)(c2 - c1) / CLOCKS_PER_SEC,
         (double)(t1 - t0) * 1e-9);
  free(node);
  free(E.e);
  return EXIT_SUCCESS;
}

static Suite *place_suite(void) {
  Suite *s = suite_create("place");
  TCase *t = tcase_create("fixed");
  tcase_add_test(t, test_names_follow_the_choices_string);
  tcase_add_test(t, test_rowmajor_and_snake_are_the_mappers_placement);
  tcase_add_test(t, test_hilbert_visits_every_node_once_in_unit_steps);
  tcase_add_test(t, test_hilbert_fills_quadrants_on_power_of_two_meshes);
  tcase_add_test(t, test_hilbert_keeps_runs_of_groups_compact);
  tcase_add_test(t, test_fewer_groups_than_nodes_take_the_curves_first_nodes);
  tcase_add_test(t, test_hops_equal_a_hand_count);
  suite_add_tcase(s, t);
  t = tcase_create("greedy");
  tcase_set_timeout(t, 120); /* sanitizers, valgrind */
  tcase_add_test(t, test_greedy_is_never_worse_than_the_fixed_orders);
  tcase_add_test(t, test_greedy_interleaves_two_all_to_all_halves);
  tcase_add_test(t, test_greedy_finds_the_optimum_of_small_meshes);
  tcase_add_test(t, test_greedy_gives_the_same_nodes_for_a_seed);
  tcase_add_test(t, test_construction_takes_the_nearest_free_node_lowest_first);
  tcase_add_test(t, test_construction_matches_a_brute_force_replay);
  tcase_add_test(t, test_greedy_returns_the_best_placement_met);
  tcase_add_test(t, test_greedy_budget_is_per_group_and_capped);
  suite_add_tcase(s, t);
  t = tcase_create("refusals");
  tcase_add_test(t, test_bad_inputs_are_refused_naming_the_fault);
  suite_add_tcase(s, t);
  return s;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "bench"))
    return bench(argc == 3 && !strcmp(argv[2], "all"));
  SRunner *sr = srunner_create(place_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
