/*
 * check_util.c -- the base library: errors, parsing, configuration engine.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/conf.h"
#include "util/util.h"

struct tconf {
  int64_t i;
  uint64_t u;
  double d;
  int b;
  int e;
  char s[SM_CONF_STRLEN];
};

static const struct sm_opt topts[] = {
    SM_OPT_I(struct tconf, i, "a.int", "-3", "", -10, 10, "an integer"),
    SM_OPT_U(struct tconf, u, "a.depth", "4", "flits", 1, 64, "a depth"),
    SM_OPT_D(struct tconf, d, "b.delay", "2.5", "ps", 0, 1000, "a delay"),
    SM_OPT_B(struct tconf, b, "b.flag", "false", "a flag"),
    SM_OPT_E(struct tconf, e, "b.routing", "xy", "xy|yx|west-first", "route"),
    SM_OPT_S(struct tconf, s, "name", "hello", "a name"),
};

static struct tconf tc;
static struct sm_conf cf;
static struct sm_err err;

static void setup(void) {
  memset(&tc, 0, sizeof tc);
  memset(&err, 0, sizeof err);
  sm_conf_init(&cf);
  sm_conf_add(&cf, topts, SM_ARRAY_LEN(topts), &tc);
  ck_assert_int_eq(sm_conf_defaults(&cf, &err), 0);
}

START_TEST(test_errors_have_names_and_texts) {
  ck_assert_str_eq(sm_errname(SM_EINVAL), "EINVAL");
  ck_assert_str_eq(sm_strerror(SM_EPAST), "event scheduled in the past");
  ck_assert_str_eq(sm_strerror(0), "success");
  ck_assert_str_eq(sm_errname(-999), "EUNKNOWN");
  struct sm_err e;
  ck_assert_int_eq(sm_fail(&e, SM_ERANGE, "x=%d", 5), SM_ERANGE);
  ck_assert_str_eq(e.msg, "x=5");
  sm_err_prefix(&e, "file.json");
  ck_assert_str_eq(e.msg, "file.json: x=5");
}
END_TEST

START_TEST(test_parse_numbers_reject_garbage) {
  int64_t i;
  uint64_t u;
  double d;
  int b;
  ck_assert_int_eq(sm_parse_i64("42", &i), 0);
  ck_assert_int_eq(i, 42);
  ck_assert_int_ne(sm_parse_i64("42x", &i), 0);
  ck_assert_int_ne(sm_parse_i64("", &i), 0);
  ck_assert_int_eq(sm_parse_u64("-1", &u), SM_ERANGE);
  ck_assert_int_eq(sm_parse_u64("99999999999999999999999", &u), SM_ERANGE);
  ck_assert_int_eq(sm_parse_double("1e-3", &d), 0);
  ck_assert_int_ne(sm_parse_double("nan", &d), 0);
  ck_assert_int_ne(sm_parse_double("1e999", &d), 0);
  ck_assert_int_eq(sm_parse_bool("yes", &b), 0);
  ck_assert_int_eq(b, 1);
  ck_assert_int_ne(sm_parse_bool("maybe", &b), 0);
}
END_TEST

START_TEST(test_parse_scaled_units_and_prefixes) {
  double v;
  ck_assert_int_eq(sm_parse_scaled("71M", "", &v), 0);
  ck_assert_double_eq(v, 71e6);
  ck_assert_int_eq(sm_parse_scaled("45.4M", "", &v), 0);
  ck_assert_double_eq_tol(v, 45.4e6, 1e-6);
  ck_assert_int_eq(sm_parse_scaled("3.52uJ", "J", &v), 0);
  ck_assert_double_eq_tol(v, 3.52e-6, 1e-18);
  ck_assert_int_eq(sm_parse_scaled("20pJ", "J", &v), 0);
  ck_assert_double_eq_tol(v, 20e-12, 1e-24);
  ck_assert_int_eq(sm_parse_scaled("21.45us", "s", &v), 0);
  ck_assert_double_eq_tol(v, 21.45e-6, 1e-18);
  ck_assert_int_eq(sm_parse_scaled("7", "J", &v), 0); /* bare: base unit */
  ck_assert_double_eq(v, 7.0);
  ck_assert_int_eq(sm_parse_scaled("5J", "J", &v), 0);
  ck_assert_int_eq(sm_parse_scaled("20pW", "J", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("20pJ", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("M", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("3Mx", "", &v), SM_EINVAL);
}
END_TEST

START_TEST(test_conf_defaults_apply) {
  ck_assert_int_eq(tc.i, -3);
  ck_assert_uint_eq(tc.u, 4);
  ck_assert_double_eq(tc.d, 2.5);
  ck_assert_int_eq(tc.b, 0);
  ck_assert_int_eq(tc.e, 0);
  ck_assert_str_eq(tc.s, "hello");
}
END_TEST

START_TEST(test_conf_kv_overrides) {
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=8", "cmd", &err), 0);
  ck_assert_uint_eq(tc.u, 8);
  ck_assert_int_eq(sm_conf_set(&cf, "b.routing=yx", "cmd", &err), 0);
  ck_assert_int_eq(tc.e, 1);
  ck_assert_int_eq(sm_conf_set(&cf, "b.flag=on", "cmd", &err), 0);
  ck_assert_int_eq(tc.b, 1);
  ck_assert_int_eq(sm_conf_set(&cf, "name=x=y", "cmd", &err), 0);
  ck_assert_str_eq(tc.s, "x=y");
}
END_TEST

START_TEST(test_conf_unknown_key_lists_valid_keys) {
  ck_assert_int_eq(sm_conf_set(&cf, "a.dept=8", "cmd", &err), SM_ENOKEY);
  ck_assert_ptr_nonnull(strstr(err.msg, "unknown key 'a.dept'"));
  ck_assert_ptr_nonnull(strstr(err.msg, "a.depth"));
  ck_assert_ptr_nonnull(strstr(err.msg, "cmd"));
}
END_TEST

START_TEST(test_conf_out_of_range_names_range) {
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=0", "cmd", &err), SM_ERANGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "a.depth"));
  ck_assert_ptr_nonnull(strstr(err.msg, "[1, 64]"));
  ck_assert_ptr_nonnull(strstr(err.msg, "flits"));
  ck_assert_uint_eq(tc.u, 4); /* unchanged */
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=-1", "cmd", &err), SM_ERANGE);
  ck_assert_int_eq(sm_conf_set(&cf, "b.delay=1001", "cmd", &err), SM_ERANGE);
}
END_TEST

START_TEST(test_conf_wrong_type_and_choice) {
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=four", "cmd", &err), SM_ETYPE);
  ck_assert_ptr_nonnull(strstr(err.msg, "a.depth"));
  ck_assert_int_eq(sm_conf_set(&cf, "b.routing=zz", "cmd", &err), SM_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "xy,yx,west-first"));
  ck_assert_int_eq(sm_conf_set(&cf, "novalue", "cmd", &err), SM_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "key=value"));
}
END_TEST

