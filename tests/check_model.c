/*
 * check_model.c -- the model file: save/load round trips (int4, int8,
 * float32), the int4 nibble order against a hand-made file, and malformed
 * files (wrong version, unknown keys, shapes that do not chain, corrupt,
 * truncated or out-of-range weights) rejected with messages that name the
 * source, the layer and the field.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "models/model.h"

/* A small model: 1x6x6 -> conv 2C3 valid (bits) -> pool 2 -> flatten ->
 * dense 3 (bits). */
static struct model *small_model(int bits) {
  struct model *m = calloc(1, sizeof *m);
  snprintf(m->name, sizeof m->name, "small");
  snprintf(m->arch, sizeof m->arch, "6x6-2C3-P2-F-3");
  snprintf(m->readout, sizeof m->readout, "time");
  m->in_c = 1;
  m->in_h = m->in_w = 6;
  m->a_max = 255;
  m->tw = 1;
  m->metadata = json_pack("{s:s}", "command", "test");
  m->nlayers = 4;
  m->layers = calloc(4, sizeof *m->layers);
  struct model_layer *L = m->layers;
  L[0] = (struct model_layer){MODEL_CONV, 1, 6, 6, 2, 4, 4, 3, 1, 0, bits, 0.25f,
                              18, NULL, NULL};
  L[1] = (struct model_layer){MODEL_POOL, 2, 4, 4, 2, 2, 2, 2, 2, 0, 0, 0, 0,
                              NULL, NULL};
  L[2] = (struct model_layer){MODEL_FLATTEN, 2, 2, 2, 8, 1, 1, 0, 0, 0, 0, 0, 0,
                              NULL, NULL};
  L[3] = (struct model_layer){MODEL_DENSE, 8, 1, 1, 3, 1, 1, 0, 0, 0, bits,
                              0.125f, 24, NULL, NULL};
  for (int i = 0; i < 4; i += 3) {
    L[i].w = calloc(L[i].nweights, sizeof(float));
    if (bits)
      L[i].q = calloc(L[i].nweights, 1);
    int qmin = bits ? -(1 << (bits - 1)) : -8, qmax = bits ? (1 << (bits - 1)) - 1 : 7;
    for (size_t j = 0; j < L[i].nweights; j++) {
      int q = qmin + (int)(j * 5 % (size_t)(qmax - qmin + 1));
      if (bits) {
        L[i].q[j] = (int8_t)q;
        L[i].w[j] = (float)q * L[i].scale;
      } else {
        L[i].w[j] = (float)q * 0.1f + 0.01f;
      }
    }
    if (!bits)
      L[i].scale = 1;
  }
  return m;
}

static char *to_text(const struct model *m) {
  struct sm_err err;
  json_t *j = model_to_json(m, "mem", &err);
  ck_assert_ptr_nonnull(j);
  char *s = json_dumps(j, JSON_PRESERVE_ORDER);
  json_decref(j);
  return s;
}

static void round_trip(int bits) {
  struct model *m = small_model(bits);
  char path[] = "/tmp/check_model.XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  struct sm_err err = {0};
  ck_assert_msg(model_save(m, path, &err) == 0, "%s", err.msg);
  struct model *b;
  ck_assert_msg(model_load(path, &b, &err) == 0, "%s", err.msg);
  unlink(path);
  ck_assert_str_eq(b->name, "small");
  ck_assert_str_eq(b->arch, m->arch);
  ck_assert_str_eq(b->readout, "time");
  ck_assert_uint_eq(b->nlayers, 4);
  ck_assert_uint_eq(model_spiking_layers(b), 2);
  for (size_t i = 0; i < 4; i++) {
    const struct model_layer *x = &m->layers[i], *y = &b->layers[i];
    ck_assert_int_eq(x->type, y->type);
    ck_assert_int_eq(x->in_c, y->in_c);
    ck_assert_int_eq(x->in_h, y->in_h);
    ck_assert_int_eq(x->out_c, y->out_c);
    ck_assert_int_eq(x->out_h, y->out_h);
    ck_assert_int_eq(x->out_w, y->out_w);
    ck_assert_uint_eq(x->nweights, y->nweights);
    ck_assert_int_eq(x->bits, y->bits);
    if (x->nweights) {
      ck_assert_mem_eq(x->w, y->w, x->nweights * sizeof(float));
      if (bits)
        ck_assert_mem_eq(x->q, y->q, x->nweights);
    }
  }
  ck_assert_str_eq(json_string_value(json_object_get(b->metadata, "command")),
                   "test");
  model_free(m);
  model_free(b);
}

