/*
 * check_map.c -- the mapper: partition, placement and routing tables
 * checked by hand on small models built in memory, refusals that name the
 * layer and the shortfall, and the architecture presets.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "models/map.h"
#include "models/synth.h"

static int8_t zeros[1 << 20];

static struct model_layer dense(int in, int out) {
  struct model_layer l = {.type = MODEL_DENSE, .in_c = in, .in_h = 1, .in_w = 1,
                          .out_c = out, .out_h = 1, .out_w = 1, .bits = 4,
                          .scale = 0.1f, .q = zeros};
  l.nweights = (size_t)in * (size_t)out;
  return l;
}

static struct model_layer conv(int ic, int h, int oc, int k) {
  struct model_layer l = {.type = MODEL_CONV, .in_c = ic, .in_h = h, .in_w = h,
                          .out_c = oc, .out_h = h - k + 1, .out_w = h - k + 1,
                          .kernel = k, .stride = 1, .pad = 0, .bits = 4,
                          .scale = 0.1f, .q = zeros};
  l.nweights = (size_t)oc * (size_t)ic * (size_t)k * (size_t)k;
  return l;
}

static struct model_layer pool(int c, int h, int k) {
  struct model_layer l = {.type = MODEL_POOL, .in_c = c, .in_h = h, .in_w = h,
                          .out_c = c, .out_h = h / k, .out_w = h / k,
                          .kernel = k, .stride = k};
  return l;
}

static struct model_layer flatten(int c, int h) {
  struct model_layer l = {.type = MODEL_FLATTEN, .in_c = c, .in_h = h, .in_w = h,
                          .out_c = c * h * h, .out_h = 1, .out_w = 1};
  return l;
}

/* 784-800-10 */
static struct model_layer mlp_layers[2];
static struct model mlp(void) {
  mlp_layers[0] = dense(784, 800);
  mlp_layers[1] = dense(800, 10);
  struct model m = {.in_c = 1, .in_h = 28, .in_w = 28, .a_max = 1, .tw = 1,
                    .nlayers = 2, .layers = mlp_layers};
  return m;
}

/* 28x28 - 16C5 - P2 - 32C5 - P2 - flatten - 10 */
static struct model_layer cnn_layers[6];
static struct model cnn(void) {
  cnn_layers[0] = conv(1, 28, 16, 5);  /* 16 x 24x24 */
  cnn_layers[1] = pool(16, 24, 2);     /* 16 x 12x12 */
  cnn_layers[2] = conv(16, 12, 32, 5); /* 32 x 8x8 */
  cnn_layers[3] = pool(32, 8, 2);      /* 32 x 4x4 */
  cnn_layers[4] = flatten(32, 4);
  cnn_layers[5] = dense(512, 10);
  struct model m = {.in_c = 1, .in_h = 28, .in_w = 28, .a_max = 1, .tw = 1,
                    .nlayers = 6, .layers = cnn_layers};
  return m;
}

static struct model_map_params params(void) {
  struct model_map_params p = {.neurons_per_core = 1024, .sram_bytes = 1 << 20,
                               .weight_bits = 4, .width = 0, .height = 0,
                               .placement = MODEL_PLACE_ROWMAJOR,
                               .sram_fit = MODEL_SRAM_REFUSE};
  return p;
}

