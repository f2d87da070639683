/*
 * check_coresize.c -- any layer at any core size.  Every shipped model (the
 * MLP and the CNN files, and a synthetic VGG16) mapped onto cores of 64,
 * 128, 256, 512, 1024 and 4096 neurons fires exactly the spikes of the
 * 1024-neuron mapping, frame by frame and neuron by neuron in every layer,
 * and decides the same class.  The comparison holds only where timing is
 * ideal, which each frame shows: no delivery dropped after its window and
 * no spike time moved by an arrival (perturbed = 0).  SOPs equal an
 * independent count: over the spikes actually sent, the synapses each has
 * into the next layer, from the layer shapes alone.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

#define FRAMES 3
#define MAX_LAYERS 32

static const uint64_t sizes[] = {1024, 64, 128, 256, 512, 4096};

/* Synapses output i of mapping layer l has into layer l + 1, from the
 * model's shapes (no core or mapper code). */
static uint64_t synapses(const struct model *m, const struct model_map *mp,
                         uint32_t l, uint32_t i) {
  const struct model_layer *ml = &m->layers[mp->layers[l + 1].model_layer];
  if (ml->type == MODEL_DENSE)
    return (uint64_t)ml->out_c;
  int plane = ml->in_h * ml->in_w;
  int iy = (int)i % plane / ml->in_w, ix = (int)i % ml->in_w;
  uint64_t ny = 0, nx = 0;
  for (int oy = 0; oy < ml->out_h; oy++) {
    int ky = iy + ml->pad - oy * ml->stride;
    ny += ky >= 0 && ky < ml->kernel;
  }
  for (int ox = 0; ox < ml->out_w; ox++) {
    int kx = ix + ml->pad - ox * ml->stride;
    nx += kx >= 0 && kx < ml->kernel;
  }
  return (uint64_t)ml->out_c * ny * nx;
}

struct count {
  const struct model *m;
  const struct model_map *mp;
  uint64_t sops;  /* synapses of the spikes sent this frame */
  uint64_t sent;
};

static void on_spike(void *ctx, uint32_t core, uint32_t layer, uint32_t neuron,
                     uint32_t step, sim_time_t t) {
  (void)core;
  (void)step;
  (void)t;
  struct count *c = ctx;
  c->sent++;
  if (layer + 1 < c->mp->nlayers)
    c->sops += synapses(c->m, c->mp, layer, neuron);
}

/* Fire steps of every layer, every frame, at one core size. */
struct result {
  int32_t *fire[FRAMES][MAX_LAYERS];
  int pred[FRAMES];
  uint64_t sops[FRAMES];
  uint32_t cores;
};

static void run_at(const struct model *m, uint64_t npc, struct result *res) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  o.core.neurons_per_core = npc;
  struct run_sim *r;
  ck_assert_msg(run_sim_new(m, &o, 0, 0, &r, &err) == 0, "%s at %llu: %s",
                m->name, (unsigned long long)npc, err.msg);
  const struct model_map *mp = run_sim_map(r);
  ck_assert_uint_le(mp->nlayers, MAX_LAYERS);
  res->cores = mp->ngroups;
  struct count cnt = {.m = m, .mp = mp};
  run_sim_set_spike_hook(r, on_spike, &cnt);
  size_t npix = (size_t)m->in_c * m->in_h * m->in_w;
  uint8_t *img = malloc(npix);
  for (int f = 0; f < FRAMES; f++) {
    model_synth_image(7, (uint64_t)f, m->in_c, m->in_h, m->in_w, img);
    cnt.sops = cnt.sent = 0;
    struct run_frame fr;
    ck_assert_msg(run_sim_frame(r, img, &fr, &err) == 0, "%s", err.msg);
    /* ideal timing: nothing dropped, no spike time moved by an arrival */
    ck_assert_msg(fr.dropped == 0 && fr.perturbed == 0,
                  "%s at %llu, frame %d: %llu dropped, %llu perturbed",
                  m->name, (unsigned long long)npc, f,
                  (unsigned long long)fr.dropped,
                  (unsigned long long)fr.perturbed);
    ck_assert_uint_eq(fr.spikes, cnt.sent);
    ck_assert_msg(fr.sops == cnt.sops, "%s at %llu, frame %d: %llu SOPs, %llu "
                  "synapses sent",
                  m->name, (unsigned long long)npc, f,
                  (unsigned long long)fr.sops, (unsigned long long)cnt.sops);
    res->pred[f] = fr.pred;
    res->sops[f] = fr.sops;
    for (uint32_t l = 0; l < mp->nlayers; l++) {
      size_t n = (size_t)mp->layers[l].channels * mp->layers[l].plane;
      res->fire[f][l] = malloc(n * sizeof(int32_t));
      memcpy(res->fire[f][l], core_array_fire_steps(run_sim_cores(r), l),
             n * sizeof(int32_t));
    }
  }
  free(img);
  run_sim_free(r);
}

