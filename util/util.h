/*
 * util.h -- the project-wide base: one error vocabulary, the allocation
 * wrappers, a monotonic clock and small helpers.
 *
 * Every other folder may include this header; it includes nothing of the
 * project.  It sits below sim/ so that the trainer, which needs no simulator,
 * still shares the error codes and the configuration engine (util/conf.h).
 *
 * Errors.  Functions that can fail on user input return 0 or a negative
 * SM_E* code and, when given a non-NULL struct sm_err, fill it with a message
 * that names the file, the field and what was expected.  Broken invariants
 * assert.  Out of memory aborts in exactly one place (sm_oom), so callers of
 * sm_xmalloc() and friends never check for NULL.
 */
#ifndef SPIKEMESH_UTIL_H
#define SPIKEMESH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The error list, written once: name, value, text. */
#define SM_ERRNO_MAP(X)                                                        \
  X(EINVAL, -1, "invalid argument or value")                                   \
  X(ERANGE, -2, "value out of range")                                          \
  X(ENOKEY, -3, "unknown key")                                                 \
  X(ETYPE, -4, "wrong type")                                                   \
  X(EIO, -5, "input/output error")                                             \
  X(EFORMAT, -6, "malformed file")                                             \
  X(EVERSION, -7, "unsupported format version")                                \
  X(ENOFIT, -8, "does not fit")                                                \
  X(EPAST, -9, "event scheduled in the past")                                  \
  X(ESTATE, -10, "operation not allowed in this state")                        \
  X(EINTR, -11, "interrupted")                                                 \
  X(ELIMIT, -12, "size exceeds a safety limit")                                \
  X(ENOENT, -13, "no such file or object")                                     \
  X(EBUSY, -14, "resource busy or locked")

enum {
  SM_OK = 0,
#define SM__ERR_ENUM(name, val, text) SM_##name = (val),
  SM_ERRNO_MAP(SM__ERR_ENUM)
#undef SM__ERR_ENUM
};

/* A static string for an SM_E* code (never NULL). */
const char *sm_strerror(int code);
/* The code's symbolic name, e.g. "EINVAL". */
const char *sm_errname(int code);

/* An error report: the code and a human message. */
struct sm_err {
  int code;
  char msg[1024];
};

/* Fill err (if non-NULL) and return code, so callers can write
 *   return sm_fail(err, SM_EINVAL, "%s: key '%s': expected ...", ...);
 * Formatting is printf-style.  If err already holds a message, the new one
 * replaces it. */
