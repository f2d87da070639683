/*
 * util.c -- errors, allocation wrappers, clock, file reading, number parsing.
 */
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

const char *sm_version(void) { return "spikemesh " PACKAGE_VERSION; }

const char *sm_strerror(int code) {
  switch (code) {
  case SM_OK:
    return "success";
#define SM__ERR_TEXT(name, val, text)                                          \
  case SM_##name:                                                              \
    return text;
    SM_ERRNO_MAP(SM__ERR_TEXT)
#undef SM__ERR_TEXT
  default:
    return "unknown error";
  }
}

const char *sm_errname(int code) {
  switch (code) {
  case SM_OK:
    return "OK";
#define SM__ERR_NAME(name, val, text)                                          \
  case SM_##name:                                                              \
    return #name;
    SM_ERRNO_MAP(SM__ERR_NAME)
#undef SM__ERR_NAME
  default:
    return "EUNKNOWN";
  }
}

int sm_vfail(struct sm_err *err, int code, const char *fmt, va_list ap) {
  if (err) {
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int sm_fail(struct sm_err *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sm_vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int sm_err_prefix(struct sm_err *err, const char *fmt, ...) {
  if (!err)
    return 0;
  char old[sizeof err->msg];
  memcpy(old, err->msg, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n + 2 < sizeof err->msg) {
    size_t room = sizeof err->msg - (size_t)n - 2;
    memcpy(err->msg + n, ": ", 2);
    size_t olen = strlen(old);
    if (olen > room - 1)
      olen = room - 1;
    memcpy(err->msg + n + 2, old, olen);
    err->msg[n + 2 + olen] = '\0';
  }
  return err->code;
}

void sm_err_clear(struct sm_err *err) {
  if (err) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}

_Noreturn void sm_oom(size_t n) {
  fprintf(stderr, "spikemesh: out of memory allocating %zu bytes\n", n);
  abort();
}

void *sm_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    sm_oom(n);
  return p;
}

void *sm_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    sm_oom(n * size);
  return p;
}

void *sm_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    sm_oom(n);
  return q;
}

void *sm_xmallocarray(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size)
    sm_oom(SIZE_MAX);
  return sm_xmalloc(n * size);
}

void *sm_xreallocarray(void *p, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size)
    sm_oom(SIZE_MAX);
  return sm_xrealloc(p, n * size);
}

char *sm_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = sm_xmalloc(n);
  memcpy(d, s, n);
  return d;
}

uint64_t sm_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "16 MiB", "1 GiB" or "N bytes". */
static void size_text(size_t n, char *buf, size_t len) {
  if (n >= ((size_t)1 << 30) && n % ((size_t)1 << 30) == 0)
    snprintf(buf, len, "%zu GiB", n >> 30);
  else if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
    snprintf(buf, len, "%zu MiB", n >> 20);
  else
    snprintf(buf, len, "%zu bytes", n);
}

char *sm_read_file_max(const char *path, size_t max, int text, size_t *len,
                       struct sm_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sm_fail(err, errno == ENOENT ? SM_ENOENT : SM_EIO, "%s: cannot open: %s",
            path, strerror(errno));
    return NULL;
  }
  struct stat st;
  int have_st = fstat(fileno(f), &st) == 0;
  if (have_st && S_ISDIR(st.st_mode)) {
    fclose(f);
    sm_fail(err, SM_EIO, "%s: is a directory, expected a file", path);
    return NULL;
  }
  char cap_text[32];
  size_text(max, cap_text, sizeof cap_text);
  /* a regular file says its size: refused before anything is read */
  if (have_st && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
    fclose(f);
    sm_fail(err, SM_ELIMIT, "%s: %llu bytes, larger than the %s this file "
            "may hold", path, (unsigned long long)st.st_size, cap_text);
    return NULL;
  }
  /* anything else (a pipe, a device such as /dev/zero) is read up to one
   * byte past the cap */
  size_t cap = 4096, n = 0;
  if (have_st && S_ISREG(st.st_mode) && (uint64_t)st.st_size + 2 > cap)
    cap = (size_t)st.st_size + 2;
  char *buf = sm_xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) {
      cap = cap > max / 2 ? max + 2 : cap * 2;
      buf = sm_xrealloc(buf, cap);
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    const char *nul = text ? memchr(buf + n, 0, got) : NULL;
    if (nul) {
      sm_fail(err, SM_EFORMAT, "%s: byte %zu is a NUL byte: expected a text "
              "file", path, (size_t)(nul - buf));
      fclose(f);
      free(buf);
      return NULL;
    }
    n += got;
    if (got == 0 || n > max)
      break;
  }
  if (n > max) {
    fclose(f);
    free(buf);
    sm_fail(err, SM_ELIMIT, "%s: more than the %s this file may hold (not "
            "a regular file: read until the limit)", path, cap_text);
    return NULL;
  }
  if (ferror(f)) {
    sm_fail(err, SM_EIO, "%s: read error: %s", path, strerror(errno));
    fclose(f);
    free(buf);
    return NULL;
  }
  fclose(f);
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

