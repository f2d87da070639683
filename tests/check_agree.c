/*
 * check_agree.c -- the shipped model on the real Fashion-MNIST test set:
 * simulated predictions against the trainer's quantized reference forward
 * of the same model file (tracker issue 5).
 *
 * All 10,000 test frames run through models/fmnist-mlp.json on the default
 * preset (paper-22nm, 10 steps per window, exact tie rule) and on an ideal
 * network (every NoC stage and the SRAM at zero delay).  The agreement is
 * measured on the whole set: on the first 1000 frames alone it is 98.7%
 * (99.1% on all 10,000), so a subset would not test the requirement.
 * Requirements checked:
 *   - agreement >= 99% in both;
 *   - a frame whose spike times arrival timing did not change gives the
 *     ideal network's prediction, and run/compare.c counts what the frames
 *     show;
 *   - every disagreement is classified: late-spike-caused (arrival timing
 *     changed a spike time or a spike was dropped: core_array_settle) or
 *     step-quantization-caused (the frame ran exactly as an ideal network);
 *     the ideal network has no late-caused one, and the default preset's
 *     two counts add up to its disagreements;
 *   - a quantization disagreement is what quantization explains: the same
 *     frame on the ideal network with a fine step (4096 steps per window,
 *     where spike times match the reference to 1/4096 window) agrees;
 *   - the exact tie rule does better than the index rule, which loses
 *     ties the reference's continuous times decide (first 1000 frames).
 * Exits 77 (skipped) when the data set or the model is not installed;
 * SM_FMNIST_DIR overrides the data directory.
 *
 * Cost: 0.6 ms per frame for the simulation, 0.5 ms for the reference
 * (its per-image network stays on the heap: mallopt below); about 20 s.
 */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "trainer/train.h"

#define TIE_FRAMES 1000 /* frames of the tie-rule comparison */
#define CMP_FRAMES 2000 /* frames run/compare.c is checked on */
#define AGREE_DATA "/usr/share/datasets/fashion-mnist"
#define AGREE_MODEL SM_SRCDIR "/models/fmnist-mlp.json"

static struct model *model;
static struct train_data data;
static size_t nframes; /* the whole test set */
static int *ref_pred;  /* [nframes] the trainer's reference forward */

static const char *data_dir(void) {
  const char *d = getenv("SM_FMNIST_DIR");
  return d && *d ? d : AGREE_DATA;
}

/* Defaults, then the default preset, then the overrides. */
static void preset_options(struct run_options *o, struct sm_conf *c) {
  struct sm_err err = {0};
  char path[1024];
  run_options_init(o, c);
  ck_assert(sm_conf_defaults(c, &err) == 0);
  ck_assert_msg(model_preset_path(MODEL_DEFAULT_PRESET, path, sizeof path,
                                  &err) == 0, "%s", err.msg);
  ck_assert_msg(sm_conf_load_file(c, path, &err) == 0, "%s", err.msg);
}

static void make_ideal(struct run_options *o) {
  o->core.sop_ps = 0;
  o->noc.t_buffer = o->noc.t_route = o->noc.t_alloc = 0;
  o->noc.t_xbar = o->noc.t_link = o->noc.t_inject = o->noc.t_eject = 0;
}

struct tally {
  size_t agree, late, quant, ties_index;
  int *quant_frame; /* frames of the quantization disagreements */
  int *pred;        /* [n] the simulation's predictions */
  uint8_t *timing;  /* [n] arrival timing changed a spike time */
};

