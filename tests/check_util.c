/*
 * check_util.c -- the base library: errors, parsing, configuration engine,
 * the Pareto front, output files (links, FIFOs, devices, failed writes).
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/conf.h"
#include "util/rng.h"
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

/* Base 10 everywhere: a leading zero is not octal (--frames 010 once ran 8
 * frames, while noc.width=08 was refused), and hexadecimal is refused. */
START_TEST(test_parse_numbers_are_decimal) {
  int64_t i;
  uint64_t u;
  double d;
  ck_assert_int_eq(sm_parse_u64("010", &u), 0);
  ck_assert_uint_eq(u, 10);
  ck_assert_int_eq(sm_parse_u64("08", &u), 0);
  ck_assert_uint_eq(u, 8);
  ck_assert_int_eq(sm_parse_i64("-010", &i), 0);
  ck_assert_int_eq(i, -10);
  ck_assert_int_eq(sm_parse_i64("09", &i), 0);
  ck_assert_int_eq(i, 9);
  ck_assert_int_ne(sm_parse_u64("0x10", &u), 0);
  ck_assert_int_ne(sm_parse_i64("0x10", &i), 0);
  ck_assert_int_ne(sm_parse_double("0x10", &d), 0);
  ck_assert_int_ne(sm_parse_double("-0X1p3", &d), 0);
  ck_assert_int_ne(sm_parse_scaled("0x10", "", &d), 0);
  ck_assert_int_eq(sm_parse_double("010.5", &d), 0);
  ck_assert_double_eq(d, 10.5);
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=010", "cmd", &err), 0);
  ck_assert_uint_eq(tc.u, 10);
  ck_assert_int_eq(sm_conf_set(&cf, "a.depth=08", "cmd", &err), 0);
  ck_assert_uint_eq(tc.u, 8);
  ck_assert_int_eq(sm_conf_set(&cf, "a.int=-07", "cmd", &err), 0);
  ck_assert_int_eq(tc.i, -7);
  ck_assert_int_ne(sm_conf_set(&cf, "a.depth=0x8", "cmd", &err), 0);
  ck_assert_int_ne(sm_conf_set(&cf, "b.delay=0x8", "cmd", &err), 0);
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
  /* a quantity without its unit is not read in the base unit: 1, the
   * number as written, for the caller to name the unit or refuse */
  v = -1;
  ck_assert_int_eq(sm_parse_scaled("7", "J", &v), 1);
  ck_assert_double_eq(v, 7.0);
  ck_assert_int_eq(sm_parse_scaled("5J", "J", &v), 0);
  ck_assert_double_eq(v, 5.0);
  ck_assert_int_eq(sm_parse_scaled("20fJ", "J", &v), 0);
  ck_assert_double_eq_tol(v, 20e-15, 1e-27);
  ck_assert_int_eq(sm_parse_scaled("1mJ", "J", &v), 0);
  ck_assert_double_eq_tol(v, 1e-3, 1e-15);
  ck_assert_int_eq(sm_parse_scaled("3.52\xc2\xb5J", "J", &v), 0);
  ck_assert_double_eq_tol(v, 3.52e-6, 1e-18);
  /* prefixes are case-checked: M is mega, not milli; counts take k, M, G */
  ck_assert_int_eq(sm_parse_scaled("1MJ", "J", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("1kJ", "J", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("2Us", "s", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("71m", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("71u", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("3K", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("1T", "", &v), SM_EINVAL);
  ck_assert_int_eq(sm_parse_scaled("3k", "", &v), 0);
  ck_assert_double_eq(v, 3e3);
  ck_assert_int_eq(sm_parse_scaled("2G", "", &v), 0);
  ck_assert_double_eq(v, 2e9);
  ck_assert_int_eq(sm_parse_scaled("12", "", &v), 0);
  ck_assert_double_eq(v, 12.0);
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

/* File reads are capped: a regular file from its size before reading, a
 * device or pipe once the cap is passed; text reads stop at a NUL byte
 * (/dev/zero as a configuration, a model or a grid). */
START_TEST(test_read_file_caps) {
  char path[] = "/tmp/sm_cap_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  char buf[100];
  memset(buf, 'x', sizeof buf);
  ck_assert_int_eq(write(fd, buf, sizeof buf), (int)sizeof buf);
  size_t len = 0;
  char *t = sm_read_file_max(path, 100, 1, &len, &err);
  ck_assert_ptr_nonnull(t);
  ck_assert_uint_eq(len, 100);
  free(t);
  ck_assert_ptr_null(sm_read_file_max(path, 99, 1, &len, &err));
  ck_assert_int_eq(err.code, SM_ELIMIT);
  ck_assert_ptr_nonnull(strstr(err.msg, path));
  ck_assert_ptr_nonnull(strstr(err.msg, "larger than the 99 bytes"));
  /* a sparse file beyond sm_read_file's cap: refused without reading */
  ck_assert_int_eq(ftruncate(fd, (off_t)SM_READ_FILE_MAX + 1), 0);
  close(fd);
  ck_assert_ptr_null(sm_read_file(path, &len, &err));
  ck_assert_int_eq(err.code, SM_ELIMIT);
  ck_assert_ptr_nonnull(strstr(err.msg, "16 MiB"));
  ck_assert_int_eq(sm_conf_load_file(&cf, path, &err), SM_ELIMIT);
  unlink(path);
  /* a device: read up to the cap, or to its first NUL byte as text */
  ck_assert_ptr_null(sm_read_file("/dev/zero", &len, &err));
  ck_assert_int_eq(err.code, SM_ELIMIT);
  ck_assert_ptr_nonnull(strstr(err.msg, "16 MiB"));
  ck_assert_ptr_null(sm_read_file_max("/dev/zero", 1 << 20, 0, &len, &err));
  ck_assert_int_eq(err.code, SM_ELIMIT);
  ck_assert_ptr_nonnull(strstr(err.msg, "1 MiB"));
  ck_assert_ptr_null(
      sm_read_file_max("/dev/zero", SM_READ_FILE_MAX, 1, &len, &err));
  ck_assert_int_eq(err.code, SM_EFORMAT);
  ck_assert_ptr_nonnull(strstr(err.msg, "byte 0 is a NUL byte"));
  ck_assert_int_eq(sm_conf_load_file(&cf, "/dev/zero", &err), SM_EFORMAT);
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

/* The Pareto front by its definition, every pair compared. */
static void brute_front(const double *pts, size_t n, size_t dims,
                        const int *max, int *on) {
  for (size_t i = 0; i < n; i++) {
    on[i] = 1;
    for (size_t d = 0; d < dims; d++)
      if (isnan(pts[i * dims + d]))
        on[i] = 0;
    for (size_t j = 0; j < n && on[i]; j++) {
      int ge = 1, gt = 0, nan = 0;
      for (size_t d = 0; d < dims; d++) {
        double a = pts[j * dims + d], b = pts[i * dims + d];
        nan |= isnan(a);
        if (max && max[d]) {
          a = -a;
          b = -b;
        }
        ge &= a <= b;
        gt |= a < b;
      }
      if (j != i && !nan && ge && gt)
        on[i] = 0;
    }
  }
}

START_TEST(test_pareto_front_matches_brute_force) {
  static const size_t sizes[] = {0, 1, 2, 3, 7, 20, 64, 300};
  struct sm_rng r;
  sm_rng_seed(&r, 12345);
  int cases = 0, checked_dup = 0;
  for (size_t dims = 2; dims <= 3; dims++)
    for (size_t si = 0; si < SM_ARRAY_LEN(sizes); si++)
      for (int rep = 0; rep < 12; rep++, cases++) {
        size_t n = sizes[si];
        /* few distinct values (ties), or continuous ones; then copies */
        int levels = rep % 3 == 0 ? 0 : rep % 3 == 1 ? 4 : 12;
        double *pts = malloc((n ? n : 1) * dims * sizeof *pts);
        int *on = malloc((n ? n : 1) * sizeof *on);
        int *want = malloc((n ? n : 1) * sizeof *want);
        for (size_t i = 0; i < n * dims; i++)
          pts[i] = levels ? (double)(sm_rng_next(&r) % (uint64_t)levels)
                          : sm_rng_uniform(&r) * 100 - 50;
        for (size_t i = 1; i < n; i += 3) { /* duplicates of earlier points */
          size_t j = sm_rng_next(&r) % i;
          memcpy(&pts[i * dims], &pts[j * dims], dims * sizeof *pts);
        }
        int max[3] = {(int)(rep & 1), (int)((rep >> 1) & 1), (int)(rep >> 2 & 1)};
        const int *mx = rep == 11 ? NULL : max;
        sm_pareto_front(pts, n, dims, mx, on);
        brute_front(pts, n, dims, mx, want);
        size_t nf = 0;
        for (size_t i = 0; i < n; i++) {
          ck_assert_msg(on[i] == want[i],
                        "dims %zu n %zu rep %d: point %zu: %d, expected %d",
                        dims, n, rep, i, on[i], want[i]);
          nf += (size_t)on[i];
        }
        if (n)
          ck_assert_uint_ge(nf, 1); /* a finite set has a front */
        for (size_t i = 1; i < n; i += 3) /* copies share their fate */
          for (size_t j = 0; j < i; j++)
            if (!memcmp(&pts[i * dims], &pts[j * dims], dims * sizeof *pts)) {
              ck_assert_int_eq(on[i], on[j]);
              checked_dup++;
            }
        free(pts);
        free(on);
        free(want);
      }
  ck_assert_int_eq(cases, 2 * (int)SM_ARRAY_LEN(sizes) * 12);
  ck_assert_int_gt(checked_dup, 100);
}
END_TEST

START_TEST(test_pareto_front_ties_duplicates_and_nan) {
  /* energy, latency (lower better), accuracy (higher better) */
  const double pts[] = {
      1, 5, 0.9,   /* 0: on */
      1, 5, 0.9,   /* 1: a copy of 0: on too */
      2, 5, 0.9,   /* 2: 0 is as fast, as accurate and cheaper: off */
      2, 4, 0.9,   /* 3: faster than 0: on */
      3, 3, 0.95,  /* 4: on */
      3, 3, NAN,   /* 5: missing accuracy: off, and does not dominate 6 */
      3, 3.5, 0.5, /* 6: 4 dominates it: off */
      9, 9, 0.99,  /* 7: most accurate: on */
      NAN, 0, 1,   /* 8: off */
  };
  const int max[] = {0, 0, 1};
  const int want[] = {1, 1, 0, 1, 1, 0, 0, 1, 0};
  int on[9];
  sm_pareto_front(pts, 9, 3, max, on);
  for (int i = 0; i < 9; i++)
    ck_assert_msg(on[i] == want[i], "point %d: %d, expected %d", i, on[i],
                  want[i]);
  /* the same points, two objectives: accuracy no longer saves 7 */
  const double two[] = {1, 5, 2, 4, 3, 3, 9, 9, 3, 3};
  const int want2[] = {1, 1, 1, 0, 1};
  int on2[5];
  sm_pareto_front(two, 5, 2, NULL, on2);
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(on2[i], want2[i]);
}
END_TEST

/* ---- output files (util/file.c) ----------------------------------------- */

static char fdir[256];

static void fsetup(void) {
  snprintf(fdir, sizeof fdir, "/tmp/sm_util_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(fdir));
}

static void fteardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fdir);
  ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static char *get(const char *path) {
  char *b = sm_read_file(path, NULL, NULL);
  ck_assert_msg(b, "%s unreadable", path);
  return b;
}

static int write_text(const char *path, const char *text, struct sm_err *e) {
  struct sm_write w;
  int rc = sm_write_begin(&w, path, e);
  if (rc)
    return rc;
  fputs(text, w.fp);
  return sm_write_commit(&w, e);
}

/* Entries of fdir (. and .. excluded). */
static int entries(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", fdir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  ck_assert_int_eq(fscanf(p, "%d", &n), 1);
  pclose(p);
  return n;
}

START_TEST(test_write_replaces_a_regular_file_keeping_its_mode) {
  char f[300];
  snprintf(f, sizeof f, "%s/out.txt", fdir);
  put(f, "old");
  ck_assert_int_eq(chmod(f, 0640), 0);
  struct sm_err e = {0};
  ck_assert_msg(write_text(f, "new", &e) == 0, "%s", e.msg);
  char *b = get(f);
  ck_assert_str_eq(b, "new");
  free(b);
  struct stat st;
  ck_assert_int_eq(stat(f, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0640);
  ck_assert_int_eq(entries(), 1); /* no temporary left */
  /* a new name is created */
  snprintf(f, sizeof f, "%s/new.txt", fdir);
  ck_assert_msg(write_text(f, "x", &e) == 0, "%s", e.msg);
  ck_assert_int_eq(entries(), 2);
}
END_TEST

START_TEST(test_write_follows_links_and_keeps_them) {
  char real[300], link[300], chain[300], dang[300], made[300];
  snprintf(real, sizeof real, "%s/real.txt", fdir);
  snprintf(link, sizeof link, "%s/link", fdir);
  snprintf(chain, sizeof chain, "%s/chain", fdir);
  snprintf(dang, sizeof dang, "%s/dangling", fdir);
  snprintf(made, sizeof made, "%s/made.txt", fdir);
  put(real, "old");
  ck_assert_int_eq(symlink("real.txt", link), 0);
  ck_assert_int_eq(symlink(link, chain), 0); /* absolute, to a link */
  ck_assert_int_eq(symlink("made.txt", dang), 0);
  struct sm_err e = {0};
  ck_assert_msg(write_text(chain, "through two links", &e) == 0, "%s", e.msg);
  struct stat st;
  ck_assert_int_eq(lstat(link, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  ck_assert_int_eq(lstat(chain, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  char *b = get(real);
  ck_assert_str_eq(b, "through two links");
  free(b);
  /* a dangling link: its target is created, the link stays */
  ck_assert_msg(write_text(dang, "made", &e) == 0, "%s", e.msg);
  ck_assert_int_eq(lstat(dang, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  b = get(made);
  ck_assert_str_eq(b, "made");
  free(b);
  ck_assert_int_eq(entries(), 5);
}
END_TEST

START_TEST(test_write_into_fifo_and_devices_in_place) {
  char fifo[300];
  snprintf(fifo, sizeof fifo, "%s/fifo", fdir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  /* a reader first, so the writer's open does not wait */
  int rd = open(fifo, O_RDONLY | O_NONBLOCK);
  ck_assert_int_ge(rd, 0);
  struct sm_err e = {0};
  ck_assert_msg(write_text(fifo, "through the pipe", &e) == 0, "%s", e.msg);
  char buf[64] = {0};
  ck_assert_int_eq(read(rd, buf, sizeof buf - 1), 16);
  ck_assert_str_eq(buf, "through the pipe");
  close(rd);
  struct stat st;
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  ck_assert_int_eq(entries(), 1);
  /* /dev/null stays the device; nothing appears in /dev */
  ck_assert_msg(write_text("/dev/null", "gone", &e) == 0, "%s", e.msg);
  ck_assert_int_eq(lstat("/dev/null", &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  ck_assert_int_ne(access("/dev/null.tmp", F_OK), 0);
  /* a device that fails the write says so */
  if (access("/dev/full", W_OK) == 0) {
    ck_assert_int_eq(write_text("/dev/full", "x", &e), SM_EIO);
    ck_assert_msg(strstr(e.msg, "/dev/full") && strstr(e.msg, "in place"),
                  "%s", e.msg);
    ck_assert_int_eq(lstat("/dev/full", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
  }
  /* a directory is refused */
  ck_assert_int_eq(write_text(fdir, "x", &e), SM_EINVAL);
  ck_assert_msg(strstr(e.msg, "directory"), "%s", e.msg);
}
END_TEST

START_TEST(test_failed_write_leaves_the_target_and_no_temporary) {
  char f[300], tmp[320], other[300];
  snprintf(f, sizeof f, "%s/out.txt", fdir);
  snprintf(tmp, sizeof tmp, "%s.tmp", f);
  snprintf(other, sizeof other, "%s/other", fdir);
  put(f, "old");
  /* an existing out.txt.tmp is not ours: a link to another file; it is
   * neither followed nor removed */
  put(other, "keep");
  ck_assert_int_eq(symlink(other, tmp), 0);
  struct sm_write w;
  struct sm_err e = {0};
  ck_assert_int_eq(sm_write_begin(&w, f, &e), 0);
  ck_assert_ptr_nonnull(w.tmp);
  ck_assert_str_ne(w.tmp, tmp);
  fputs("half", w.fp);
  sm_write_abort(&w);
  ck_assert_int_eq(entries(), 3);
  /* a write the file system refuses (the file size limit) */
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    struct sm_write c;
    if (sm_write_begin(&c, f, &e))
      _exit(3);
    for (int i = 0; i < 10000; i++)
      fputs("0123456789", c.fp);
    int rc = sm_write_commit(&c, &e);
    _exit(rc == SM_EIO && strstr(e.msg, "unchanged") ? 0 : 4);
  }
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  char *b = get(f);
  ck_assert_str_eq(b, "old");
  free(b);
  b = get(other);
  ck_assert_str_eq(b, "keep");
  free(b);
  ck_assert_int_eq(entries(), 3);
  /* an empty name */
  ck_assert_int_eq(sm_write_begin(&w, "", &e), SM_EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("util");
  TCase *tc_ = tcase_create("core");
  tcase_add_checked_fixture(tc_, setup, NULL);
  tcase_add_test(tc_, test_errors_have_names_and_texts);
  tcase_add_test(tc_, test_parse_numbers_reject_garbage);
  tcase_add_test(tc_, test_parse_numbers_are_decimal);
  tcase_add_test(tc_, test_parse_scaled_units_and_prefixes);
  tcase_add_test(tc_, test_conf_defaults_apply);
  tcase_add_test(tc_, test_conf_kv_overrides);
  tcase_add_test(tc_, test_conf_unknown_key_lists_valid_keys);
  tcase_add_test(tc_, test_conf_out_of_range_names_range);
  tcase_add_test(tc_, test_conf_wrong_type_and_choice);
  tcase_add_test(tc_, test_conf_json_flat_and_nested);
  tcase_add_test(tc_, test_conf_json_errors_name_file_and_key);
  tcase_add_test(tc_, test_conf_file_errors);
  tcase_add_test(tc_, test_read_file_caps);
  tcase_add_test(tc_, test_conf_to_json_round_trips);
  tcase_add_test(tc_, test_pareto_front_matches_brute_force);
  tcase_add_test(tc_, test_pareto_front_ties_duplicates_and_nan);
  suite_add_tcase(s, tc_);
  TCase *tf = tcase_create("files");
  tcase_add_checked_fixture(tf, fsetup, fteardown);
  tcase_add_test(tf, test_write_replaces_a_regular_file_keeping_its_mode);
  tcase_add_test(tf, test_write_follows_links_and_keeps_them);
  tcase_add_test(tf, test_write_into_fifo_and_devices_in_place);
  tcase_add_test(tf, test_failed_write_leaves_the_target_and_no_temporary);
  suite_add_tcase(s, tf);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
