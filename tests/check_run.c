/*
 * check_run.c -- the assembled run: cores, mapper and mesh on one kernel.
 * With an ideal network (zero stage delays, no SRAM time) and a fine step
 * (thousands of steps per window), every neuron's simulated spike time
 * equals the trainer's reference forward of the same model; frames drain
 * and repeat; the architecture presets load with every module's table.
 * The frame loop: stops between frames, records from first_rec on, and the
 * same frames recorded or not give the same results; the one mesh parser;
 * the benchmarks' databases never replace a file.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  const char *names[] = {"paper-22nm", "paper-22nm-chip", "manycore-14nm"};
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

/* ---- the mesh keys and each command's keys ------------------------------ */

START_TEST(test_mesh_keys_default_to_auto_and_need_both_sides) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  uint32_t w = 9, h = 9;
  ck_assert_int_eq(run_options_mesh(&o, &w, &h, &err), 0);
  ck_assert(w == 0 && h == 0);
  /* one side given: refused, naming both keys */
  ck_assert_int_eq(sm_conf_set(&c, "noc.width=3", "t", &err), 0);
  ck_assert_int_eq(run_options_mesh(&o, &w, &h, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "noc.width=3") && strstr(err.msg, "noc.height=0"),
                "%s", err.msg);
  ck_assert_int_eq(run_options_fixed_mesh(&o, &err), SM_EINVAL);
  ck_assert_int_eq(sm_conf_set(&c, "noc.height=5", "t", &err), 0);
  ck_assert_int_eq(run_options_mesh(&o, &w, &h, &err), 0);
  ck_assert(w == 3 && h == 5);
  ck_assert_int_eq(run_options_fixed_mesh(&o, &err), 0);
  ck_assert(o.noc.width == 3 && o.noc.height == 5);
  ck_assert_int_eq(sm_conf_set(&c, "noc.width=65", "t", &err), SM_ERANGE);
  /* auto where nothing sizes the mesh: the fallback */
  ck_assert_int_eq(sm_conf_set(&c, "noc.width=0", "t", &err), 0);
  ck_assert_int_eq(sm_conf_set(&c, "noc.height=0", "t", &err), 0);
  ck_assert_int_eq(run_options_fixed_mesh(&o, &err), 0);
  ck_assert(o.noc.width == RUN_MESH_FALLBACK && o.noc.height == RUN_MESH_FALLBACK);
  /* the rest of the noc table is there once, with its own defaults */
  void *base;
  ck_assert_ptr_nonnull(sm_conf_find(&c, "noc.buffer_depth", &base));
  ck_assert_uint_eq(o.noc.buffer_depth, 8);
}
END_TEST

START_TEST(test_config_records_the_mesh_used_and_the_cores) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0); /* noc.width = 0: auto */
  char *s = run_config_json(&c, "m.json", "d", 2, 3, 5, 7);
  json_error_t je;
  json_t *j = json_loads(s, 0, &je);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "noc.width")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "noc.height")), 3);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "run.mesh_width")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "run.mesh_height")), 3);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "run.cores")), 5);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "run.frames")), 7);
  json_decref(j);
  free(s);
}
END_TEST

START_TEST(test_commands_refuse_keys_they_do_not_use) {
  struct sm_err err = {0};
  ck_assert(run_key_taken(run_keys_run, "noc.width"));
  ck_assert(run_key_taken(run_keys_run, "map.placement"));
  ck_assert(!run_key_taken(run_keys_run, "traffic.rates"));
  ck_assert(!run_key_taken(run_keys_noc, "core.neurons_per_core"));
  ck_assert(run_key_taken(run_keys_synth, "core.fire_round"));
  ck_assert(!run_key_taken(run_keys_synth, "core.fire_roundx"));
  ck_assert(!run_key_taken(run_keys_synth, "core.sram_bytes"));
  ck_assert(run_key_taken(NULL, "anything"));
  ck_assert_int_eq(run_key_refuse("noc", run_keys_noc, "map.placement", "cl",
                                  &err), SM_ENOKEY);
  ck_assert_msg(strstr(err.msg, "cl: key 'map.placement' is not used by noc") &&
                    strstr(err.msg, "traffic.*") && strstr(err.msg, "run,"),
                "%s", err.msg);
  ck_assert_int_eq(run_key_refuse("noc", run_keys_noc, "noc.width", "cl", &err),
                   0);
}
END_TEST

/* ---- the frame loop ------------------------------------------------------ */

/* An engine that logs what the loop asks of it. */
struct fake {
  char log[512];
  size_t fail_at;     /* frame that fails, or SIZE_MAX */
  atomic_int *stop;   /* set after frame stop_after */
  size_t stop_after;
};

static void logf_(struct fake *f, const char *s, size_t i) {
  size_t n = strlen(f->log);
  snprintf(f->log + n, sizeof f->log - n, "%s%zu ", s, i);
}