char *sm_read_file(const char *path, size_t *len, struct sm_err *err) {
  return sm_read_file_max(path, SM_READ_FILE_MAX, 0, len, err);
}

/* Numbers are read in base 10 only: strtol's base 0 took "010" for 8 and
 * refused "08", and strtod takes "0x10" for 16.  1 when s (after blanks
 * and a sign) starts with a hexadecimal prefix. */
static int hex_prefix(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '+' || *s == '-')
    s++;
  return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int sm_parse_i64(const char *s, int64_t *out) {
  if (!s || !*s)
    return SM_EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno == ERANGE)
    return SM_ERANGE;
  if (*end != '\0' || end == s)
    return SM_EINVAL;
  *out = (int64_t)v;
  return 0;
}

int sm_parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s)
    return SM_EINVAL;
  const char *p = s;
  while (*p == ' ')
    p++;
  if (*p == '-')
    return SM_ERANGE;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  if (errno == ERANGE)
    return SM_ERANGE;
  if (*end != '\0' || end == p)
    return SM_EINVAL;
  *out = (uint64_t)v;
  return 0;
}

int sm_parse_double(const char *s, double *out) {
  if (!s || !*s || hex_prefix(s))
    return SM_EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end != '\0' || end == s)
    return SM_EINVAL;
  if (errno == ERANGE || !isfinite(v))
    return SM_ERANGE;
  *out = v;
  return 0;
}

int sm_parse_bool(const char *s, int *out) {
  if (!s)
    return SM_EINVAL;
  if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
      !strcasecmp(s, "on")) {
    *out = 1;
    return 0;
  }
  if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
      !strcasecmp(s, "off")) {
    *out = 0;
    return 0;
  }
  return SM_EINVAL;
}

int sm_parse_scaled(const char *s, const char *unit, double *out) {
  if (!s || !*s || hex_prefix(s))
    return SM_EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno == ERANGE || !isfinite(v))
    return SM_EINVAL;
  if (!*end && *unit) { /* a quantity without its unit */
    *out = v;
    return 1;
  }
  static const struct {
    const char *p;
    double scale;
  } count_pfx[] = {{"k", 1e3}, {"M", 1e6}, {"G", 1e9}},
    unit_pfx[] = {{"f", 1e-15}, {"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6},
                  {"\xc2\xb5", 1e-6}, {"m", 1e-3}};
  double scale = 1.0;
  size_t np = *unit ? SM_ARRAY_LEN(unit_pfx) : SM_ARRAY_LEN(count_pfx);
  for (size_t i = 0; i < np; i++) {
    const char *p = *unit ? unit_pfx[i].p : count_pfx[i].p;
    if (!strncmp(end, p, strlen(p)) && strcmp(end, unit)) {
      scale = *unit ? unit_pfx[i].scale : count_pfx[i].scale;
      end += strlen(p);
      break;
    }
  }
  if (strcmp(end, unit))
    return SM_EINVAL;
  *out = v * scale;
  return 0;
}

int sm_file_digest(const char *path, char out[17], struct sm_err *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return sm_fail(err, SM_EIO, "%s: cannot open for its digest", path);
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
    for (size_t i = 0; i < n; i++)
      h = (h ^ buf[i]) * 1099511628211ull;
  fclose(fp);
  snprintf(out, 17, "%016llx", (unsigned long long)h);
  return 0;
}