START_TEST(test_int4_round_trip_is_exact) { round_trip(4); }
END_TEST
START_TEST(test_int2_round_trip_is_exact) { round_trip(2); }
END_TEST
START_TEST(test_int8_round_trip_is_exact) { round_trip(8); }
END_TEST
START_TEST(test_float32_round_trip_is_exact) { round_trip(0); }
END_TEST

/* A hand-written file: dense 3 -> 2, 4-bit q = {1, -2, 7, -8, 0, 3}, packed
 * low nibble first: 0xE1 0x87 0x30. */
static char *hand_file(const char *data, long crc_delta, int version,
                       const char *extra_top, const char *extra_layer) {
  uint8_t raw[3] = {0xE1, 0x87, 0x30};
  uLong c = crc32(crc32(0L, Z_NULL, 0), raw, 3);
  char *buf = malloc(4096);
  snprintf(buf, 4096,
           "{\"format\":\"spikemesh-model\",\"version\":%d,%s"
           "\"input\":{\"channels\":3,\"height\":1,\"width\":1},"
           "\"layers\":[{\"type\":\"dense\",\"out\":2,\"bits\":4,"
           "\"scale\":0.5,%s\"weights\":{\"encoding\":\"int4\",\"count\":6,"
           "\"crc32\":%lu,\"data\":\"%s\"}}]}",
           version, extra_top, extra_layer, (unsigned long)(c + crc_delta),
           data);
  return buf;
}

START_TEST(test_int4_nibbles_low_first) {
  char *t = hand_file("4Ycw", 0, 1, "", "");
  struct model *m;
  struct sm_err err = {0};
  ck_assert_msg(model_parse(t, strlen(t), "hand.json", &m, &err) == 0, "%s",
                err.msg);
  int8_t want[6] = {1, -2, 7, -8, 0, 3};
  ck_assert_mem_eq(m->layers[0].q, want, 6);
  ck_assert_float_eq(m->layers[0].w[1], -1.0f);
  ck_assert_float_eq(m->layers[0].w[3], -4.0f);
  ck_assert_double_eq(m->tw, 1.0);
  ck_assert_double_eq(m->a_max, 255.0);
  ck_assert_str_eq(m->readout, "time");
  model_free(m);
  free(t);
}
END_TEST

static void expect_fail(const char *text, int code, const char *n1,
                        const char *n2) {
  struct model *m = (struct model *)1;
  struct sm_err err = {0};
  int rc = model_parse(text, strlen(text), "bad.json", &m, &err);
  ck_assert_msg(rc != 0, "accepted: %s", text);
  ck_assert_ptr_null(m);
  if (code)
    ck_assert_msg(rc == code, "code %s, expected %s: %s", sm_errname(rc),
                  sm_errname(code), err.msg);
  ck_assert_msg(strstr(err.msg, "bad.json") != NULL, "no source in: %s",
                err.msg);
  ck_assert_msg(!n1 || strstr(err.msg, n1), "expected '%s' in: %s", n1,
                err.msg);
  ck_assert_msg(!n2 || strstr(err.msg, n2), "expected '%s' in: %s", n2,
                err.msg);
}

START_TEST(test_wrong_version_is_refused) {
  char *t = hand_file("4Ycw", 0, 2, "", "");
  expect_fail(t, SM_EVERSION, "'version' = 2", "version 1");
  free(t);
  expect_fail("{\"format\":\"other\",\"version\":1}", SM_EFORMAT, "'format'",
              NULL);
  expect_fail("{\"format\":\"spikemesh-model\",\"version\":\"1\"}",
              SM_EVERSION, "'version'", NULL);
}
END_TEST

START_TEST(test_unknown_keys_list_the_valid_ones) {
  char *t = hand_file("4Ycw", 0, 1, "\"colour\":1,", "");
  expect_fail(t, SM_ENOKEY, "unknown key 'colour'", "valid keys: format");
  free(t);
  t = hand_file("4Ycw", 0, 1, "", "\"stride\":2,");
  expect_fail(t, SM_ENOKEY, "layer 0: unknown key 'stride'", "scale");
  free(t);
}
END_TEST