static int fake_frame(void *hw, size_t i, struct run_frame *fr,
                      struct sm_err *err) {
  struct fake *f = hw;
  if (i == f->fail_at)
    return sm_fail(err, SM_ESTATE, "frame %zu fails", i);
  memset(fr, 0, sizeof *fr);
  fr->index = (int64_t)i;
  logf_(f, "F", i);
  if (f->stop && i == f->stop_after)
    atomic_store(f->stop, 1);
  return 0;
}
static void *fake_rec_new(void *hw, struct trace_stream *s,
                          enum trace_detail d) {
  (void)s;
  (void)d;
  logf_(hw, "N", 0);
  return hw;
}
static void fake_rec_begin(void *rec, size_t i) { logf_(rec, "B", i); }
static void fake_rec_end(void *rec, size_t i, const struct run_frame *fr) {
  ck_assert_int_eq(fr->index, (int64_t)i);
  logf_(rec, "E", i);
}
static void fake_rec_free(void *rec) { logf_(rec, "X", 0); }

static int fake_loop(struct fake *f, size_t n, size_t first_rec, int rec,
                     atomic_int *stop, size_t *done, struct sm_err *err) {
  struct run_engine e = {.hw = f,
                         .frame = fake_frame,
                         .rec_new = fake_rec_new,
                         .rec_begin = fake_rec_begin,
                         .rec_end = fake_rec_end,
                         .rec_free = fake_rec_free};
  struct run_loop l = {.e = &e,
                       .n = n,
                       .first_rec = first_rec,
                       /* the fake recorder never touches the stream */
                       .ts = rec ? (struct trace_stream *)f : NULL,
                       .stop = stop};
  return run_loop_frames(&l, done, err);
}

START_TEST(test_loop_records_from_first_rec_and_stops_between_frames) {
  struct sm_err err = {0};
  size_t done;
  struct fake f = {.fail_at = SIZE_MAX};
  ck_assert_int_eq(fake_loop(&f, 4, 2, 1, NULL, &done, &err), 0);
  ck_assert_uint_eq(done, 4);
  /* frames 0 and 1 run again unrecorded, then the recorder opens */
  ck_assert_str_eq(f.log, "F0 F1 N0 B2 F2 E2 B3 F3 E3 X0 ");
  /* nothing to record: no recorder at all */
  memset(f.log, 0, sizeof f.log);
  ck_assert_int_eq(fake_loop(&f, 3, 0, 0, NULL, &done, &err), 0);
  ck_assert_str_eq(f.log, "F0 F1 F2 ");
  /* the stop flag is read before each frame: set during frame 1, frame 2
   * never starts, and the recorder is closed */
  atomic_int stop;
  atomic_init(&stop, 0);
  struct fake g = {.fail_at = SIZE_MAX, .stop = &stop, .stop_after = 1};
  ck_assert_int_eq(fake_loop(&g, 5, 0, 1, &stop, &done, &err), SM_EINTR);
  ck_assert_uint_eq(done, 2);
  ck_assert_str_eq(g.log, "N0 B0 F0 E0 B1 F1 E1 X0 ");
  /* a failing frame ends the loop with its error; frames before it count */
  struct fake h = {.fail_at = 2};
  ck_assert_int_eq(fake_loop(&h, 5, 0, 1, NULL, &done, &err), SM_ESTATE);
  ck_assert_uint_eq(done, 2);
  ck_assert_ptr_nonnull(strstr(err.msg, "frame 2 fails"));
  ck_assert_str_eq(h.log, "N0 B0 F0 E0 B1 F1 E1 B2 X0 ");
}
END_TEST

static void collect(void *ctx, size_t i, const struct run_frame *f) {
  struct run_frame *out = ctx;
  out[i] = *f;
}

/* The engine of a real model: the loop gives each frame its data set
 * image and label, in order, and the same frames as run_sim_frame. */