START_TEST(test_conf_json_flat_and_nested) {
  json_error_t je;
  json_t *j = json_loads(
      "{\"a\": {\"depth\": 16, \"int\": 7}, \"b.delay\": 10, \"b.flag\": true,"
      " \"name\": \"mesh\"}",
      0, &je);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "t.json", &err), 0);
  json_decref(j);
  ck_assert_uint_eq(tc.u, 16);
  ck_assert_int_eq(tc.i, 7);
  ck_assert_double_eq(tc.d, 10.0);
  ck_assert_int_eq(tc.b, 1);
  ck_assert_str_eq(tc.s, "mesh");
}
END_TEST

START_TEST(test_conf_json_errors_name_file_and_key) {
  json_error_t je;
  json_t *j = json_loads("{\"a\": {\"depth\": \"8\"}}", 0, &je);
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "t.json", &err), SM_ETYPE);
  ck_assert_ptr_nonnull(strstr(err.msg, "t.json"));
  ck_assert_ptr_nonnull(strstr(err.msg, "a.depth"));
  json_decref(j);
  j = json_loads("{\"a\": {\"bogus\": 1}}", 0, &je);
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "t.json", &err), SM_ENOKEY);
  ck_assert_ptr_nonnull(strstr(err.msg, "a.bogus"));
  json_decref(j);
  j = json_loads("{\"a.depth\": 2.5}", 0, &je);
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "t.json", &err), SM_ETYPE);
  json_decref(j);
  j = json_loads("[1]", 0, &je);
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "t.json", &err), SM_ETYPE);
  json_decref(j);
}
END_TEST

START_TEST(test_conf_file_errors) {
  ck_assert_int_ne(sm_conf_load_file(&cf, "/nonexistent/x.json", &err), 0);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.json"));
  char path[] = "/tmp/sm_conf_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "{\"a.depth\": 8,\n  oops}", 22), 22);
  close(fd);
  ck_assert_int_eq(sm_conf_load_file(&cf, path, &err), SM_EFORMAT);
  ck_assert_ptr_nonnull(strstr(err.msg, path));
  ck_assert_ptr_nonnull(strstr(err.msg, ":2:"));
  unlink(path);
}
END_TEST

START_TEST(test_conf_to_json_round_trips) {
  ck_assert_int_eq(sm_conf_set(&cf, "b.routing=west-first", "cmd", &err), 0);
  json_t *j = sm_conf_to_json(&cf);
  struct tconf copy = tc;
  setup();
  ck_assert_int_eq(sm_conf_load_json(&cf, j, "round", &err), 0);
  json_decref(j);
  ck_assert_int_eq(tc.e, copy.e);
  ck_assert_int_eq(tc.i, copy.i);
  ck_assert_double_eq(tc.d, copy.d);
  ck_assert_str_eq(tc.s, copy.s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("util");
  TCase *tc_ = tcase_create("core");
  tcase_add_checked_fixture(tc_, setup, NULL);
  tcase_add_test(tc_, test_errors_have_names_and_texts);
  tcase_add_test(tc_, test_parse_numbers_reject_garbage);
  tcase_add_test(tc_, test_parse_scaled_units_and_prefixes);
  tcase_add_test(tc_, test_conf_defaults_apply);
  tcase_add_test(tc_, test_conf_kv_overrides);
  tcase_add_test(tc_, test_conf_unknown_key_lists_valid_keys);
  tcase_add_test(tc_, test_conf_out_of_range_names_range);
  tcase_add_test(tc_, test_conf_wrong_type_and_choice);
  tcase_add_test(tc_, test_conf_json_flat_and_nested);
  tcase_add_test(tc_, test_conf_json_errors_name_file_and_key);
  tcase_add_test(tc_, test_conf_file_errors);
  tcase_add_test(tc_, test_conf_to_json_round_trips);
  suite_add_tcase(s, tc_);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