START_TEST(test_mlp_maps_to_three_cores_with_chain_routing) {
  struct model m = mlp();
  struct model_map_params p = params();
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  ck_assert_uint_eq(mp->nlayers, 3);
  ck_assert_uint_eq(mp->ngroups, 3);
  ck_assert_uint_eq(mp->width, 2); /* auto: smallest square holding 3 */
  ck_assert_uint_eq(mp->height, 2);
  /* rowmajor: nodes 0, 1, 2 */
  for (uint32_t g = 0; g < 3; g++) {
    ck_assert_uint_eq(mp->groups[g].node, g);
    ck_assert_uint_eq(mp->groups[g].layer, g);
    ck_assert_uint_eq(mp->node_group[g], g);
  }
  ck_assert_uint_eq(mp->node_group[3], UINT32_MAX);
  ck_assert_uint_eq(mp->groups[0].neurons, 784);
  ck_assert_uint_eq(mp->groups[0].sram_bytes, 0); /* input core: no synapses */
  ck_assert_uint_eq(mp->groups[1].sram_bytes, 784 * 800 / 2 + 4);
  ck_assert_uint_eq(mp->groups[2].sram_bytes, 800 * 10 / 2 + 4);
  uint32_t n;
  const uint32_t *d = model_map_dests(mp, 0, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(d[0], 1);
  d = model_map_dests(mp, 1, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(d[0], 2);
  model_map_dests(mp, 2, &n);
  ck_assert_uint_eq(n, 0);
  model_map_free(mp);
  /* snake: the third group turns the corner to node 3 (row 1, column 1) */
  p.placement = MODEL_PLACE_SNAKE;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  ck_assert_uint_eq(mp->groups[2].node, 3);
  d = model_map_dests(mp, 1, &n);
  ck_assert_uint_eq(d[0], 3);
  model_map_free(mp);
  model_map_free(NULL);
}
END_TEST

START_TEST(test_dense_layer_splits_into_near_equal_groups) {
  struct model_layer ls[2] = {dense(100, 2500), dense(2500, 10)};
  struct model m = {.in_c = 100, .in_h = 1, .in_w = 1, .nlayers = 2, .layers = ls};
  struct model_map_params p = params();
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  ck_assert_uint_eq(mp->layers[1].ngroups, 3);
  const struct model_map_group *g = &mp->groups[mp->layers[1].first_group];
  ck_assert_uint_eq(g[0].c0, 0);
  ck_assert_uint_eq(g[0].c1, 834);
  ck_assert_uint_eq(g[1].c1, 1667);
  ck_assert_uint_eq(g[2].c1, 2500);
  ck_assert_uint_eq(g[2].neurons, 833);
  /* the input's group sends to all three, the three to the output */
  uint32_t n;
  const uint32_t *d = model_map_dests(mp, 0, &n);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(d[0], 1);
  ck_assert_uint_eq(d[2], 3);
  for (uint32_t i = 1; i <= 3; i++) {
    d = model_map_dests(mp, i, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(d[0], 4);
  }
  ck_assert_uint_eq(mp->width, 3);
  model_map_free(mp);
}
END_TEST

START_TEST(test_cnn_groups_follow_channels_and_fuse_pooling) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.placement = MODEL_PLACE_SNAKE;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  ck_assert_uint_eq(mp->nlayers, 4);
  /* conv1: 24x24 = 576 neurons per channel -> one channel per core */
  ck_assert_uint_eq(mp->layers[1].ngroups, 16);
  ck_assert_int_eq(mp->layers[1].pool, 2);
  ck_assert_int_eq(mp->layers[1].pool_layer, 1);
  /* conv2: 8x8 = 64 per channel -> 16 channels per core, 2 cores */
  ck_assert_uint_eq(mp->layers[2].ngroups, 2);
  ck_assert_int_eq(mp->layers[2].pool_layer, 3);
  ck_assert_uint_eq(mp->layers[3].ngroups, 1);
  ck_assert_int_eq(mp->layers[3].model_layer, 5);
  ck_assert_uint_eq(mp->ngroups, 20);
  ck_assert_uint_eq(mp->width, 5);
  /* SRAM: conv kernels stored once per channel */
  const struct model_map_group *g1 = &mp->groups[mp->layers[1].first_group];
  ck_assert_uint_eq(g1->sram_bytes, (25 * 4 + 7) / 8 + 4);
  const struct model_map_group *g2 = &mp->groups[mp->layers[2].first_group];
  ck_assert_uint_eq(g2->sram_bytes, 16 * 16 * 25 / 2 + 4);
  ck_assert_uint_eq(g2[1].c0, 16);
  /* every conv1 group sends to both conv2 groups */
  uint32_t n;
  const uint32_t *d = model_map_dests(mp, 5, &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(d[0], g2[0].node);
  ck_assert_uint_eq(d[1], g2[1].node);
  /* snake on a 5-wide mesh: groups 5..9 run right to left on row 1 */
  ck_assert_uint_eq(mp->groups[5].node, 9);
  ck_assert_uint_eq(mp->groups[9].node, 5);
  ck_assert_uint_eq(mp->groups[10].node, 10);
  /* the mapper's SRAM formula is the cores' */
  struct core_layer cl = {.kind = CORE_LAYER_CONV, .in_c = 16, .in_h = 12,
                          .in_w = 12, .out_c = 32, .out_h = 8, .out_w = 8,
                          .kernel = 5, .stride = 1, .pool = 2, .bits = 4};
  ck_assert_uint_eq(core_slice_sram(&cl, 16, 4), g2->sram_bytes);
  FILE *devnull = fopen("/dev/null", "w");
  model_map_print(mp, &m, devnull);
  fclose(devnull);
  model_map_free(mp);
}
END_TEST

/* The groups of a built mapping, fed back to model_map_assemble, give
 * the same mapping. */
START_TEST(test_assemble_rebuilds_what_build_made) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.neurons_per_core = 100;
  struct model_map *mp, *again;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  struct model_map_group *gs = calloc(mp->ngroups, sizeof *gs);
  for (uint32_t g = 0; g < mp->ngroups; g++) {
    const struct model_map_group *G = &mp->groups[g];
    gs[g] = (struct model_map_group){.layer = G->layer, .c0 = G->c0,
                                     .c1 = G->c1, .y0 = G->y0, .y1 = G->y1,
                                     .x0 = G->x0, .x1 = G->x1,
                                     .node = G->node};
  }
  p.width = mp->width;
  p.height = mp->height;
  ck_assert_msg(model_map_assemble(&m, &p, gs, mp->ngroups, &again, &err) == 0,
                "%s", err.msg);
  ck_assert_uint_eq(again->ngroups, mp->ngroups);
  ck_assert_uint_eq(again->ndst, mp->ndst);
  ck_assert(!memcmp(again->groups, mp->groups, mp->ngroups * sizeof *gs));
  ck_assert(!memcmp(again->dst, mp->dst, mp->ndst * sizeof *mp->dst));
  ck_assert(!memcmp(again->layers, mp->layers, mp->nlayers * sizeof *mp->layers));
  model_map_free(again);
  free(gs);
  model_map_free(mp);
}
END_TEST

START_TEST(test_placement_snake_keeps_consecutive_groups_adjacent) {
  for (uint32_t w = 1; w <= 8; w++)
    for (uint32_t g = 0; g + 1 < w * w; g++) {
      uint32_t a = model_map_place(MODEL_PLACE_SNAKE, w, g);
      uint32_t b = model_map_place(MODEL_PLACE_SNAKE, w, g + 1);
      int dx = abs((int)(a % w) - (int)(b % w)), dy = abs((int)(a / w) - (int)(b / w));
      ck_assert_int_eq(dx + dy, 1);
    }
  ck_assert_uint_eq(model_map_place(MODEL_PLACE_ROWMAJOR, 4, 5), 5);
  ck_assert_uint_eq(model_map_place(MODEL_PLACE_SNAKE, 4, 5), 6);
}
END_TEST

START_TEST(test_mesh_too_small_is_refused_with_shortfall) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.width = 4;
  p.height = 4;
  struct model_map *mp = (void *)1;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert(mp == NULL);
  ck_assert_msg(strstr(err.msg, "mesh 4x4 has 16 nodes") &&
                    strstr(err.msg, "needs 20 cores") &&
                    strstr(err.msg, "layer 1: 16") && strstr(err.msg, "short by 4"),
                "%s", err.msg);
  p.width = 5;
  p.height = 4;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  model_map_free(mp);
  /* more cores than the largest mesh */
  struct model_layer ls[2] = {dense(4, 70 * 70 * 1024), dense(70 * 70 * 1024, 2)};
  struct model big = {.in_c = 4, .in_h = 1, .in_w = 1, .nlayers = 1, .layers = ls};
  p.width = p.height = 0;
  p.sram_bytes = UINT64_MAX / 16;
  ck_assert_int_eq(model_map_build(&big, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "64x64"), "%s", err.msg);
}
END_TEST

START_TEST(test_small_sram_is_refused_naming_the_layer) {
  struct model m = mlp();
  struct model_map_params p = params();
  p.sram_bytes = 300000;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (dense)") &&
                    strstr(err.msg, "313604 bytes") &&
                    strstr(err.msg, "short by 13604"),
                "%s", err.msg);
  /* split: two groups of 400 neurons (156,804 bytes each) */
  p.sram_fit = MODEL_SRAM_SPLIT;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  ck_assert_uint_eq(mp->layers[1].ngroups, 2);
  ck_assert_uint_eq(mp->groups[1].sram_bytes, 400 * 784 / 2 + 4);
  model_map_free(mp);
  /* a single neuron that cannot fit is refused even when splitting */
  p.sram_bytes = 300;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (dense)"), "%s", err.msg);
  /* conv: split goes to the next divisor of the channel count */
  struct model c = cnn();
  p = params();
  p.sram_bytes = 1700;
  ck_assert_int_eq(model_map_build(&c, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 2 (conv)"), "%s", err.msg);
  p.sram_fit = MODEL_SRAM_SPLIT;
  ck_assert_int_eq(model_map_build(&c, &p, &mp, &err), 0);
  /* 16 ch x 16 x 25 / 2 = 3204 bytes; 4 ch = 804; 8 ch = 1604 fits 1700 */
  ck_assert_uint_eq(mp->layers[2].ngroups, 4);
  model_map_free(mp);
}
END_TEST

START_TEST(test_oversized_channel_and_bad_models_are_refused) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.neurons_per_core = 3;
  struct model_map *mp;
  struct sm_err err = {0};
  /* a 2x2 pooling window of 4 neurons cannot be split across cores */
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (conv+pool2): a 2x2 pooling window "
                                "cannot be split across cores and needs 4 "
                                "neurons; core.neurons_per_core = 3") &&
                    strstr(err.msg, "smallest legal core.neurons_per_core "
                                    "for this model (mesh at most 64x64) is 4"),
                "%s", err.msg);
  p.neurons_per_core = 4;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), 0);
  model_map_free(mp);
  /* float weights */
  struct model f = mlp();
  mlp_layers[1].bits = 0;
  mlp_layers[1].q = NULL;
  p = params();
  ck_assert_int_eq(model_map_build(&f, &p, &mp, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "not quantized"), "%s", err.msg);
  /* wider weights than the SRAM word */
  f = mlp();
  mlp_layers[0].bits = 8;
  ck_assert_int_eq(model_map_build(&f, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "layer 1 (dense): 8-bit"), "%s", err.msg);
  /* a pool first, two pools in a row, no spiking layer */
  struct model_layer ls[3] = {pool(1, 28, 2), dense(196, 10), pool(10, 1, 1)};
  struct model b = {.in_c = 1, .in_h = 28, .in_w = 28, .nlayers = 1, .layers = ls};
  ck_assert_int_eq(model_map_build(&b, &p, &mp, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "model layer 0 (pool)"), "%s", err.msg);
  struct model_layer ls2[3] = {conv(1, 28, 2, 5), pool(2, 24, 2), pool(2, 12, 2)};
  b.layers = ls2;
  b.nlayers = 3;
  ck_assert_int_eq(model_map_build(&b, &p, &mp, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "model layer 2 (pool)"), "%s", err.msg);
  struct model_layer ls3[1] = {flatten(1, 28)};
  b.layers = ls3;
  b.nlayers = 1;
  ck_assert_int_eq(model_map_build(&b, &p, &mp, &err), SM_EINVAL);
}
END_TEST