static void run_all(const struct run_options *o, size_t n, struct tally *t) {
  struct run_sim *r;
  struct sm_err err = {0};
  memset(t, 0, sizeof *t);
  t->quant_frame = calloc(n, sizeof *t->quant_frame);
  t->pred = calloc(n, sizeof *t->pred);
  t->timing = calloc(n, 1);
  ck_assert_msg(run_sim_new(model, o, 0, 0, &r, &err) == 0, "%s", err.msg);
  size_t img = (size_t)data.c * (size_t)data.h * (size_t)data.w;
  for (size_t i = 0; i < n; i++) {
    struct run_frame f;
    ck_assert_msg(run_sim_frame(r, data.images + i * img, &f, &err) == 0, "%s",
                  err.msg);
    t->ties_index += o->core.tie_rule == CORE_TIE_INDEX ? f.tied > 1
                                                        : f.tied_exact > 1;
    t->pred[i] = f.pred;
    t->timing[i] = f.perturbed > 0 || f.dropped > 0;
    if (f.pred == ref_pred[i])
      t->agree++;
    else if (f.perturbed > 0 || f.dropped > 0)
      t->late++;
    else
      t->quant_frame[t->quant++] = (int)i;
  }
  run_sim_free(r);
}

START_TEST(test_ideal_network_agrees_and_every_disagreement_is_quantization) {
  struct run_options o;
  struct sm_conf c;
  preset_options(&o, &c);
  make_ideal(&o);
  struct tally t;
  run_all(&o, nframes, &t);
  ck_assert_uint_eq(t.late, 0);
  ck_assert_msg(t.agree * 100 >= nframes * 99, "agreement %zu/%zu",
                t.agree, nframes);
  /* each quantization disagreement goes away with a fine step */
  struct run_options fine;
  struct sm_conf fc;
  preset_options(&fine, &fc);
  make_ideal(&fine);
  fine.core.steps_per_window = 4096;
  struct run_sim *r;
  struct sm_err err = {0};
  ck_assert_msg(run_sim_new(model, &fine, 0, 0, &r, &err) == 0, "%s", err.msg);
  size_t img = (size_t)data.c * (size_t)data.h * (size_t)data.w;
  for (size_t k = 0; k < t.quant; k++) {
    int i = t.quant_frame[k];
    struct run_frame f;
    ck_assert(run_sim_frame(r, data.images + (size_t)i * img, &f, &err) == 0);
    ck_assert_msg(f.pred == ref_pred[i],
                  "frame %d: fine-step prediction %d, reference %d", i, f.pred,
                  ref_pred[i]);
  }
  run_sim_free(r);
  free(t.quant_frame);
  free(t.pred);
  free(t.timing);
}
END_TEST

/* The attribution's claim checked against evidence it does not use: a
 * frame where arrival timing changed no spike time ran as an ideal network
 * would, so it must give the ideal network's prediction; the module's own
 * comparison (run/compare.c) must count what the frames show. */
START_TEST(test_default_preset_agrees_and_late_plus_quantization_is_all) {
  struct run_options o;
  struct sm_conf c;
  preset_options(&o, &c);
  ck_assert_int_eq(o.core.tie_rule, CORE_TIE_EXACT); /* the default */
  ck_assert(o.core.sop_ps > 0 && o.noc.t_link > 0); /* a real network */
  struct tally t, ti;
  run_all(&o, nframes, &t);
  struct run_options io;
  struct sm_conf ic;
  preset_options(&io, &ic);
  make_ideal(&io);
  run_all(&io, nframes, &ti);
  size_t unperturbed = 0;
  for (size_t i = 0; i < nframes; i++)
    if (!t.timing[i]) {
      unperturbed++;
      ck_assert_msg(t.pred[i] == ti.pred[i],
                    "frame %zu: no spike time changed, yet prediction %d "
                    "against the ideal network's %d",
                    i, t.pred[i], ti.pred[i]);
    }
  ck_assert_uint_gt(unperturbed, 0);
  /* run/compare.c over the same frames (the first CMP_FRAMES: it runs the
   * reference forward again) */
  size_t nc = nframes < CMP_FRAMES ? nframes : CMP_FRAMES;
  size_t agree = 0, late = 0, quant = 0, ref_correct = 0;
  for (size_t i = 0; i < nc; i++) {
    ref_correct += ref_pred[i] == data.labels[i];
    agree += t.pred[i] == ref_pred[i];
    late += t.pred[i] != ref_pred[i] && t.timing[i];
    quant += t.pred[i] != ref_pred[i] && !t.timing[i];
  }
  struct run_compare *cmp = run_compare_start(model, &data, nc);
  for (size_t i = 0; i < nc; i++) {
    struct run_frame f = {.pred = t.pred[i], .perturbed = t.timing[i]};
    run_compare_note(cmp, i, &f, o.core.tie_rule);
  }
  struct run_compare_result cr;
  struct sm_err err = {0};
  ck_assert(run_compare_finish(cmp, nc, &cr, &err) == 0);
  run_compare_free(cmp);
  ck_assert_uint_eq(cr.agree, agree);
  ck_assert_uint_eq(cr.dis_late, late);
  ck_assert_uint_eq(cr.dis_quant, quant);
  ck_assert_uint_eq(cr.ref_correct, ref_correct);
  free(t.quant_frame);
  free(t.pred);
  free(t.timing);
  free(ti.quant_frame);
  free(ti.pred);
  free(ti.timing);
  ck_assert_msg(t.agree * 100 >= nframes * 99,
                "agreement %zu/%zu (late %zu, quantization %zu)", t.agree,
                nframes, t.late, t.quant);
  /* measured: no frame of the shipped model has a spike time changed by
   * arrival timing on this preset (the late x = 0 inputs add nothing) */
  ck_assert_uint_eq(t.late, 0);
  ck_assert_uint_eq(t.ties_index, 0); /* no exact tie decided by the index */
}
END_TEST