START_TEST(test_sim_engine_runs_the_data_set_in_order) {
  struct model *m = test_small_model(9);
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  ck_assert(sm_conf_defaults(&c, &err) == 0);
  struct train_data d = {.n = 6, .c = 1, .h = 8, .w = 8, .a_max = 255,
                         .nclasses = 5};
  d.images = malloc(6 * 64);
  d.labels = malloc(6);
  for (int i = 0; i < 6 * 64; i++)
    d.images[i] = (uint8_t)(i * 53 % 256);
  for (int i = 0; i < 6; i++)
    d.labels[i] = (uint8_t)(i % 5);
  struct run_sim *r, *r2;
  ck_assert(run_sim_new(m, &o, 0, 0, &r, &err) == 0);
  ck_assert(run_sim_new(m, &o, 0, 0, &r2, &err) == 0);
  struct run_engine e;
  run_sim_engine(r, &d, &e);
  struct run_frame got[6];
  struct run_loop l = {.e = &e, .n = 6, .on_frame = collect, .ctx = got};
  size_t done;
  ck_assert_int_eq(run_loop_frames(&l, &done, &err), 0);
  ck_assert_uint_eq(done, 6);
  for (int i = 0; i < 6; i++) {
    struct run_frame want;
    ck_assert(run_sim_frame(r2, d.images + i * 64, &want, &err) == 0);
    ck_assert_int_eq(got[i].index, i);
    ck_assert_int_eq(got[i].label, d.labels[i]);
    ck_assert_int_eq(got[i].pred, want.pred);
    ck_assert_uint_eq(got[i].sops, want.sops);
    ck_assert_uint_eq(got[i].hops, want.hops);
    ck_assert_uint_eq(got[i].latency_ps, want.latency_ps);
  }
  /* totals are sums of the frames */
  struct run_totals t = {0};
  uint64_t sops = 0;
  size_t correct = 0;
  for (int i = 0; i < 6; i++) {
    run_totals_add(&t, &got[i], o.core.tie_rule);
    sops += got[i].sops;
    correct += got[i].pred == got[i].label;
  }
  ck_assert_uint_eq(t.frames, 6);
  ck_assert_uint_eq(t.sops, sops);
  ck_assert_uint_eq(t.correct, correct);
  /* past the set's end the images wrap around (a benchmark's frames) */
  struct run_frame more[8];
  l.n = 8;
  l.ctx = more;
  ck_assert_int_eq(run_loop_frames(&l, &done, &err), 0);
  ck_assert_uint_eq(done, 8);
  for (int i = 6; i < 8; i++) {
    ck_assert_int_eq(more[i].index, i);
    ck_assert_int_eq(more[i].label, d.labels[i - 6]);
    ck_assert_int_eq(more[i].pred, got[i - 6].pred);
    ck_assert_uint_eq(more[i].sops, got[i - 6].sops);
  }
  run_sim_free(r);
  run_sim_free(r2);
  free(d.images);
  free(d.labels);
  model_free(m);
}
END_TEST

START_TEST(test_mesh_parser_takes_wxh_digits_only) {
  static const struct {
    const char *s;
    int ok;
    uint32_t w, h;
  } cases[] = {{"3x4", 1, 3, 4},       {"3X4", 1, 3, 4},
               {"auto", 1, 0, 0},      {"64x64", 1, 64, 64},
               {"1x1", 1, 1, 1},       {"3x4junk", 0, 0, 0},
               {" 3x4", 0, 0, 0},      {"3x 4", 0, 0, 0},
               {"+3x4", 0, 0, 0},      {"3x-4", 0, 0, 0},
               {"0x4", 0, 0, 0},       {"65x1", 0, 0, 0},
               {"x4", 0, 0, 0},        {"3x", 0, 0, 0},
               {"", 0, 0, 0},          {"3", 0, 0, 0},
               {"3x4x5", 0, 0, 0},     {"9999999999x1", 0, 0, 0},
               {"0000000003x4", 0, 0, 0}, {"AUTO", 0, 0, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint32_t w = 99, h = 99;
    int rc = run_mesh_parse(cases[i].s, &w, &h);
    ck_assert_msg((rc == 0) == cases[i].ok, "'%s': %d", cases[i].s, rc);
    if (cases[i].ok) {
      ck_assert_uint_eq(w, cases[i].w);
      ck_assert_uint_eq(h, cases[i].h);
    }
  }
}
END_TEST

/* The benchmarks' databases are their own: a file already at the path is
 * refused and left as it was (it used to be removed first). */
START_TEST(test_bench_databases_never_replace_a_file) {
  char dir[] = "/tmp/sm_run_XXXXXX", path[64], *b;
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/theirs.db", dir);
  FILE *f = fopen(path, "w");
  fputs("their data", f);
  fclose(f);
  struct sm_err err = {0};
  uint64_t rows = 0;
  double secs;
  ck_assert_int_lt(run_bench_writer(path, 1000, &rows, &secs, &err), 0);
  ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "exists"), "%s",
                err.msg);
  b = sm_read_file(path, NULL, NULL);
  ck_assert_str_eq(b, "their data");
  free(b);
  /* a new path is made, measured and removed */
  snprintf(path, sizeof path, "%s/new.db", dir);
  ck_assert_msg(run_bench_writer(path, 1000, &rows, &secs, &err) == 0, "%s",
                err.msg);
  ck_assert_uint_ge(rows, 1000);
  ck_assert_int_ne(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/theirs.db", dir);
  unlink(path);
  ck_assert_int_eq(rmdir(dir), 0);
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
  tcase_add_test(t, test_mesh_keys_default_to_auto_and_need_both_sides);
  tcase_add_test(t, test_config_records_the_mesh_used_and_the_cores);
  tcase_add_test(t, test_commands_refuse_keys_they_do_not_use);
  tcase_add_test(t, test_loop_records_from_first_rec_and_stops_between_frames);
  tcase_add_test(t, test_sim_engine_runs_the_data_set_in_order);
  tcase_add_test(t, test_mesh_parser_takes_wxh_digits_only);
  tcase_add_test(t, test_bench_databases_never_replace_a_file);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