/* ---- tiles ------------------------------------------------------------------ */

/* A conv layer of any kernel, stride and padding on an h x h input. */
static struct model_layer convx(int ic, int h, int oc, int k, int s, int pad) {
  struct model_layer l = conv(ic, h, oc, k);
  l.stride = s;
  l.pad = pad;
  l.out_h = l.out_w = (h + 2 * pad - k) / s + 1;
  return l;
}

/* 12x12 - 4C3 same - P2 - 3C3 same - P2 - flatten - 5: padding "same" and
 * two fused pools. */
static struct model_layer same_layers[6];
static struct model same_net(void) {
  same_layers[0] = convx(1, 12, 4, 3, 1, 1); /* 4 x 12x12 */
  same_layers[1] = pool(4, 12, 2);           /* 4 x 6x6 */
  same_layers[2] = convx(4, 6, 3, 3, 1, 1);  /* 3 x 6x6 */
  same_layers[3] = pool(3, 6, 2);            /* 3 x 3x3 */
  same_layers[4] = flatten(3, 3);
  same_layers[5] = dense(27, 5);
  struct model m = {.in_c = 1, .in_h = 12, .in_w = 12, .a_max = 1, .tw = 1,
                    .nlayers = 6, .layers = same_layers};
  return m;
}

/* 12x12 - 2C2 valid (11x11) - P2 (5x5, crops a row and a column) - 2C1
 * stride 2 (3x3: kernels with gaps between them) - 2C3 stride 2 pad 1
 * (2x2) - flatten - 3. */
static struct model_layer odd_layers[6];
static struct model odd_net(void) {
  odd_layers[0] = convx(1, 12, 2, 2, 1, 0);
  odd_layers[1] = pool(2, 11, 2);
  odd_layers[2] = convx(2, 5, 2, 1, 2, 0);
  odd_layers[3] = convx(2, 3, 2, 3, 2, 1);
  odd_layers[4] = flatten(2, 2);
  odd_layers[5] = dense(8, 3);
  struct model m = {.in_c = 1, .in_h = 12, .in_w = 12, .a_max = 1, .tw = 1,
                    .nlayers = 6, .layers = odd_layers};
  return m;
}

/* Whether output (c, py, px) of layer l (after pooling) has a synapse to
 * some neuron of group D of layer l+1, neuron by neuron from the kernel. */
static int reaches(const struct model *m, const struct model_map *mp,
                   uint32_t l, uint32_t py, uint32_t px,
                   const struct model_map_group *D) {
  const struct model_layer *ml = &m->layers[mp->layers[l + 1].model_layer];
  if (ml->type == MODEL_DENSE)
    return 1;
  for (uint32_t y = D->y0; y < D->y1; y++)
    for (uint32_t x = D->x0; x < D->x1; x++) {
      int ky = (int)py - ((int)y * ml->stride - ml->pad);
      int kx = (int)px - ((int)x * ml->stride - ml->pad);
      if (ky >= 0 && ky < ml->kernel && kx >= 0 && kx < ml->kernel)
        return 1;
    }
  return 0;
}

/* The node list as a set of groups (via node_group), in a bitmap. */
static void as_groups(const struct model_map *mp, const uint32_t *nodes,
                      uint32_t n, uint8_t *set) {
  memset(set, 0, mp->ngroups);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t g = mp->node_group[nodes[i]];
    if (g >= mp->ngroups || set[g]) /* a node without a group, or twice */
      ck_abort_msg("destination node %u: group %u", nodes[i], g);
    set[g] = 1;
  }
}