int sm_fail(struct sm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sm_vfail(struct sm_err *err, int code, const char *fmt, va_list ap);
/* Prefix the existing message with "prefix: " (used to add a file name). */
int sm_err_prefix(struct sm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sm_err_clear(struct sm_err *err);

/* Allocation that never returns NULL: out of memory aborts in sm_oom(). */
void *sm_xmalloc(size_t n);
void *sm_xcalloc(size_t n, size_t size);
void *sm_xrealloc(void *p, size_t n);
char *sm_xstrdup(const char *s);
/* Multiply-then-allocate with an overflow check (aborts on overflow). */
void *sm_xmallocarray(size_t n, size_t size);
void *sm_xreallocarray(void *p, size_t n, size_t size);
_Noreturn void sm_oom(size_t n);

/* Monotonic wall clock in nanoseconds, for benchmarks and progress only;
 * simulated time never comes from here. */
uint64_t sm_now_ns(void);

/* 64-bit FNV-1a digest of a file's bytes (16 hex digits): the run row's
 * model_hash.  Returns 0 or SM_EIO naming the file. */
int sm_file_digest(const char *path, char out[17], struct sm_err *err);
/* Read a whole file into a NUL-terminated buffer (caller frees), at most
 * max bytes.  On error returns NULL and fills err with the path and the
 * reason; a larger file is SM_ELIMIT naming the cap, refused from its size
 * before reading when it is a regular file, after max bytes otherwise (a
 * pipe, a device).  With text, a NUL byte is SM_EFORMAT as soon as it is
 * read (binary data, /dev/zero). */
char *sm_read_file_max(const char *path, size_t max, int text, size_t *len,
                       struct sm_err *err);
/* The cap of configuration and preset files, sweep grids and the paper's
 * tables (read as text), and of sm_read_file (doc/hardening.md lists every
 * cap). */
#define SM_READ_FILE_MAX ((size_t)16 << 20)
/* sm_read_file_max(path, SM_READ_FILE_MAX, 0, len, err): any bytes. */
char *sm_read_file(const char *path, size_t *len, struct sm_err *err);

/* Parse helpers for command-line and key=value text.  Each rejects trailing
 * garbage, empty strings and overflow.  Numbers are decimal: a leading 0 is
 * not octal ("010" is 10, "08" is 8) and a 0x prefix is refused. */
int sm_parse_i64(const char *s, int64_t *out);
int sm_parse_u64(const char *s, uint64_t *out);
int sm_parse_double(const char *s, double *out);
int sm_parse_bool(const char *s, int *out);
/* A count or a quantity with its unit, returned in base units (3.52uJ ->
 * 3.52e-6).  Prefixes are case-checked: m is milli, M mega.
 *   unit "": a count, the number optionally followed by k, M or G ("71M",
 *     "45.4M", "3k"); anything else after it is SM_EINVAL (a count takes no
 *     'm': that would be milli).
 *   unit "J", "s", ...: the number followed by the unit, optionally after
 *     one of the prefixes f p n u m (u also as the micro sign) ("20pJ",
 *     "0.1nJ", "3.52uJ", "21.45us", "5J").  A bare number returns 1 with
 *     *out the number as written: no unit was given (the caller names one
 *     or refuses it).  Another unit or prefix ("20pW", "3MJ") is
 *     SM_EINVAL. */
int sm_parse_scaled(const char *s, const char *unit, double *out);

/* The Pareto front of n points of `dims` objectives (util/pareto.c), the
 * one definition the program uses.  pts is row-major (point i's objective d
 * at pts[i * dims + d]); maximize[d] nonzero: objective d is better when
 * larger, else when smaller (maximize NULL: all smaller).  on_front[i] is
 * set to 1 when no other point is at least as good in every objective and
 * strictly better in one, else 0.  Duplicates (points equal in every
 * objective) do not dominate each other: all copies are on the front or
 * none is.  A point with a NaN objective is not on the front and dominates
 * no other point (it is treated as missing).  dims 0: every point is on
 * the front. */
void sm_pareto_front(const double *pts, size_t n, size_t dims,
                     const int *maximize, int *on_front);

/* Writing an output file (util/file.c), the one way every writer of the
 * program (trace files, model files, plot data and scripts) goes:
 *
 *   struct sm_write w;
 *   if (sm_write_begin(&w, path, err)) return ...;
 *   ... fprintf(w.fp, ...) ...
 *   return sm_write_commit(&w, err);   (or sm_write_abort(&w) to give up)
 *
 * What path names decides how:
 *   a regular file, or a new name: the contents go to a temporary file
 *     beside the target (TARGET.tmp, or TARGET.tmp.PID.N when that name
 *     exists: an existing file is never reused), fsync'ed and renamed over
 *     the target at commit, keeping the file's permissions; a failed write
 *     or an abort removes the temporary and leaves the target as it was;
 *   a symbolic link: followed (a chain of them, a dangling one too) to the
 *     file it names, which is written as above; the link stays;
 *   an existing FIFO or character device (/dev/null, /dev/stdout): opened
 *     for writing as it is (no O_CREAT, no O_TRUNC, never replaced); a
 *     failure there leaves what was written before it;
 *   a directory or a block device: refused (SM_EINVAL).
 * An existing target we may not write is refused (SM_EIO).  Errors name
 * the path and the reason. */
struct sm_write {
  FILE *fp;     /* write the contents here */
  char *path;   /* as given (messages) */
  char *target; /* the file written (links followed) */
  char *tmp;    /* the temporary renamed over target; NULL: in place */
};
int sm_write_begin(struct sm_write *w, const char *path, struct sm_err *err);
/* Flush, sync and put the file in place; always releases w. */
int sm_write_commit(struct sm_write *w, struct sm_err *err);
/* Give up: remove the temporary (the target is untouched); releases w.
 * Safe on a w that sm_write_begin failed or that was committed. */
void sm_write_abort(struct sm_write *w);

#define SM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Project version string ("spikemesh 0.1.0"). */
const char *sm_version(void);

#endif /* SPIKEMESH_UTIL_H */
