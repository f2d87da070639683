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
  suite_add_tcase(s, t);
  t = tcase_create("refusals");
  tcase_add_test(t, test_mesh_too_small_is_refused_with_shortfall);
  tcase_add_test(t, test_small_sram_is_refused_naming_the_layer);
  tcase_add_test(t, test_oversized_channel_and_bad_models_are_refused);
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