/* Every spike's destinations, every group's routing table and every edge
 * weight against the brute-force sets from the receptive fields.  Returns
 * whether some output reaches no neuron at all (strided kernels with gaps). */
static int check_routes(const struct model *m, uint64_t npc) {
  struct model_map_params p = params();
  p.neurons_per_core = npc;
  p.placement = MODEL_PLACE_SNAKE;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_build(m, &p, &mp, &err) == 0, "%s", err.msg);
  struct model_map_edge *e;
  size_t ne = model_map_edges(mp, m, &e), ie = 0;
  uint8_t *got = calloc(mp->ngroups, 1), *uni = calloc(mp->ngroups, 1),
          *want = calloc(mp->ngroups, 1);
  uint64_t *weight = calloc(mp->ngroups, sizeof *weight);
  uint32_t *owner = calloc(4096, sizeof *owner);
  int split_seen = 0, gap_seen = 0;
  for (uint32_t l = 0; l + 1 < mp->nlayers; l++) {
    const struct model_map_layer *L = &mp->layers[l], *N = &mp->layers[l + 1];
    uint32_t pw = L->w / (uint32_t)L->pool, ph = L->h / (uint32_t)L->pool;
    ck_assert_uint_le(model_map_layer_outputs(L), 4096);
    model_map_output_owners(mp, l, owner);
    for (uint32_t g = L->first_group; g < L->first_group + L->ngroups; g++) {
      const struct model_map_group *S = &mp->groups[g];
      memset(uni, 0, mp->ngroups);
      memset(weight, 0, mp->ngroups * sizeof *weight);
      for (uint32_t c = S->c0; c < S->c1; c++)
        for (uint32_t py = 0; py < ph; py++)
          for (uint32_t px = 0; px < pw; px++) {
            uint32_t y = py * (uint32_t)L->pool, x = px * (uint32_t)L->pool;
            if (y < S->y0 || y >= S->y1 || x < S->x0 || x >= S->x1)
              continue; /* not this group's output */
            uint32_t out = (c * ph + py) * pw + px;
            if (owner[out] != g)
              ck_abort_msg("output %u: owner %u, not %u", out, owner[out], g);
            uint32_t n;
            const uint32_t *d = model_map_spike_dests(mp, g, out, &n);
            as_groups(mp, d, n, got);
            uint32_t nwant = 0;
            for (uint32_t k = N->first_group; k < N->first_group + N->ngroups;
                 k++) {
              want[k] = (uint8_t)reaches(m, mp, l, py, px, &mp->groups[k]);
              nwant += want[k];
              weight[k] += want[k];
              uni[k] |= want[k];
            }
            for (uint32_t k = 0; k < mp->ngroups; k++)
              if (got[k] != (k >= N->first_group &&
                             k < N->first_group + N->ngroups && want[k]))
                ck_abort_msg("npc %llu: group %u output %u: destination "
                             "group %u is %d",
                             (unsigned long long)npc, g, out, k, got[k]);
            split_seen |= nwant < N->ngroups && nwant > 0;
            gap_seen |= nwant == 0;
          }
      uint32_t n;
      const uint32_t *d = model_map_dests(mp, g, &n);
      as_groups(mp, d, n, got);
      ck_assert(!memcmp(got, uni, mp->ngroups));
      for (uint32_t k = N->first_group; k < N->first_group + N->ngroups; k++) {
        if (!weight[k])
          continue;
        ck_assert_uint_lt(ie, ne);
        ck_assert_uint_eq(e[ie].src, g);
        ck_assert_uint_eq(e[ie].dst, k);
        ck_assert_uint_eq(e[ie].weight, weight[k]);
        ie++;
      }
    }
  }
  ck_assert_uint_eq(ie, ne);
  /* the split layers must actually split the next layer's destinations */
  ck_assert(split_seen);
  free(e);
  free(got);
  free(uni);
  free(want);
  free(weight);
  free(owner);
  model_map_free(mp);
  return gap_seen;
}

START_TEST(test_split_conv_routes_equal_receptive_fields) {
  struct model m = same_net();
  uint64_t sizes[] = {4, 8, 16, 20, 36, 50, 72};
  for (size_t i = 0; i < SM_ARRAY_LEN(sizes); i++)
    check_routes(&m, sizes[i]);
  m = odd_net();
  uint64_t odd[] = {9, 12, 25, 30};
  for (size_t i = 0; i < SM_ARRAY_LEN(odd); i++)
    ck_assert(check_routes(&m, odd[i])); /* 1x1 kernels, stride 2 */
  m = cnn();
  check_routes(&m, 64);
  check_routes(&m, 256);
}
END_TEST

/* Tiles when a channel's map exceeds a core: one channel per group, the
 * fewest tiles that fit, sides on whole pooling windows, the halo and the
 * SRAM of what the core stores. */
