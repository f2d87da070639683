/*
 * check_mapfile.c -- the mapping file (models/mapfile.c) on the small
 * conv+pool+dense model built in memory: the text round trip at several
 * core sizes (tiles, halos, pooling), the mapping read back equal to the
 * mapper's field by field, every line of a file required (deleting any one
 * is refused), every byte cut refused without a crash, and a model or
 * hardware that is not the file's refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/mapfile.h"
#include "tests/testmodel.h"

static struct model_map_params params(uint64_t npc) {
  return (struct model_map_params){.neurons_per_core = npc,
                                   .sram_bytes = 1 << 20,
                                   .weight_bits = 4,
                                   .placement = MODEL_PLACE_SNAKE};
}

/* The mapper's mapping of the small model on cores of npc neurons and its
 * file's text (NULL when the mapper refuses that core size). */
static char *mapped_text(const struct model *m, uint64_t npc,
                         struct model_map **mp) {
  struct model_map_params p = params(npc);
  struct sm_err err = {0};
  if (model_map_build(m, &p, mp, &err))
    return NULL;
  return model_mapfile_text(*mp, m, &p, NULL);
}

static void assert_same_map(const struct model_map *a,
                            const struct model_map *b) {
  ck_assert_uint_eq(a->width, b->width);
  ck_assert_uint_eq(a->height, b->height);
  ck_assert_uint_eq(a->ngroups, b->ngroups);
  for (uint32_t g = 0; g < a->ngroups; g++) {
    const struct model_map_group *x = &a->groups[g], *y = &b->groups[g];
    ck_assert_uint_eq(x->layer, y->layer);
    ck_assert_uint_eq(x->c0, y->c0);
    ck_assert_uint_eq(x->c1, y->c1);
    ck_assert_uint_eq(x->y0, y->y0);
    ck_assert_uint_eq(x->y1, y->y1);
    ck_assert_uint_eq(x->x0, y->x0);
    ck_assert_uint_eq(x->x1, y->x1);
    ck_assert_uint_eq(x->iy0, y->iy0);
    ck_assert_uint_eq(x->iy1, y->iy1);
    ck_assert_uint_eq(x->ix0, y->ix0);
    ck_assert_uint_eq(x->ix1, y->ix1);
    ck_assert_uint_eq(x->node, y->node);
    ck_assert_uint_eq(x->neurons, y->neurons);
    ck_assert_uint_eq(x->sram_bytes, y->sram_bytes);
    uint32_t na, nb;
    const uint32_t *da = model_map_dests(a, g, &na);
    const uint32_t *db = model_map_dests(b, g, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert(na == 0 || !memcmp(da, db, na * sizeof *da));
  }
}

static const uint64_t core_sizes[] = {1024, 144, 36, 16, 9};

START_TEST(test_round_trip_is_byte_identical_and_the_same_mapping) {
  struct model *m = test_small_model(3);
  int mapped = 0;
  for (size_t i = 0; i < sizeof core_sizes / sizeof *core_sizes; i++) {
    struct model_map *mp, *back;
    char *t = mapped_text(m, core_sizes[i], &mp);
    if (!t)
      continue;
    mapped++;
    struct model_map_params p = params(core_sizes[i]);
    p.placement = MODEL_PLACE_ROWMAJOR; /* plays no part in reading */
    struct model_mapfile_info info;
    struct sm_err err = {0};
    ck_assert_msg(model_mapfile_parse(t, strlen(t), "t", m, &p, &back, &info,
                                      &err) == 0,
                  "npc %llu: %s", (unsigned long long)core_sizes[i], err.msg);
    assert_same_map(mp, back);
    ck_assert_str_eq(info.placement, "snake");
    ck_assert_str_eq(info.model_name, "small");
    char *t2 = model_mapfile_text(back, m, &p, info.placement);
    ck_assert_str_eq(t, t2);
    free(t2);
    free(t);
    model_map_free(mp);
    model_map_free(back);
  }
  /* at least the whole-layer mapping and one with conv tiles */
  ck_assert_int_ge(mapped, 2);
  model_free(m);
}
END_TEST

/* The file of the small model at 16 neurons per core has tiles with halos
 * (conv) and a dense group reading the whole pooled map. */
START_TEST(test_halos_are_written_for_every_group_after_the_input) {
  struct model *m = test_small_model(3);
  struct model_map *mp;
  char *t = mapped_text(m, 16, &mp);
  ck_assert_ptr_nonnull(t);
  size_t groups = 0, halos = 0;
  for (const char *s = t; (s = strstr(s, "\"index\": ")); s++)
    groups++;
  for (const char *s = t; (s = strstr(s, "\"halo\": ")); s++)
    halos++;
  uint32_t inputs = mp->layers[0].ngroups;
  ck_assert_uint_eq(groups, mp->ngroups);
  ck_assert_uint_eq(halos, mp->ngroups - inputs);
  ck_assert_int_gt(mp->layers[1].ngroups, 1);
  free(t);
  model_map_free(mp);
  model_free(m);
}
END_TEST

START_TEST(test_every_line_is_required) {
  struct model *m = test_small_model(3);
  struct model_map *mp;
  char *t = mapped_text(m, 36, &mp);
  ck_assert_ptr_nonnull(t);
  struct model_map_params p = params(36);
  size_t len = strlen(t), lines = 0;
  char *cut = malloc(len + 1);
  for (const char *line = t; *line;) {
    const char *end = strchr(line, '\n');
    end = end ? end + 1 : t + len;
    size_t a = (size_t)(line - t), n = (size_t)(end - line);
    memcpy(cut, t, a);
    memcpy(cut + a, end, len - a - n);
    struct model_map *back = NULL;
    struct sm_err err = {0};
    int rc = model_mapfile_parse(cut, len - n, "cut", m, &p, &back, NULL, &err);
    ck_assert_msg(rc < 0, "line %zu deleted and still read: %.*s", lines + 1,
                  (int)n, line);
    ck_assert_ptr_null(back);
    ck_assert_msg(!strncmp(err.msg, "cut", 3), "%s", err.msg);
    line = end;
    lines++;
  }
  ck_assert_uint_gt(lines, mp->ngroups + 10);
  free(cut);
  free(t);
  model_map_free(mp);
  model_free(m);
}
END_TEST

START_TEST(test_every_prefix_is_refused_without_a_crash) {
  struct model *m = test_small_model(3);
  struct model_map *mp;
  char *t = mapped_text(m, 1024, &mp);
  ck_assert_ptr_nonnull(t);
  struct model_map_params p = params(1024);
  size_t len = strlen(t);
  /* the last byte is the newline after the closing brace */
  for (size_t n = 0; n + 1 < len; n++) {
    struct model_map *back = NULL;
    ck_assert_int_lt(model_mapfile_parse(t, n, "cut", m, &p, &back, NULL, NULL),
                     0);
    ck_assert_ptr_null(back);
  }
  free(t);
  model_map_free(mp);
  model_free(m);
}
END_TEST

START_TEST(test_another_model_or_other_cores_are_refused) {
  struct model *m = test_small_model(3);
  struct model_map *mp, *back = NULL;
  char *t = mapped_text(m, 1024, &mp);
  ck_assert_ptr_nonnull(t);
  struct sm_err err = {0};
  /* the same shapes with other weights: the same mapping */
  struct model *same = test_small_model(4);
  struct model_map_params p = params(1024);
  ck_assert_int_eq(model_mapfile_parse(t, strlen(t), "f", same, &p, &back,
                                       NULL, &err), 0);
  model_map_free(back);
  /* one more output neuron */
  same->layers[same->nlayers - 1].out_c++;
  ck_assert_int_eq(model_mapfile_parse(t, strlen(t), "f", same, &p, &back,
                                       NULL, &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "the mapping is of another model"), "%s",
                err.msg);
  /* other cores, another mesh */
  p.sram_bytes = 4096;
  ck_assert_int_eq(model_mapfile_parse(t, strlen(t), "f", m, &p, &back, NULL,
                                       &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "'core.sram_bytes'"), "%s", err.msg);
  p = params(1024);
  p.width = p.height = 7;
  ck_assert_int_eq(model_mapfile_parse(t, strlen(t), "f", m, &p, &back, NULL,
                                       &err), SM_EINVAL);
  ck_assert_msg(strstr(err.msg, "the mesh asked for is 7x7"), "%s", err.msg);
  model_free(same);
  free(t);
  model_map_free(mp);
  model_free(m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mapfile");
  TCase *tc = tcase_create("mapfile");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_round_trip_is_byte_identical_and_the_same_mapping);
  tcase_add_test(tc, test_halos_are_written_for_every_group_after_the_input);
  tcase_add_test(tc, test_every_line_is_required);
  tcase_add_test(tc, test_every_prefix_is_refused_without_a_crash);
  tcase_add_test(tc, test_another_model_or_other_cores_are_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
