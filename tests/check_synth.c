/*
 * check_synth.c -- synthetic CIFAR-10 VGG models (cli/synth.c): the
 * paper's VGG16 shape maps to about 280k neurons on 276 cores; the
 * calibration hits its sparsity target (within 2%) on a reduced-width
 * VGG16, and the simulated cores fire as the calibration's forward says;
 * weights and images are deterministic; bad options are refused with the
 * key named.
 *
 * The full-width VGG16 calibration takes seconds (doc/energy.md shows its
 * figures); here the widths are divided by 8 so that the test program also
 * runs under the sanitizers and valgrind.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "models/synth.h"

static void defaults(struct run_options *o, struct sm_conf *c) {
  struct sm_err err = {0};
  run_options_init(o, c);
  ck_assert(sm_conf_defaults(c, &err) == 0);
}

START_TEST(test_vgg16_shape_maps_to_280k_neurons_on_276_cores) {
  struct run_options o;
  struct sm_conf c;
  defaults(&o, &c);
  ck_assert_int_eq(o.synth.arch, MODEL_SYNTH_VGG16);
  ck_assert(fabs(o.synth.sparsity - 0.2561) < 1e-12);
  struct model *m = model_synth_shape(&o.synth);
  int conv = 0, dense = 0, pool = 0;
  uint64_t neurons = 3 * 32 * 32;
  for (size_t i = 0; i < m->nlayers; i++) {
    const struct model_layer *L = &m->layers[i];
    conv += L->type == MODEL_CONV;
    dense += L->type == MODEL_DENSE;
    pool += L->type == MODEL_POOL;
    if (L->type == MODEL_CONV) {
      ck_assert_int_eq(L->kernel, 3);
      ck_assert_int_eq(L->out_h, L->in_h); /* same padding */
    }
    if (L->type == MODEL_CONV || L->type == MODEL_DENSE)
      neurons += model_layer_neurons(L);
  }
  ck_assert_int_eq(conv, 13);
  ck_assert_int_eq(dense, 3);
  ck_assert_int_eq(pool, 5);
  ck_assert_uint_eq(neurons, 280586);
  ck_assert_int_eq(m->layers[m->nlayers - 1].out_c, 10);
  struct model_map_params p = {.neurons_per_core = 1024,
                               .sram_bytes = 1048576,
                               .weight_bits = 4,
                               .placement = MODEL_PLACE_SNAKE};
  struct model_map *mp;
  struct sm_err err = {0};
  ck_assert_msg(model_map_build(m, &p, &mp, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(mp->ngroups, 276);
  ck_assert_uint_eq(mp->width, 17);
  ck_assert_uint_eq(mp->layers[0].ngroups, 3);  /* input: one per channel */
  ck_assert_uint_eq(mp->layers[1].ngroups, 64); /* a 32x32 map per core */
  model_map_free(mp);
  model_free(m);
  o.synth.arch = MODEL_SYNTH_VGG11;
  m = model_synth_shape(&o.synth);
  conv = 0;
  for (size_t i = 0; i < m->nlayers; i++)
    conv += m->layers[i].type == MODEL_CONV;
  ck_assert_int_eq(conv, 8);
  model_free(m);
}
END_TEST

/* One reduced VGG16 (widths / 8) calibrated on 2 images, shared below. */
static struct model *small_vgg16(struct model_synth_report *rep,
                                 struct run_options *o, double target) {
  struct sm_conf c;
  defaults(o, &c);
  o->synth.width_div = 8;
  o->synth.calib_images = 2;
  o->synth.sparsity = target;
  struct model *m;
  struct sm_err err = {0};
  ck_assert_msg(model_synth_model(&o->synth, 10, CORE_ROUND_CEIL, &m, rep,
                                &err) == 0,
                "%s", err.msg);
  return m;
}

START_TEST(test_calibration_hits_the_sparsity_target_within_2_percent) {
  const double targets[] = {0.2561, 0.4387};
  for (size_t t = 0; t < SM_ARRAY_LEN(targets); t++) {
    struct model_synth_report rep;
    struct run_options o;
    struct model *m = small_vgg16(&rep, &o, targets[t]);
    ck_assert_uint_eq(rep.nlayers, 16);
    ck_assert_msg(fabs(rep.sparsity - targets[t]) <= 0.02 * targets[t],
                  "target %.4f: calibrated %.4f", targets[t], rep.sparsity);
    /* every layer with enough neurons to resolve 2% */
    for (uint32_t s = 0; s < rep.nlayers; s++)
      if (rep.layer[s].neurons * 2 >= 1000)
        ck_assert_msg(fabs(rep.layer[s].fired - targets[t]) <=
                          0.02 * targets[t],
                      "layer %u: %.4f", s, rep.layer[s].fired);
    /* the forward recomputes it from the model as stored */
    uint64_t fired[MODEL_SYNTH_MAX_LAYERS], total = 0, neurons = 0;
    struct sm_err err = {0};
    uint8_t img[3 * 32 * 32];
    for (uint64_t i = 0; i < 2; i++) {
      model_synth_image(o.synth.seed, i, 3, 32, 32, img);
      ck_assert_int_eq(model_synth_forward(m, img, 10, CORE_ROUND_CEIL, fired,
                                         &err),
                       16);
      for (uint32_t s = 0; s < 16; s++) {
        total += fired[s];
        neurons += rep.layer[s].neurons;
      }
    }
    ck_assert(fabs((double)total / (double)neurons - rep.sparsity) < 1e-12);
    model_free(m);
  }
}
END_TEST

START_TEST(test_simulated_cores_fire_as_the_calibration_forward) {
  /* Ideal network (no NoC or SRAM time): the cores' fire counts per layer
   * are exactly the forward's; with the paper-22nm timing, late spikes
   * may move a few, and the sparsity stays within 2% of the target. */
  struct model_synth_report rep;
  struct run_options o;
  struct model *m = small_vgg16(&rep, &o, 0.2561);
  struct sm_err err = {0};
  uint8_t img[3 * 32 * 32];
  model_synth_image(o.synth.seed, 0, 3, 32, 32, img);
  uint64_t fired[MODEL_SYNTH_MAX_LAYERS];
  ck_assert_int_eq(
      model_synth_forward(m, img, 10, CORE_ROUND_CEIL, fired, &err), 16);
  for (int ideal = 1; ideal >= 0; ideal--) {
    struct run_options oo = o;
    if (ideal) {
      oo.core.sop_ps = 0;
      oo.noc.t_buffer = oo.noc.t_route = oo.noc.t_alloc = 0;
      oo.noc.t_xbar = oo.noc.t_link = oo.noc.t_inject = oo.noc.t_eject = 0;
    }
    struct run_sim *r;
    ck_assert_msg(run_sim_new(m, &oo, 0, 0, &r, &err) == 0, "%s", err.msg);
    struct run_frame f;
    ck_assert_msg(run_sim_frame(r, img, &f, &err) == 0, "%s", err.msg);
    uint64_t sim = 0, neurons = 0;
    for (uint32_t s = 0; s < 16; s++) {
      uint64_t n = core_array_stats(run_sim_cores(r), s + 1)->fired;
      if (ideal && !f.perturbed)
        ck_assert_msg(n == fired[s], "layer %u: cores %llu, forward %llu", s,
                      (unsigned long long)n, (unsigned long long)fired[s]);
      sim += n;
      neurons += rep.layer[s].neurons;
    }
    ck_assert(!ideal || f.perturbed == 0);
    double sp = (double)sim / (double)neurons;
    ck_assert_msg(fabs(sp - 0.2561) <= 0.02 * 0.2561,
                  "%s: simulated sparsity %.4f",
                  ideal ? "ideal" : "paper timing", sp);
    run_sim_free(r);
  }
  model_free(m);
}
END_TEST

START_TEST(test_weights_and_images_are_deterministic) {
  struct model_synth_report r1, r2;
  struct run_options o;
  struct model *a = small_vgg16(&r1, &o, 0.3);
  struct model *b = small_vgg16(&r2, &o, 0.3);
  for (size_t i = 0; i < a->nlayers; i++) {
    ck_assert_uint_eq(a->layers[i].nweights, b->layers[i].nweights);
    if (a->layers[i].nweights) {
      ck_assert(memcmp(a->layers[i].q, b->layers[i].q,
                       a->layers[i].nweights) == 0);
      ck_assert(a->layers[i].scale == b->layers[i].scale);
    }
  }
  model_free(a);
  model_free(b);
  uint8_t x[3072], y[3072], z[3072];
  model_synth_image(7, 3, 3, 32, 32, x);
  model_synth_image(7, 3, 3, 32, 32, y);
  model_synth_image(7, 4, 3, 32, 32, z);
  ck_assert(memcmp(x, y, sizeof x) == 0);
  ck_assert(memcmp(x, z, sizeof x) != 0);
  for (size_t i = 0; i < sizeof x; i++)
    ck_assert(x[i] >= 1); /* every pixel spikes */
}
END_TEST

START_TEST(test_bad_options_are_refused_naming_the_key) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  struct model *m = NULL;
  struct model_synth_report rep;
  defaults(&o, &c);
  /* the option table refuses out-of-range text */
  ck_assert(sm_conf_set(&c, "synth.sparsity=1.5", "test", &err) != 0);
  ck_assert(strstr(err.msg, "synth.sparsity") != NULL);
  ck_assert(sm_conf_set(&c, "synth.arch=vgg19", "test", &err) != 0);
  ck_assert(strstr(err.msg, "synth.arch") != NULL);
  ck_assert(sm_conf_set(&c, "synth.width_div=0", "test", &err) != 0);
  /* and the library refuses values set directly */
  struct model_synth_conf bad = o.synth;
  bad.sparsity = 0;
  ck_assert_int_eq(model_synth_model(&bad, 10, 0, &m, &rep, &err), SM_ERANGE);
  ck_assert(strstr(err.msg, "synth.sparsity") != NULL && m == NULL);
  bad = o.synth;
  bad.width_div = 0;
  ck_assert_int_eq(model_synth_model(&bad, 10, 0, &m, &rep, &err), SM_ERANGE);
  ck_assert(strstr(err.msg, "synth.width_div") != NULL);
  bad = o.synth;
  bad.arch = 7;
  ck_assert_int_eq(model_synth_model(&bad, 10, 0, &m, &rep, &err), SM_EINVAL);
  ck_assert_int_eq(model_synth_model(&o.synth, 1, 0, &m, &rep, &err),
                   SM_ERANGE);
  ck_assert(strstr(err.msg, "core.steps_per_window") != NULL);
  /* synthetic data specs */
  struct train_data d;
  struct model *shape = model_synth_shape(&o.synth);
  ck_assert_int_eq(run_synth_data("/some/dir", shape, 2, &d, &err), 1);
  ck_assert_int_eq(run_synth_data("synthetic:x1", shape, 2, &d, &err),
                   SM_EINVAL);
  ck_assert(strstr(err.msg, "synthetic:SEED") != NULL);
  ck_assert_int_eq(run_synth_data("synthetic:5", shape, 2, &d, &err), 0);
  ck_assert_uint_eq(d.n, 2);
  ck_assert_int_eq(d.c, 3);
  /* the data set's images are model_synth_image(SEED, i) byte for byte
   * (bench vgg runs them through the frame loop) */
  size_t img = (size_t)d.c * d.h * d.w;
  uint8_t *want = malloc(img);
  for (size_t i = 0; i < d.n; i++) {
    model_synth_image(5, i, shape->in_c, shape->in_h, shape->in_w, want);
    ck_assert_mem_eq(d.images + i * img, want, img);
  }
  free(want);
  train_data_free(&d);
  model_free(shape);
}
END_TEST

int main(void) {
  Suite *s = suite_create("synth");
  TCase *t = tcase_create("synth");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, test_vgg16_shape_maps_to_280k_neurons_on_276_cores);
  tcase_add_test(t, test_calibration_hits_the_sparsity_target_within_2_percent);
  tcase_add_test(t, test_simulated_cores_fire_as_the_calibration_forward);
  tcase_add_test(t, test_weights_and_images_are_deterministic);
  tcase_add_test(t, test_bad_options_are_refused_naming_the_key);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