START_TEST(test_tiles_cut_maps_along_pooling_windows) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.neurons_per_core = 64;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_build(&m, &p, &mp, &err) == 0, "%s", err.msg);
  /* input 28x28: 2 x 7 tiles of 14x4 = 56 (3 x 5 and 4 x 4 need more) */
  ck_assert_uint_eq(mp->layers[0].ngroups, 14);
  const struct model_map_group *g = &mp->groups[0];
  ck_assert_uint_eq(g[0].y1, 14);
  ck_assert_uint_eq(g[0].x1, 4);
  ck_assert_uint_eq(g[13].y0, 14);
  ck_assert_uint_eq(g[13].x0, 24);
  ck_assert_uint_eq(g[13].neurons, 56);
  /* conv1 24x24, pool 2: 3 x 3 tiles of 8x8 per channel, tile by tile
   * with the 16 channels of a tile together */
  ck_assert_uint_eq(mp->layers[1].ngroups, 144);
  g = &mp->groups[mp->layers[1].first_group];
  ck_assert_uint_eq(g[0].c0, 0);
  ck_assert_uint_eq(g[15].c0, 15);
  ck_assert_uint_eq(g[16].c0, 0);
  ck_assert_uint_eq(g[16].x0, 8);
  ck_assert_uint_eq(g[16].x1, 16);
  ck_assert_uint_eq(g[16].y1, 8);
  /* tile rows [0, 8), columns [8, 16): a 5x5 valid kernel reads input rows
   * [0, 12) and columns [8, 20) */
  ck_assert_uint_eq(g[16].iy0, 0);
  ck_assert_uint_eq(g[16].iy1, 12);
  ck_assert_uint_eq(g[16].ix0, 8);
  ck_assert_uint_eq(g[16].ix1, 20);
  /* SRAM: one channel's 1 x 5 x 5 kernel, 4 bits, and the scale */
  ck_assert_uint_eq(g[16].sram_bytes, (25 * 4 + 7) / 8 + 4);
  /* conv2 8x8 = 64: a whole channel per core, the halo the whole 12x12 */
  ck_assert_uint_eq(mp->layers[2].ngroups, 32);
  g = &mp->groups[mp->layers[2].first_group];
  ck_assert_uint_eq(g[3].c0, 3);
  ck_assert_uint_eq(g[3].y1, 8);
  ck_assert_uint_eq(g[3].iy1, 12);
  ck_assert_uint_eq(g[3].ix1, 12);
  ck_assert_uint_eq(g[3].sram_bytes, 16 * 25 * 4 / 8 + 4);
  /* dense: its halo is the previous layer's pooled 4x4 map */
  g = &mp->groups[mp->layers[3].first_group];
  ck_assert_uint_eq(g->iy1, 4);
  ck_assert_uint_eq(g->ix1, 4);
  ck_assert_uint_eq(mp->groups[0].iy1, 0); /* the input reads nothing */
  model_map_free(mp);
  /* 256: conv1 in 3 strips of 24x8 (192) beat 4 tiles of 12x12 */
  p.neurons_per_core = 256;
  ck_assert_msg(model_map_build(&m, &p, &mp, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(mp->layers[0].ngroups, 4); /* 14x14 */
  ck_assert_uint_eq(mp->groups[0].y1, 14);
  ck_assert_uint_eq(mp->groups[0].x1, 14);
  ck_assert_uint_eq(mp->layers[1].ngroups, 48);
  g = &mp->groups[mp->layers[1].first_group];
  ck_assert_uint_eq(g[0].y1, 24);
  ck_assert_uint_eq(g[0].x1, 8);
  model_map_free(mp);
  /* a crop: 11x11 with 2x2 pooling keeps 5x5 windows; the last tiles take
   * the cropped row and column */
  struct model o = odd_net();
  p.neurons_per_core = 30;
  ck_assert_msg(model_map_build(&o, &p, &mp, &err) == 0, "%s", err.msg);
  const struct model_map_layer *L = &mp->layers[1];
  uint64_t total = 0;
  for (uint32_t i = 0; i < L->ngroups; i++) {
    const struct model_map_group *G = &mp->groups[L->first_group + i];
    ck_assert_uint_le(G->neurons, 30);
    ck_assert(G->y0 % 2 == 0 && (G->y1 % 2 == 0 || G->y1 == 11));
    ck_assert(G->x0 % 2 == 0 && (G->x1 % 2 == 0 || G->x1 == 11));
    total += G->neurons;
  }
  ck_assert_uint_eq(total, 2 * 11 * 11);
  model_map_free(mp);
}
END_TEST

/* Every model at every core size maps; the groups of a layer hold each
 * neuron once, fit the core and never split a pooling window. */
START_TEST(test_every_model_maps_at_every_core_size) {
  struct model_synth_conf sc = {.arch = MODEL_SYNTH_VGG16, .width_div = 16};
  struct model *vgg = model_synth_shape(&sc);
  struct model mods[4] = {mlp(), cnn(), same_net(), *vgg};
  uint64_t sizes[] = {64, 128, 256, 512, 1024, 4096};
  for (size_t i = 0; i < SM_ARRAY_LEN(mods); i++)
    for (size_t j = 0; j < SM_ARRAY_LEN(sizes); j++) {
      struct model_map_params p = params();
      p.neurons_per_core = sizes[j];
      struct model_map *mp;
      struct sm_err err = {0};
      ck_assert_msg(model_map_build(&mods[i], &p, &mp, &err) == 0,
                    "model %zu at %llu: %s", i, (unsigned long long)sizes[j],
                    err.msg);
      for (uint32_t l = 0; l < mp->nlayers; l++) {
        const struct model_map_layer *L = &mp->layers[l];
        uint8_t *seen = calloc((size_t)L->channels * L->plane, 1);
        int whole = L->plane <= sizes[j];
        for (uint32_t k = 0; k < L->ngroups; k++) {
          const struct model_map_group *G = &mp->groups[L->first_group + k];
          ck_assert_uint_le(G->neurons, sizes[j]);
          ck_assert_uint_eq(G->layer, l);
          uint32_t pl = (uint32_t)L->pool;
          ck_assert(G->y0 % pl == 0 && G->x0 % pl == 0);
          ck_assert(G->y1 % pl == 0 || G->y1 == L->h);
          ck_assert(G->x1 % pl == 0 || G->x1 == L->w);
          /* a channel that fits a core is never cut */
          if (whole)
            ck_assert(G->y0 == 0 && G->y1 == L->h && G->x0 == 0 &&
                      G->x1 == L->w);
          for (uint32_t c = G->c0; c < G->c1; c++)
            for (uint32_t y = G->y0; y < G->y1; y++)
              for (uint32_t x = G->x0; x < G->x1; x++)
                seen[(size_t)c * L->plane + y * L->w + x]++;
        }
        size_t bad = 0;
        for (size_t n = 0; n < (size_t)L->channels * L->plane; n++)
          bad += seen[n] != 1;
        ck_assert_msg(bad == 0, "model %zu at %llu, layer %u: %zu neurons "
                      "not in exactly one group", i,
                      (unsigned long long)sizes[j], l, bad);
        free(seen);
      }
      model_map_free(mp);
    }
  model_free(vgg);
}
END_TEST

/* The refusal's smallest legal core size is the smallest that maps. */
START_TEST(test_smallest_legal_core_size_is_the_boundary) {
  struct model m = cnn();
  struct model_map_params p = params();
  p.width = p.height = 8;
  p.neurons_per_core = 64;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  const char *k = "the smallest legal core.neurons_per_core for this model on "
                  "a 8x8 mesh is ";
  const char *at = strstr(err.msg, k);
  ck_assert_msg(at && strstr(err.msg, "mesh 8x8 has 64 nodes"), "%s", err.msg);
  unsigned long long lo = strtoull(at + strlen(k), NULL, 10);
  ck_assert(lo > 64 && lo < 1024);
  p.neurons_per_core = lo;
  ck_assert_msg(model_map_build(&m, &p, &mp, &err) == 0, "%s", err.msg);
  ck_assert_uint_le(mp->ngroups, 64);
  model_map_free(mp);
  p.neurons_per_core = lo - 1;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "mesh 8x8 has 64 nodes"), "%s", err.msg);
  /* SRAM bounds the sizes from above: "legal: lo to hi" */
  struct model n = mlp();
  p = params();
  p.sram_bytes = 1000; /* 784 4-bit weights: 396 bytes a neuron */
  ck_assert_int_eq(model_map_build(&n, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "map.sram_fit=split") &&
                    strstr(err.msg, "is 1 (legal: 1 to 2)"),
                "%s", err.msg);
  p.neurons_per_core = 2;
  ck_assert_int_eq(model_map_build(&n, &p, &mp, &err), 0);
  model_map_free(mp);
  p.neurons_per_core = 3;
  ck_assert_int_eq(model_map_build(&n, &p, &mp, &err), SM_ENOFIT);
  /* and nothing fits when one neuron is too big for the SRAM */
  p.sram_bytes = 300;
  p.sram_fit = MODEL_SRAM_SPLIT;
  ck_assert_int_eq(model_map_build(&n, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "no core.neurons_per_core fits this model"),
                "%s", err.msg);
}
END_TEST