START_TEST(test_corrupt_and_truncated_weights) {
  char *t = hand_file("4Ycw", 1, 1, "", "");
  expect_fail(t, SM_EFORMAT, "layer 0: weights: 'crc32'", "corrupt");
  free(t);
  t = hand_file("4Y*w", 0, 1, "", "");
  expect_fail(t, SM_EFORMAT, "bad base64 at character 2", NULL);
  free(t);
  t = hand_file("4Yc", 0, 1, "", "");
  expect_fail(t, SM_EFORMAT, "bad base64", "multiple of 4");
  free(t);
  t = hand_file("4Q==", 0, 1, "", ""); /* one byte: truncated */
  expect_fail(t, SM_EFORMAT, "1 bytes decoded, 3 expected", NULL);
  free(t);
  /* a whole file cut in half */
  struct model *m = small_model(4);
  char *full = to_text(m);
  full[strlen(full) / 2] = 0;
  expect_fail(full, SM_EFORMAT, "line", NULL);
  free(full);
  model_free(m);
}
END_TEST

START_TEST(test_weights_outside_bit_range_are_refused) {
  /* same bytes, declared 2-bit: 7 is outside -2..1 (int4 still encodes) */
  char *t = hand_file("4Ycw", 0, 1, "", "");
  char *p = strstr(t, "\"bits\":4");
  p[7] = '2';
  expect_fail(t, SM_ERANGE, "weight 2 = 7", "2-bit range -2..1");
  free(t);
}
END_TEST

START_TEST(test_bad_shapes_name_layer_and_field) {
  struct model *m = small_model(4);
  char *s = to_text(m);
  json_error_t je;
  json_t *j = json_loads(s, 0, &je);
  free(s);
  json_t *layers = json_object_get(j, "layers");
  /* conv after the flatten */
  json_t *bad = json_deep_copy(j);
  json_t *bl = json_object_get(bad, "layers");
  json_array_insert(bl, 3, json_array_get(layers, 0));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 3:", "conv on a flattened input");
  free(s);
  json_decref(bad);
  /* pool that does not divide: size 3 on 4x4 */
  bad = json_deep_copy(j);
  json_object_set_new(json_array_get(json_object_get(bad, "layers"), 1), "size",
                      json_integer(3));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 1: 'size' = 3", "4x4");
  free(s);
  json_decref(bad);
  /* count that does not match the shape */
  bad = json_deep_copy(j);
  json_object_set_new(
      json_object_get(json_array_get(json_object_get(bad, "layers"), 3),
                      "weights"),
      "count", json_integer(25));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 3: weights: 'count' = 25", "24");
  free(s);
  json_decref(bad);
  /* kernel bigger than the map */
  bad = json_deep_copy(j);
  json_object_set_new(json_array_get(json_object_get(bad, "layers"), 0),
                      "kernel", json_integer(7));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 0: 'kernel' = 7", NULL);
  free(s);
  json_decref(bad);
  /* encoding that does not match bits */
  bad = json_deep_copy(j);
  json_object_set_new(
      json_object_get(json_array_get(json_object_get(bad, "layers"), 0),
                      "weights"),
      "encoding", json_string("int8"));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 0: weights: 'encoding' = 'int8'", "int4");
  free(s);
  json_decref(bad);
  /* unknown layer type, wrong type of a field, bits = 1, missing input */
  bad = json_deep_copy(j);
  json_object_set_new(json_array_get(json_object_get(bad, "layers"), 2), "type",
                      json_string("softmax"));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 2: 'type' = 'softmax'", NULL);
  free(s);
  json_decref(bad);
  bad = json_deep_copy(j);
  json_object_set_new(json_array_get(json_object_get(bad, "layers"), 3), "out",
                      json_string("3"));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_ETYPE, "layer 3: 'out': expected an integer", NULL);
  free(s);
  json_decref(bad);
  bad = json_deep_copy(j);
  json_object_set_new(json_array_get(json_object_get(bad, "layers"), 3), "bits",
                      json_integer(1));
  s = json_dumps(bad, 0);
  expect_fail(s, SM_ERANGE, "layer 3: 'bits' = 1", NULL);
  free(s);
  json_decref(bad);
  bad = json_deep_copy(j);
  json_object_del(bad, "input");
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "missing key 'input'", NULL);
  free(s);
  json_decref(bad);
  /* last layer is not a spiking layer */
  bad = json_deep_copy(j);
  json_array_remove(json_object_get(bad, "layers"), 3);
  s = json_dumps(bad, 0);
  expect_fail(s, SM_EFORMAT, "layer 2:", "last layer must be dense or conv");
  free(s);
  json_decref(bad);
  json_decref(j);
  model_free(m);
}
END_TEST