static void result_free(struct result *res) {
  for (int f = 0; f < FRAMES; f++)
    for (int l = 0; l < MAX_LAYERS; l++)
      free(res->fire[f][l]);
}

/* The model at every size against its 1024-neuron mapping. */
static void check_model(const struct model *m) {
  struct model_map_params p = {.neurons_per_core = 1024,
                               .sram_bytes = UINT64_MAX / 16,
                               .weight_bits = 8};
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_build(m, &p, &mp, &err) == 0, "%s", err.msg);
  uint32_t nlayers = mp->nlayers;
  size_t *nn = calloc(nlayers, sizeof *nn);
  for (uint32_t l = 0; l < nlayers; l++)
    nn[l] = (size_t)mp->layers[l].channels * mp->layers[l].plane;
  model_map_free(mp);
  struct result ref = {0};
  run_at(m, sizes[0], &ref);
  uint64_t fired = 0;
  for (int f = 0; f < FRAMES; f++)
    for (uint32_t l = 1; l < nlayers; l++)
      for (size_t j = 0; j < nn[l]; j++)
        fired += ref.fire[f][l][j] != CORE_SILENT;
  ck_assert_msg(fired > 100, "%s: only %llu neurons fired", m->name,
                (unsigned long long)fired);
  uint32_t last_cores = ref.cores;
  for (size_t s = 1; s < SM_ARRAY_LEN(sizes); s++) {
    struct result got = {0};
    run_at(m, sizes[s], &got);
    /* smaller cores, more of them: the cut is real */
    if (sizes[s] < 1024)
      ck_assert_uint_gt(got.cores, ref.cores);
    last_cores = got.cores;
    for (int f = 0; f < FRAMES; f++) {
      ck_assert_int_eq(got.pred[f], ref.pred[f]);
      ck_assert_uint_eq(got.sops[f], ref.sops[f]);
      for (uint32_t l = 0; l < nlayers; l++) {
        size_t bad = 0, first = 0;
        for (size_t j = nn[l]; j-- > 0;)
          if (got.fire[f][l][j] != ref.fire[f][l][j]) {
            bad++;
            first = j;
          }
        ck_assert_msg(bad == 0,
                      "%s at %llu, frame %d, layer %u: %zu neurons fire "
                      "otherwise than at 1024 (first %zu: %d, not %d)",
                      m->name, (unsigned long long)sizes[s], f, l, bad, first,
                      bad ? got.fire[f][l][first] : 0,
                      bad ? ref.fire[f][l][first] : 0);
      }
    }
    result_free(&got);
  }
  ck_assert_uint_le(last_cores, ref.cores); /* 4096: fewer or as many */
  result_free(&ref);
  free(nn);
}

static struct model *shipped(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/models/%s", SM_SRCDIR, name);
  struct model *m;
  struct sm_err err = {0};
  ck_assert_msg(model_load(path, &m, &err) == 0, "%s", err.msg);
  return m;
}

START_TEST(test_mlp_fires_alike_at_every_core_size) {
  struct model *m = shipped("fmnist-mlp.json");
  check_model(m);
  model_free(m);
}
END_TEST

START_TEST(test_cnn_fires_alike_at_every_core_size) {
  struct model *m = shipped("fmnist-cnn.json");
  check_model(m);
  model_free(m);
}
END_TEST

START_TEST(test_synthetic_vgg_fires_alike_at_every_core_size) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  o.synth.arch = MODEL_SYNTH_VGG16;
  o.synth.width_div = 16;
  o.synth.calib_images = 1;
  struct model *m;
  struct model_synth_report rep;
  ck_assert_msg(model_synth_model(&o.synth, (uint32_t)o.core.steps_per_window,
                                  o.core.fire_round, &m, &rep, &err) == 0,
                "%s", err.msg);
  check_model(m);
  model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("coresize");
  TCase *t = tcase_create("models");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, test_mlp_fires_alike_at_every_core_size);
  tcase_add_test(t, test_cnn_fires_alike_at_every_core_size);
  tcase_add_test(t, test_synthetic_vgg_fires_alike_at_every_core_size);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