/* A channel map far larger than any mesh of cores is refused at once,
 * with a lower bound on the cores, and still names a size that fits. */
START_TEST(test_huge_maps_are_refused_quickly) {
  struct model_layer ls[1] = {dense(1 << 28, 2)};
  struct model m = {.in_c = 1, .in_h = 1 << 14, .in_w = 1 << 14,
                    .nlayers = 1, .layers = ls};
  struct model_map_params p = params();
  p.sram_bytes = UINT64_MAX / 16;
  struct model_map *mp;
  struct sm_err err = {0};
  uint64_t t0 = sm_now_ns();
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  const char *k = "smallest legal core.neurons_per_core for this model (mesh "
                  "at most 64x64) is ";
  const char *at = strstr(err.msg, k);
  ck_assert_msg(strstr(err.msg, "the mapping needs at least 262145 cores "
                                "(layer 0: at least 262144, layer 1: 1)") &&
                    at,
                "%s", err.msg);
  /* 4096 tiles of 256x256 leave no node for the dense layer: 4095 tiles
   * of a little more */
  unsigned long long lo = strtoull(at + strlen(k), NULL, 10);
  ck_assert_msg(lo > 65536 && lo < 67000, "%s", err.msg);
  /* a tall single column: 2^28 rows of one pixel */
  m.in_h = 1 << 28;
  m.in_w = 1;
  p.neurons_per_core = 1;
  ck_assert_int_eq(model_map_build(&m, &p, &mp, &err), SM_ENOFIT);
  ck_assert_msg(strstr(err.msg, "at least"), "%s", err.msg);
  ck_assert_msg(sm_now_ns() - t0 < 2000000000ull, "took %llu ns",
                (unsigned long long)(sm_now_ns() - t0));
}
END_TEST

/* ---- model_map_assemble: each rule ----------------------------------------- */

/* The CNN at 100 neurons per core on a 16x16 mesh: groups the caller may
 * edit. */
static struct model_map_group *groups_of(const struct model *m, uint32_t *n,
                                         struct model_map_params *p) {
  *p = params();
  p->neurons_per_core = 100;
  p->width = p->height = 16;
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_build(m, p, &mp, &err) == 0, "%s", err.msg);
  *n = mp->ngroups;
  struct model_map_group *gs = calloc(*n + 1, sizeof *gs);
  for (uint32_t g = 0; g < *n; g++) {
    const struct model_map_group *G = &mp->groups[g];
    gs[g] = (struct model_map_group){.layer = G->layer, .c0 = G->c0,
                                     .c1 = G->c1, .y0 = G->y0, .y1 = G->y1,
                                     .x0 = G->x0, .x1 = G->x1,
                                     .node = G->node};
  }
  model_map_free(mp);
  return gs;
}

/* Assemble expecting refusal `code` with every string of `want` in the
 * message. */
static void refused(const struct model *m, const struct model_map_params *p,
                    const struct model_map_group *gs, uint32_t n, int code,
                    const char *w1, const char *w2) {
  struct model_map *mp = (void *)1;
  struct sm_err err = {0};
  ck_assert_int_eq(model_map_assemble(m, p, gs, n, &mp, &err), code);
  ck_assert(mp == NULL);
  ck_assert_msg(strstr(err.msg, w1) && (!w2 || strstr(err.msg, w2)),
                "'%s' lacks '%s' / '%s'", err.msg, w1, w2 ? w2 : "");
}