START_TEST(test_exact_tie_rule_beats_the_index_rule) {
  struct run_options o;
  struct sm_conf c;
  preset_options(&o, &c);
  struct tally exact, index;
  run_all(&o, TIE_FRAMES, &exact);
  struct sm_err err = {0};
  ck_assert(sm_conf_set(&c, "core.tie_rule=index", "test", &err) == 0);
  run_all(&o, TIE_FRAMES, &index);
  free(exact.quant_frame);
  free(index.quant_frame);
  free(exact.pred);
  free(index.pred);
  free(exact.timing);
  free(index.timing);
  ck_assert(index.ties_index > 0);
  ck_assert_msg(exact.agree > index.agree, "exact %zu, index %zu", exact.agree,
                index.agree);
}
END_TEST

int main(void) {
  struct sm_err err = {0};
  if (access(AGREE_MODEL, R_OK) != 0) {
    fprintf(stderr, "check_agree: %s not found: skipped\n", AGREE_MODEL);
    return 77;
  }
  memset(&data, 0, sizeof data);
  if (train_data_load_dir(data_dir(), 1, &data, &err)) {
    fprintf(stderr, "check_agree: no test set in %s (%s): skipped\n",
            data_dir(), err.msg);
    return 77;
  }
  if (model_load(AGREE_MODEL, &model, &err)) {
    fprintf(stderr, "check_agree: %s\n", err.msg);
    train_data_free(&data);
    return EXIT_FAILURE;
  }
  if (data.n < TIE_FRAMES) {
    fprintf(stderr, "check_agree: %s has %zu test frames, need %d\n",
            data_dir(), data.n, TIE_FRAMES);
    return EXIT_FAILURE;
  }
  nframes = data.n;
  train_set_threads(1);
  /* the reference builds and frees its network per image: keep those
   * blocks on the heap (3.5x faster) */
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  ref_pred = calloc(nframes, sizeof *ref_pred);
  size_t img = (size_t)data.c * (size_t)data.h * (size_t)data.w;
  for (size_t i = 0; i < nframes; i++)
    if (train_model_forward(model, data.images + i * img, NULL, &ref_pred[i],
                            &err)) {
      fprintf(stderr, "check_agree: reference: %s\n", err.msg);
      return EXIT_FAILURE;
    }
  Suite *s = suite_create("agree");
  TCase *t = tcase_create("fmnist");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, test_ideal_network_agrees_and_every_disagreement_is_quantization);
  tcase_add_test(t, test_default_preset_agrees_and_late_plus_quantization_is_all);
  tcase_add_test(t, test_exact_tie_rule_beats_the_index_rule);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  free(ref_pred);
  model_free(model);
  train_data_free(&data);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