/* Layer sizes are computed in 64 bits and held to MODEL_MAX_NEURONS: 256
 * channels of 4096 x 4096 is 2^32 neurons, which once wrapped to 0 in the
 * flatten and loaded with a dense layer of no inputs
 * (tests/data/fuzz/model/flatten-wraps-to-0.json). */
START_TEST(test_layer_sizes_do_not_wrap) {
  char b64[4 * 43 + 1] = "";
  for (int i = 0; i < 42; i++)
    strcat(b64, "AAAA");
  strcat(b64, "AAA="); /* 128 zero bytes: 256 int4 weights */
  uint8_t zero[128] = {0};
  unsigned long crc = crc32(crc32(0L, Z_NULL, 0), zero, sizeof zero);
  char text[2048];
  snprintf(text, sizeof text,
           "{\"format\": \"spikemesh-model\", \"version\": 1, \"input\": "
           "{\"channels\": 1, \"height\": 4096, \"width\": 4096}, \"layers\": "
           "[{\"type\": \"conv\", \"out_channels\": 256, \"kernel\": 1, "
           "\"bits\": 4, \"scale\": 0.125, \"weights\": {\"encoding\": "
           "\"int4\", \"count\": 256, \"crc32\": %lu, \"data\": \"%s\"}}, "
           "{\"type\": \"flatten\"}, {\"type\": \"dense\", \"out\": 2, "
           "\"bits\": 4, \"scale\": 0.125, \"weights\": {\"encoding\": "
           "\"int4\", \"count\": 0, \"crc32\": 0, \"data\": \"\"}}]}",
           crc, b64);
  expect_fail(text, SM_ELIMIT, "layer 0: 256x4096x4096 = 4294967296 neurons",
              "limit");
  /* the input alone */
  const char *in = "{\"format\": \"spikemesh-model\", \"version\": 1, "
                   "\"input\": {\"channels\": 65536, \"height\": 65536, "
                   "\"width\": 65536}, \"layers\": [{\"type\": \"flatten\"}]}";
  expect_fail(in, SM_ELIMIT, "input: 65536x65536x65536 is too large", NULL);
}
END_TEST

START_TEST(test_missing_file_names_the_path) {
  struct model *m;
  struct sm_err err = {0};
  ck_assert_int_ne(model_load("/nonexistent/x.json", &m, &err), 0);
  ck_assert_ptr_null(m);
  ck_assert(strstr(err.msg, "/nonexistent/x.json") != NULL);
}
END_TEST

/* A model file is read whole: larger than MODEL_MAX_FILE_BYTES is refused
 * from its size, and /dev/zero at its first byte (it was read until memory
 * ran out). */
START_TEST(test_model_file_size_is_capped) {
  char path[] = "/tmp/sm_model_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, (off_t)MODEL_MAX_FILE_BYTES + 1), 0);
  close(fd);
  struct model *m;
  struct sm_err err = {0};
  ck_assert_int_eq(model_load(path, &m, &err), SM_ELIMIT);
  ck_assert_ptr_null(m);
  ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "1 GiB"), "%s",
                err.msg);
  unlink(path);
  ck_assert_int_eq(model_load("/dev/zero", &m, &err), SM_EFORMAT);
  ck_assert_msg(strstr(err.msg, "/dev/zero: byte 0 is a NUL byte"), "%s",
                err.msg);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("model");
  TCase *t = tcase_create("round trip");
  tcase_add_test(t, test_int4_round_trip_is_exact);
  tcase_add_test(t, test_int2_round_trip_is_exact);
  tcase_add_test(t, test_int8_round_trip_is_exact);
  tcase_add_test(t, test_float32_round_trip_is_exact);
  tcase_add_test(t, test_int4_nibbles_low_first);
  suite_add_tcase(s, t);
  t = tcase_create("malformed");
  tcase_add_test(t, test_wrong_version_is_refused);
  tcase_add_test(t, test_unknown_keys_list_the_valid_ones);
  tcase_add_test(t, test_corrupt_and_truncated_weights);
  tcase_add_test(t, test_weights_outside_bit_range_are_refused);
  tcase_add_test(t, test_bad_shapes_name_layer_and_field);
  tcase_add_test(t, test_layer_sizes_do_not_wrap);
  tcase_add_test(t, test_missing_file_names_the_path);
  tcase_add_test(t, test_model_file_size_is_capped);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