START_TEST(test_assemble_refuses_each_rule_naming_the_group) {
  struct model m = cnn();
  struct model_map_params p;
  uint32_t n;
  struct model_map_group *base = groups_of(&m, &n, &p), *gs = calloc(n + 1, sizeof *gs);
  /* the groups: input 8 tiles of 14x7 (0..7), conv1 6 tiles of 12x8 x 16
   * channels (8..103, channel c of tile t is 8 + 16 t + c), conv2 32
   * channels (104..135), the dense output (136) */
#define RESET() memcpy(gs, base, n * sizeof *gs)
  RESET();
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_assemble(&m, &p, gs, n, &mp, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(mp->layers[1].first_group, 8);
  ck_assert_uint_eq(mp->layers[2].first_group, 104);
  ck_assert_uint_eq(mp->groups[13].c0, 5);
  ck_assert_uint_eq(mp->groups[13].x1, 8);
  model_map_free(mp);
  /* capacity */
  struct model_map_params q = p;
  q.neurons_per_core = 80;
  refused(&m, &q, gs, n, SM_ENOFIT, "group 0 (layer 0, input): over capacity: "
                                    "98 neurons; core.neurons_per_core = 80",
          "short by 18");
  /* SRAM: conv2's channels need 204 bytes each */
  q = p;
  q.sram_bytes = 200;
  refused(&m, &q, gs, n, SM_ENOFIT, "group 104 (layer 2, conv): over SRAM: 204 "
                                    "bytes",
          "core.sram_bytes = 200 (short by 4)");
  /* a node outside the mesh */
  gs[7].node = 256;
  refused(&m, &p, gs, n, SM_EINVAL, "group 7: node 256 is outside the 16x16 mesh",
          NULL);
  /* two groups on one node */
  RESET();
  gs[20].node = gs[11].node;
  refused(&m, &p, gs, n, SM_EINVAL, "groups 11 and 20 are both on node",
          "one core per router");
  /* a layer that does not exist */
  RESET();
  gs[n - 1].layer = 4;
  refused(&m, &p, gs, n, SM_EINVAL, "group 136: layer 4 does not exist",
          "layers 0..3");
  /* out of layer order */
  RESET();
  gs[9].layer = 0;
  refused(&m, &p, gs, n, SM_EINVAL, "group 9 (layer 0) comes after a group of "
                                    "layer 1",
          "layer by layer");
  /* empty ranges and ranges outside the map */
  RESET();
  gs[30].y1 = gs[30].y0;
  refused(&m, &p, gs, n, SM_EINVAL, "group 30 (layer 1, conv): empty range: rows",
          NULL);
  RESET();
  gs[2].c0 = 1;
  gs[2].c1 = 1;
  refused(&m, &p, gs, n, SM_EINVAL, "group 2 (layer 0, input): empty range: "
                                    "channels [1, 1)",
          NULL);
  RESET();
  gs[110].c1 = 40;
  refused(&m, &p, gs, n, SM_EINVAL, "group 110 (layer 2, conv): channels [6, 40) "
                                    "outside the layer's 32 channels",
          NULL);
  /* a tile edge inside a pooling window */
  RESET();
  gs[8].x1 = 7;
  refused(&m, &p, gs, n, SM_EINVAL, "group 8 (layer 1, conv): columns [0, 7) split "
                                    "a 2x2 pooling window",
          "fused pooling stays inside a core");
  /* a neuron in no group: drop conv1's tile 0 of channel 5 (group 13) */
  RESET();
  memmove(gs + 13, gs + 14, (n - 14) * sizeof *gs);
  refused(&m, &p, gs, n - 1, SM_EINVAL, "layer 1 (conv): neuron (channel 5, y 0, "
                                        "x 0) is not in any group",
          NULL);
  /* a neuron in two groups: channel 5's first tile once more, elsewhere */
  RESET();
  memmove(gs + 14, gs + 13, (n - 13) * sizeof *gs);
  gs[14].node = 255;
  refused(&m, &p, gs, n + 1, SM_EINVAL, "groups 13 and 14 both hold layer 1 "
                                        "(conv) neuron (channel 5, y 0, x 0)",
          NULL);
  /* the mesh must be given */
  RESET();
  q = p;
  q.width = 0;
  refused(&m, &q, gs, n, SM_EINVAL, "mesh 0x16: expected 1..64", NULL);
#undef RESET
  free(gs);
  free(base);
}
END_TEST

/* ---- presets ---------------------------------------------------------------- */

struct arch {
  struct core_conf core;
  struct core_energy_conf energy;
  struct model_preset_conf preset;
  struct model_map_conf map;
};

static void arch_conf(struct arch *a, struct sm_conf *c) {
  sm_conf_init(c);
  sm_conf_add(c, core_conf_opts, core_conf_nopts, &a->core);
  sm_conf_add(c, core_energy_conf_opts, core_energy_conf_nopts, &a->energy);
  sm_conf_add(c, model_preset_conf_opts, model_preset_conf_nopts, &a->preset);
  sm_conf_add(c, model_map_conf_opts, model_map_conf_nopts, &a->map);
}

/* Load a preset; keys of sections not registered here (the network's
 * "noc") are set aside, since their table lives in another module. */
static int load_preset(const char *name, struct arch *a, struct sm_err *err) {
  char path[1024];
  int rc = model_preset_path(name, path, sizeof path, err);
  if (rc)
    return rc;
  struct sm_conf c;
  arch_conf(a, &c);
  rc = sm_conf_defaults(&c, err);
  if (rc)
    return rc;
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s: %s", path, je.text);
  json_object_del(root, "noc");
  rc = sm_conf_load_json(&c, root, path, err);
  json_decref(root);
  return rc;
}

START_TEST(test_paper_preset_has_the_papers_figures) {
  struct arch a;
  struct sm_err err = {0};
  ck_assert_msg(load_preset(MODEL_DEFAULT_PRESET, &a, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(a.preset.name, "paper-22nm");
  ck_assert_uint_eq(a.core.neurons_per_core, 1024);
  ck_assert_uint_eq(a.core.weight_bits, 4);
  ck_assert(a.energy.e_sop_pj == 20);
  ck_assert(a.energy.e_hop_pj == 100);
  ck_assert(a.energy.e_static_uj == 3.52);
  ck_assert_int_eq(a.energy.static_mode, CORE_STATIC_PER_FRAME);
  ck_assert(strlen(a.preset.sources) > 20 && strlen(a.preset.energy_note) > 20);
}
END_TEST

START_TEST(test_every_preset_loads_and_states_sources) {
  const char *names[] = {"paper-22nm", "manycore-14nm"};
  for (size_t i = 0; i < SM_ARRAY_LEN(names); i++) {
    struct arch a;
    struct sm_err err = {0};
    ck_assert_msg(load_preset(names[i], &a, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(a.preset.name, names[i]);
    ck_assert(strlen(a.preset.description) > 20);
    ck_assert(strlen(a.preset.sources) > 20);
    ck_assert(strlen(a.preset.energy_note) > 20);
  }
  struct arch a;
  struct sm_err err = {0};
  ck_assert_int_eq(load_preset("no-such-chip", &a, &err), SM_ENOENT);
  ck_assert_msg(strstr(err.msg, "no-such-chip"), "%s", err.msg);
  ck_assert_int_eq(load_preset("/nonexistent/x.json", &a, &err), SM_ENOENT);
}
END_TEST

/* The source tree's models/ as the data directory names it (resolved). */
static const char *src_models(void) {
  static char dir[4096];
  char *r = realpath(SM_SRCDIR "/models", NULL);
  ck_assert_ptr_nonnull(r);
  snprintf(dir, sizeof dir, "%s", r);
  free(r);
  return dir;
}

START_TEST(test_paper_tables_are_found_like_presets) {
  char path[1024], want[4096];
  struct sm_err err = {0};
  /* by name: this test program runs from the build tree, so the source
   * tree's models/paper/ */
  ck_assert_msg(model_paper_path("table2", path, sizeof path, &err) == 0, "%s",
                err.msg);
  snprintf(want, sizeof want, "%s/paper/table2.json", src_models());
  ck_assert_str_eq(path, want);
  struct core_theory t;
  ck_assert_msg(core_theory_load(path, NULL, 0, NULL, 0, &t, &err) == 0, "%s",
                err.msg);
  ck_assert_uint_eq(t.nrows, 6);
  core_theory_free(&t);
  /* by path, as given */
  ck_assert_int_eq(model_paper_path(SM_SRCDIR "/models/paper/table2.json", path,
                                    sizeof path, &err),
                   0);
  ck_assert_str_eq(path, SM_SRCDIR "/models/paper/table2.json");
  /* refusals name what was looked for and where */
  ck_assert_int_eq(model_paper_path("table9", path, sizeof path, &err),
                   SM_ENOENT);
  snprintf(want, sizeof want,
           "paper table 'table9' not found in %s/paper (the source tree: "
           "the program runs from its build tree)", src_models());
  ck_assert_str_eq(err.msg, want);
  ck_assert_int_eq(model_paper_path("/nonexistent/t.json", path, sizeof path,
                                    &err),
                   SM_ENOENT);
  ck_assert_msg(strstr(err.msg, "paper table file '/nonexistent/t.json'"),
                "%s", err.msg);
  /* presets keep their own words */
  ck_assert_int_eq(model_preset_path("table2", path, sizeof path, &err),
                   SM_ENOENT);
  snprintf(want, sizeof want,
           "architecture preset 'table2' not found in %s/arch (", src_models());
  ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
  ck_assert_int_eq(model_preset_path("/nonexistent/x.json", path, sizeof path,
                                     &err),
                   SM_ENOENT);
  ck_assert_str_eq(err.msg,
                   "architecture file '/nonexistent/x.json' not found");
}
END_TEST

START_TEST(test_data_directory_follows_where_the_program_runs) {
  char dir[4096];
  /* SPIKEMESH_DATA wins wherever the program is */
  ck_assert_int_eq(model_data_dir_for("/some/models", SM_BINDIR, dir,
                                      sizeof dir),
                   MODEL_DATA_ENV);
  ck_assert_str_eq(dir, "/some/models");
  /* installed in $(bindir): $(pkgdatadir), even with a build tree around */
  ck_assert_int_eq(model_data_dir_for(NULL, SM_BINDIR, dir, sizeof dir),
                   MODEL_DATA_INSTALLED);
  ck_assert_str_eq(dir, SM_DATADIR);
  ck_assert_int_eq(model_data_dir_for("", SM_BINDIR, dir, sizeof dir),
                   MODEL_DATA_INSTALLED);
  /* staged by make install DESTDIR=/stage: the staged data */
  ck_assert_int_eq(model_data_dir_for(NULL, "/stage" SM_BINDIR, dir,
                                      sizeof dir),
                   MODEL_DATA_STAGED);
  ck_assert_str_eq(dir, "/stage" SM_DATADIR);
  /* the build tree (and below it, as the test programs are) */
  char *build = realpath(SM_BUILDDIR, NULL);
  ck_assert_ptr_nonnull(build);
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/tests", build);
  ck_assert_int_eq(model_data_dir_for(NULL, build, dir, sizeof dir),
                   MODEL_DATA_SOURCE);
  ck_assert_str_eq(dir, src_models());
  ck_assert_int_eq(model_data_dir_for(NULL, sub, dir, sizeof dir),
                   MODEL_DATA_SOURCE);
  /* a sibling whose name only starts like the build tree is not in it */
  snprintf(sub, sizeof sub, "%s-other", build);
  ck_assert_int_eq(model_data_dir_for(NULL, sub, dir, sizeof dir),
                   MODEL_DATA_INSTALLED);
  free(build);
  /* anywhere else, or unknown: $(pkgdatadir) */
  ck_assert_int_eq(model_data_dir_for(NULL, "/opt/elsewhere", dir, sizeof dir),
                   MODEL_DATA_INSTALLED);
  ck_assert_str_eq(dir, SM_DATADIR);
  ck_assert_int_eq(model_data_dir_for(NULL, NULL, dir, sizeof dir),
                   MODEL_DATA_INSTALLED);
  /* and this process, a test program in the build tree */
  unsetenv("SPIKEMESH_DATA");
  ck_assert_int_eq(model_data_dir(dir, sizeof dir), MODEL_DATA_SOURCE);
  ck_assert_str_eq(dir, src_models());
}
END_TEST

static Suite *map_suite(void) {
  Suite *s = suite_create("map");
  TCase *t = tcase_create("partition");
  tcase_add_test(t, test_mlp_maps_to_three_cores_with_chain_routing);
  tcase_add_test(t, test_dense_layer_splits_into_near_equal_groups);
  tcase_add_test(t, test_cnn_groups_follow_channels_and_fuse_pooling);
  tcase_add_test(t, test_placement_snake_keeps_consecutive_groups_adjacent);
  tcase_add_test(t, test_assemble_rebuilds_what_build_made);
  tcase_add_test(t, test_tiles_cut_maps_along_pooling_windows);
  tcase_add_test(t, test_every_model_maps_at_every_core_size);
  tcase_add_test(t, test_split_conv_routes_equal_receptive_fields);
  suite_add_tcase(s, t);
  t = tcase_create("refusals");
  tcase_add_test(t, test_mesh_too_small_is_refused_with_shortfall);
  tcase_add_test(t, test_small_sram_is_refused_naming_the_layer);
  tcase_add_test(t, test_oversized_channel_and_bad_models_are_refused);
  tcase_add_test(t, test_smallest_legal_core_size_is_the_boundary);
  tcase_add_test(t, test_huge_maps_are_refused_quickly);
  tcase_add_test(t, test_assemble_refuses_each_rule_naming_the_group);
  suite_add_tcase(s, t);
  t = tcase_create("presets");
  tcase_add_test(t, test_paper_preset_has_the_papers_figures);
  tcase_add_test(t, test_every_preset_loads_and_states_sources);
  tcase_add_test(t, test_paper_tables_are_found_like_presets);
  tcase_add_test(t, test_data_directory_follows_where_the_program_runs);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(map_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
