/*
 * check_run.c -- the assembled run: cores, mapper and mesh on one kernel.
 * With an ideal network (zero stage delays, no SRAM time) and a fine step
 * (thousands of steps per window), every neuron's simulated spike time
 * equals the trainer's reference forward of the same model; frames drain
 * and repeat; the architecture presets load with every module's table.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "trainer/train.h"
#include "tests/testmodel.h"

static void ideal_options(struct run_options *o, struct sm_conf *c,
                          uint64_t steps) {
  struct sm_err err = {0};
  run_options_init(o, c);
  ck_assert(sm_conf_defaults(c, &err) == 0);
  o->core.steps_per_window = steps;
  o->core.sop_ps = 0;
  o->noc.t_buffer = o->noc.t_route = o->noc.t_alloc = 0;
  o->noc.t_xbar = o->noc.t_link = o->noc.t_inject = o->noc.t_eject = 0;
}

START_TEST(test_ideal_network_spike_times_equal_reference_forward) {
  struct model *m = test_small_model(5);
  struct run_options o;
  struct sm_conf c;
  const uint64_t S = 4096;
  ideal_options(&o, &c, S);
  struct run_sim *r;
  struct sm_err err = {0};
  ck_assert_msg(run_sim_new(m, &o, 0, 0, &r, &err) == 0, "%s", err.msg);
  struct sim_rng rng;
  sim_rng_init(&rng, 9, 0);
  float x1[144], x2[12], x3[5];
  float *xs[3] = {x1, x2, x3};
  const uint32_t sizes[3] = {144, 12, 5};
  int fired = 0, same_pred = 0, frames = 60;
  double worst = 0;
  for (int f = 0; f < frames; f++) {
    uint8_t img[64];
    for (int i = 0; i < 64; i++)
      img[i] = sim_rng_below(&rng, 3) ? (uint8_t)sim_rng_below(&rng, 256) : 0;
    struct run_frame fr;
    ck_assert_msg(run_sim_frame(r, img, &fr, &err) == 0, "%s", err.msg);
    int pref;
    ck_assert(train_model_forward(m, img, xs, &pref, &err) == 0);
    for (uint32_t s = 0; s < 3; s++) {
      const int32_t *u = core_array_fire_steps(run_sim_cores(r), s + 1);
      for (uint32_t j = 0; j < sizes[s]; j++) {
        double xsim = u[j] == CORE_SILENT ? 0 : (double)(S - (uint64_t)u[j]) / S;
        double d = fabs(xsim - xs[s][j]);
        fired += u[j] != CORE_SILENT;
        if (d > worst)
          worst = d;
        ck_assert_msg(d < 0.005, "frame %d layer %u neuron %u: sim x %.5f, "
                      "reference x %.5f", f, s + 1, j, xsim, xs[s][j]);
      }
    }
    same_pred += pref == fr.pred;
    ck_assert_uint_eq(fr.dropped, 0);
  }
  ck_assert(fired > 500);
  /* predictions: equal unless two outputs are within a step or so */
  ck_assert_int_ge(same_pred, frames - 2);
  run_sim_free(r);
  model_free(m);
}
END_TEST

START_TEST(test_frames_repeat_identically_on_the_same_hardware) {
  struct model *m = test_small_model(6);
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  struct run_sim *r;
  ck_assert_msg(run_sim_new(m, &o, 0, 0, &r, &err) == 0, "%s", err.msg);
  uint8_t img[64];
  for (int i = 0; i < 64; i++)
    img[i] = (uint8_t)(i * 37 % 256);
  struct run_frame a, b;
  ck_assert(run_sim_frame(r, img, &a, &err) == 0);
  ck_assert(run_sim_frame(r, img, &b, &err) == 0);
  ck_assert_int_eq(a.pred, b.pred);
  ck_assert_uint_eq(a.sops, b.sops);
  ck_assert_uint_eq(a.hops, b.hops);
  ck_assert_uint_eq(a.latency_ps, b.latency_ps);
  ck_assert(a.sops > 0 && a.hops > 0 && a.spikes > 0);
  /* the energy terms are the counts times the preset's figures */
  ck_assert_double_eq_tol(a.energy.sop_uj, a.sops * o.energy.e_sop_pj * 1e-6, 1e-12);
  ck_assert_double_eq_tol(a.energy.hop_uj, a.hops * o.energy.e_hop_pj * 1e-6, 1e-12);
  ck_assert_double_eq_tol(a.energy.static_uj, o.energy.e_static_uj, 1e-12);
  run_sim_free(r);
  /* a mesh too small is refused before anything runs */
  ck_assert_int_eq(run_sim_new(m, &o, 3, 1, &r, &err), SM_ENOFIT); /* 4 cores */
  ck_assert_msg(strstr(err.msg, "short by"), "%s", err.msg);
  model_free(m);
}
END_TEST

START_TEST(test_encoder_rounds_to_the_nearest_step_and_zero_is_silent) {
  ck_assert_int_eq(run_encode(0, 255, 10), CORE_SILENT);
  ck_assert_int_eq(run_encode(255, 255, 10), 0);
  ck_assert_int_eq(run_encode(1, 255, 10), 10); /* x = 0.04: a spike at the end */
  ck_assert_int_eq(run_encode(128, 255, 10), 5);
  ck_assert_int_eq(run_encode(150, 255, 10), 4);
}
END_TEST

START_TEST(test_presets_load_with_every_table) {
  const char *names[] = {"paper-22nm", "manycore-14nm"};
  for (size_t i = 0; i < SM_ARRAY_LEN(names); i++) {
    struct run_options o;
    struct sm_conf c;
    struct sm_err err = {0};
    char path[1024];
    run_options_init(&o, &c);
    ck_assert(sm_conf_defaults(&c, &err) == 0);
    ck_assert_msg(model_preset_path(names[i], path, sizeof path, &err) == 0, "%s",
                  err.msg);
    ck_assert_msg(sm_conf_load_file(&c, path, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(o.preset.name, names[i]);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("run");
  TCase *t = tcase_create("assembly");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_ideal_network_spike_times_equal_reference_forward);
  tcase_add_test(t, test_frames_repeat_identically_on_the_same_hardware);
  tcase_add_test(t, test_encoder_rounds_to_the_nearest_step_and_zero_is_silent);
  tcase_add_test(t, test_presets_load_with_every_table);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
