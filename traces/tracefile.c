/*
 * tracefile.c -- spike and packet trace files: a compact versioned binary
 * format and CSV, both ways (format: trace.h, doc/recorder.md).
 *
 * Reading validates everything that comes from the file: its size
 * (TRACE_FILE_MAX_BYTES), the magic, the version, the kind, the meta
 * length, the record count against the file's size (before anything is
 * allocated for records), a spike trace's destination total (0), times
 * and deadlines (not negative), each spike's core (a node of the largest
 * mesh), each packet's destination count, and truncation; errors name the
 * file and the byte offset (binary) or the line and field (CSV).  What
 * depends on a model or mesh (layers, neurons, steps, nodes, duplicate
 * spikes, time horizons) is checked by the replay (run/replay.c).
 * Writing goes through sm_write_begin (util.h): a regular file is replaced
 * only when complete, a link is followed, a FIFO or device is written as
 * it is.
 *
 * Cost: the file is read whole into memory (one read), records are decoded
 * with explicit little-endian loads (no struct overlays, so no alignment
 * or padding assumptions).  Rejected: memory-mapping (no gain at the sizes
 * a replay handles, and a file truncated under a mapping faults).
 */
#include "traces/trace.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define HDR 32
static const char magic[8] = {'S', 'M', 'T', 'R', 'A', 'C', 'E', 0};
#define SPIKE_REC 24
#define PACKET_REC 36

/* The meta must be a JSON object; it is kept in compact form, which has no
 * raw line breaks (strings escape them), so the CSV writer's one-line
 * "# meta:" header always reads back.  Returns the compact text (caller
 * frees) or NULL with the parser's message in why. */
static char *meta_normalize(const char *text, size_t len, char *why,
                            size_t why_len) {
  json_error_t je;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j)) {
    snprintf(why, why_len, "%s", j ? "not a JSON object" : je.text);
    json_decref(j);
    return NULL;
  }
  char *out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(j);
  if (!out)
    sm_oom(len);
  return out;
}

void trace_file_init(struct trace_file *t, int kind, const char *meta) {
  memset(t, 0, sizeof *t);
  t->kind = kind;
  t->meta = sm_xstrdup(meta && *meta ? meta : "{}");
}

void trace_file_free(struct trace_file *t) {
  free(t->meta);
  free(t->spikes);
  free(t->packets);
  free(t->dst);
  memset(t, 0, sizeof *t);
}

static void grow(struct trace_file *t) {
  if (t->n < t->cap)
    return;
  t->cap = t->cap ? 2 * t->cap : 1024;
  if (t->kind == TRACE_KIND_SPIKE)
    t->spikes = sm_xreallocarray(t->spikes, t->cap, sizeof *t->spikes);
  else
    t->packets = sm_xreallocarray(t->packets, t->cap, sizeof *t->packets);
}

void trace_file_add_spike(struct trace_file *t, const struct trace_spike *s) {
  grow(t);
  t->spikes[t->n++] = *s;
}

void trace_file_add_packet(struct trace_file *t, const struct trace_packet *p,
                           const uint32_t *dst) {
  grow(t);
  if (t->ndst_total + p->ndst > t->dcap) {
    while (t->ndst_total + p->ndst > t->dcap)
      t->dcap = t->dcap ? 2 * t->dcap : 4096;
    t->dst = sm_xreallocarray(t->dst, t->dcap, sizeof *t->dst);
  }
  struct trace_packet *q = &t->packets[t->n++];
  *q = *p;
  q->dst_off = t->ndst_total;
  memcpy(t->dst + t->ndst_total, dst, p->ndst * sizeof *dst);
  t->ndst_total += p->ndst;
}

/* ---- little-endian helpers ---------------------------------------------- */

static uint64_t ld(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void st(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++, v >>= 8)
    p[i] = (unsigned char)v;
}

/* ---- binary ------------------------------------------------------------- */

static int read_binary(const char *path, const unsigned char *b, size_t len,
                       struct trace_file *t, struct sm_err *err) {
  if (len < HDR)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset %zu: truncated header (%d bytes needed)",
                   path, len, HDR);
  unsigned version = (unsigned)ld(b + 8, 2), kind = (unsigned)ld(b + 10, 2);
  if (version != TRACE_FILE_VERSION)
    return sm_fail(err, SM_EVERSION,
                   "%s: byte offset 8: trace format version %u, this "
                   "spikemesh reads version %d",
                   path, version, TRACE_FILE_VERSION);
  if (kind != TRACE_KIND_SPIKE && kind != TRACE_KIND_PACKET)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset 10: unknown trace kind %u (1 spike, 2 "
                   "packet)",
                   path, kind);
  uint64_t meta_len = ld(b + 12, 4), n = ld(b + 16, 8), nd = ld(b + 24, 8);
  if (meta_len > len - HDR)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset 12: meta length %llu is larger than the "
                   "file (%zu bytes)",
                   path, (unsigned long long)meta_len, len);
  size_t off = HDR + (size_t)meta_len, rest = len - off;
  uint64_t rec = kind == TRACE_KIND_SPIKE ? SPIKE_REC : PACKET_REC;
  if (n > TRACE_FILE_MAX_RECORDS || n > rest / rec)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset 16: header claims %llu records, but the "
                   "%zu bytes after the header hold at most %llu",
                   path, (unsigned long long)n, rest,
                   (unsigned long long)(rest / rec));
  if (kind == TRACE_KIND_PACKET && nd > (rest - n * rec) / 4)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset 24: header claims %llu destinations, more "
                   "than the file holds",
                   path, (unsigned long long)nd);
  if (kind == TRACE_KIND_SPIKE && nd)
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset 24: a spike trace's destination total "
                   "must be 0, the header says %llu",
                   path, (unsigned long long)nd);
  char *meta = NULL, why[200];
  if (meta_len && !(meta = meta_normalize((const char *)b + HDR,
                                          (size_t)meta_len, why, sizeof why)))
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset %d: the meta (%llu bytes) is not a JSON "
                   "object: %s",
                   path, HDR, (unsigned long long)meta_len, why);
  trace_file_init(t, (int)kind, meta ? meta : "{}");
  free(meta);
  t->cap = (size_t)n;
  if (kind == TRACE_KIND_SPIKE) {
    t->spikes = sm_xmallocarray(n ? (size_t)n : 1, sizeof *t->spikes);
    for (uint64_t i = 0; i < n; i++, off += SPIKE_REC) {
      const unsigned char *p = b + off;
      struct trace_spike *s = &t->spikes[t->n++];
      s->time_ps = (int64_t)ld(p, 8);
      s->frame = (uint32_t)ld(p + 8, 4);
      s->layer = (uint32_t)ld(p + 12, 2);
      s->step = (uint32_t)ld(p + 14, 2);
      s->neuron = (uint32_t)ld(p + 16, 4);
      s->core = (uint32_t)ld(p + 20, 4);
      if (s->time_ps < 0 || s->core >= TRACE_FILE_MAX_DST) {
        int neg = s->time_ps < 0;
        uint32_t core = s->core;
        trace_file_free(t);
        if (neg)
          return sm_fail(err, SM_EFORMAT,
                         "%s: byte offset %zu: record %llu: negative time",
                         path, off, (unsigned long long)i);
        return sm_fail(err, SM_EFORMAT,
                       "%s: byte offset %zu: record %llu: core %u, expected "
                       "0..%d (a mesh has at most %d nodes)",
                       path, off + 20, (unsigned long long)i, core,
                       TRACE_FILE_MAX_DST - 1, TRACE_FILE_MAX_DST);
      }
    }
  } else {
    t->packets = sm_xmallocarray(n ? (size_t)n : 1, sizeof *t->packets);
    t->dcap = (size_t)nd;
    t->dst = sm_xmallocarray(nd ? (size_t)nd : 1, sizeof *t->dst);
    for (uint64_t i = 0; i < n; i++) {
      if (len - off < PACKET_REC) {
        trace_file_free(t);
        return sm_fail(err, SM_EFORMAT,
                       "%s: byte offset %zu: record %llu truncated", path, off,
                       (unsigned long long)i);
      }
      const unsigned char *p = b + off;
      struct trace_packet *q = &t->packets[t->n];
      q->time_ps = (int64_t)ld(p, 8);
      q->deadline_ps = (int64_t)ld(p + 8, 8);
      q->payload = ld(p + 16, 8);
      q->frame = (uint32_t)ld(p + 24, 4);
      q->src = (uint32_t)ld(p + 28, 4);
      q->ndst = (uint32_t)ld(p + 32, 4);
      q->dst_off = t->ndst_total;
      if (q->time_ps < 0 || q->deadline_ps < 0 || q->ndst == 0 ||
          q->ndst > TRACE_FILE_MAX_DST) {
        const char *why = q->time_ps < 0       ? "negative time"
                          : q->deadline_ps < 0 ? "negative deadline"
                                               : "destination count not in "
                                                 "1..4096";
        trace_file_free(t);
        return sm_fail(err, SM_EFORMAT, "%s: byte offset %zu: record %llu: %s",
                       path, off, (unsigned long long)i, why);
      }
      off += PACKET_REC;
      if (q->ndst > (len - off) / 4 || q->ndst > nd - t->ndst_total) {
        uint32_t ndst = q->ndst;
        const char *why =
            ndst > (len - off) / 4 ? "end of the file" : "header's total";
        trace_file_free(t);
        return sm_fail(err, SM_EFORMAT,
                       "%s: byte offset %zu: record %llu: %u destinations "
                       "run past the %s",
                       path, off, (unsigned long long)i, ndst, why);
      }
      for (uint32_t j = 0; j < q->ndst; j++, off += 4)
        t->dst[t->ndst_total++] = (uint32_t)ld(b + off, 4);
      t->n++;
    }
  }
  if (off != len) {
    size_t extra = len - off;
    trace_file_free(t);
    return sm_fail(err, SM_EFORMAT,
                   "%s: byte offset %zu: %zu bytes after the last record", path,
                   off, extra);
  }
  return 0;
}

static int write_binary(FILE *fp, const struct trace_file *t) {
  unsigned char h[HDR];
  memcpy(h, magic, 8);
  size_t ml = strlen(t->meta);
  st(h + 8, TRACE_FILE_VERSION, 2);
  st(h + 10, (uint64_t)t->kind, 2);
  st(h + 12, ml, 4);
  st(h + 16, t->n, 8);
  st(h + 24, t->kind == TRACE_KIND_PACKET ? t->ndst_total : 0, 8);
  if (fwrite(h, 1, HDR, fp) != HDR || fwrite(t->meta, 1, ml, fp) != ml)
    return -1;
  unsigned char r[PACKET_REC];
  for (size_t i = 0; i < t->n; i++) {
    if (t->kind == TRACE_KIND_SPIKE) {
      const struct trace_spike *s = &t->spikes[i];
      st(r, (uint64_t)s->time_ps, 8);
      st(r + 8, s->frame, 4);
      st(r + 12, s->layer, 2);
      st(r + 14, s->step, 2);
      st(r + 16, s->neuron, 4);
      st(r + 20, s->core, 4);
      if (fwrite(r, 1, SPIKE_REC, fp) != SPIKE_REC)
        return -1;
    } else {
      const struct trace_packet *q = &t->packets[i];
      st(r, (uint64_t)q->time_ps, 8);
      st(r + 8, (uint64_t)q->deadline_ps, 8);
      st(r + 16, q->payload, 8);
      st(r + 24, q->frame, 4);
      st(r + 28, q->src, 4);
      st(r + 32, q->ndst, 4);
      if (fwrite(r, 1, PACKET_REC, fp) != PACKET_REC)
        return -1;
      for (uint32_t j = 0; j < q->ndst; j++) {
        unsigned char d[4];
        st(d, t->dst[q->dst_off + j], 4);
        if (fwrite(d, 1, 4, fp) != 4)
          return -1;
      }
    }
  }
  return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

static const char spike_cols[] = "frame,layer,neuron,core,time_ps,step";
static const char packet_cols[] = "frame,time_ps,src,dst,payload,deadline_ps";

/* Next comma-separated field of *p as an unsigned integer <= max. */
static int csv_u64(char **p, uint64_t max, uint64_t *out, int last) {
  char *s = *p, *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || v > max || (last ? (*end && *end != '\n' && *end != '\r')
                                : *end != ','))
    return -1;
  *out = v;
  *p = *end == ',' ? end + 1 : end;
  return 0;
}

static int csv_line(const char *path, size_t line, char *s,
                    struct trace_file *t, uint32_t *dbuf,
                    struct sm_err *err) {
  static const char *const sn[] = {"frame", "layer",   "neuron",
                                   "core",  "time_ps", "step"};
  static const char *const pn[] = {"frame",   "time_ps", "src",
                                   "dst",     "payload", "deadline_ps"};
  uint64_t v[6];
  char *p = s;
  if (t->kind == TRACE_KIND_SPIKE) {
    static const uint64_t max[] = {UINT32_MAX, 0xffff,
                                   UINT32_MAX, TRACE_FILE_MAX_DST - 1,
                                   INT64_MAX,  0xffff};
    for (int i = 0; i < 6; i++)
      if (csv_u64(&p, max[i], &v[i], i == 5))
        return sm_fail(err, SM_EFORMAT,
                       "%s:%zu: field '%s': expected an integer in 0..%llu",
                       path, line, sn[i], (unsigned long long)max[i]);
    struct trace_spike sp = {(int64_t)v[4], (uint32_t)v[0], (uint32_t)v[1],
                             (uint32_t)v[5], (uint32_t)v[2], (uint32_t)v[3]};
    trace_file_add_spike(t, &sp);
    return 0;
  }
  uint32_t nd = 0;
  for (int i = 0; i < 6; i++) {
    if (i == 3) { /* destinations: a;b;c */
      for (;;) {
        char *end;
        errno = 0;
        unsigned long d = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
        if (p == end || *p < '0' || *p > '9' || errno || d > UINT32_MAX ||
            nd == TRACE_FILE_MAX_DST || (*end != ';' && *end != ','))
          return sm_fail(err, SM_EFORMAT,
                         "%s:%zu: field 'dst': expected 1..%d node numbers "
                         "separated by ';'",
                         path, line, TRACE_FILE_MAX_DST);
        dbuf[nd++] = (uint32_t)d;
        p = end + 1;
        if (*end == ',')
          break;
      }
      continue;
    }
    uint64_t max = i == 1 || i == 5 ? INT64_MAX
                   : i == 4         ? UINT64_MAX
                                    : UINT32_MAX;
    if (csv_u64(&p, max, &v[i], i == 5))
      return sm_fail(err, SM_EFORMAT,
                     "%s:%zu: field '%s': expected an integer in 0..%llu", path,
                     line, pn[i], (unsigned long long)max);
  }
  struct trace_packet q = {.time_ps = (int64_t)v[1],
                           .deadline_ps = (int64_t)v[5],
                           .payload = v[4],
                           .frame = (uint32_t)v[0],
                           .src = (uint32_t)v[2],
                           .ndst = nd};
  trace_file_add_packet(t, &q, dbuf);
  return 0;
}

static int read_csv(const char *path, char *text, struct trace_file *t,
                    struct sm_err *err) {
  size_t line = 0;
  char *meta = NULL, why[200];
  size_t meta_line = 0;
  int kind = 0, e = 0;
  uint32_t *dbuf = sm_xmallocarray(TRACE_FILE_MAX_DST, sizeof *dbuf);
  for (char *s = text, *next; s && *s && !e; s = next) {
    line++;
    next = strchr(s, '\n');
    if (next)
      *next++ = 0;
    size_t l = strlen(s);
    if (l && s[l - 1] == '\r')
      s[--l] = 0;
    if (!l)
      continue;
    if (s[0] == '#') {
      if (!meta && !kind && !strncmp(s, "# meta: ", 8)) {
        meta = s + 8;
        meta_line = line;
      }
      continue;
    }
    if (!kind) {
      if (!strcmp(s, spike_cols))
        kind = TRACE_KIND_SPIKE;
      else if (!strcmp(s, packet_cols))
        kind = TRACE_KIND_PACKET;
      else
        e = sm_fail(err, SM_EFORMAT,
                    "%s:%zu: expected the column line '%s' (spike trace) or "
                    "'%s' (packet trace)",
                    path, line, spike_cols, packet_cols);
      if (!e && meta) {
        char *norm = meta_normalize(meta, strlen(meta), why, sizeof why);
        if (!norm)
          e = sm_fail(err, SM_EFORMAT,
                      "%s:%zu: the '# meta:' line is not a JSON object: %s",
                      path, meta_line, why);
        else
          trace_file_init(t, kind, norm);
        free(norm);
      } else if (!e) {
        trace_file_init(t, kind, NULL);
      }
      continue;
    }
    e = csv_line(path, line, s, t, dbuf, err);
  }
  free(dbuf);
  if (!e && !kind)
    e = sm_fail(err, SM_EFORMAT, "%s: no column line: not a trace", path);
  if (e && kind)
    trace_file_free(t);
  return e;
}

static int write_csv(FILE *fp, const struct trace_file *t) {
  fprintf(fp, "# spikemesh %s trace, format %d\n# meta: %s\n%s\n",
          t->kind == TRACE_KIND_SPIKE ? "spike" : "packet", TRACE_FILE_VERSION,
          t->meta, t->kind == TRACE_KIND_SPIKE ? spike_cols : packet_cols);
  for (size_t i = 0; i < t->n; i++) {
    if (t->kind == TRACE_KIND_SPIKE) {
      const struct trace_spike *s = &t->spikes[i];
      fprintf(fp, "%u,%u,%u,%u,%lld,%u\n", s->frame, s->layer, s->neuron,
              s->core, (long long)s->time_ps, s->step);
    } else {
      const struct trace_packet *q = &t->packets[i];
      fprintf(fp, "%u,%lld,%u,", q->frame, (long long)q->time_ps, q->src);
      for (uint32_t j = 0; j < q->ndst; j++)
        fprintf(fp, "%u%c", t->dst[q->dst_off + j],
                j + 1 < q->ndst ? ';' : ',');
      fprintf(fp, "%llu,%lld\n", (unsigned long long)q->payload,
              (long long)q->deadline_ps);
    }
  }
  return ferror(fp) ? -1 : 0;
}

/* ---- entry points ------------------------------------------------------- */

int trace_file_read(const char *path, struct trace_file *t,
                    struct sm_err *err) {
  memset(t, 0, sizeof *t);
  size_t len;
  char *b = sm_read_file_max(path, TRACE_FILE_MAX_BYTES, 0, &len, err);
  if (!b)
    return err && err->code ? err->code : SM_EIO;
  int e;
  if (len >= 8 && !memcmp(b, magic, 8))
    e = read_binary(path, (const unsigned char *)b, len, t, err);
  else if (len >= 7 && !memcmp(b, "SMTRACE", 7))
    e = sm_fail(err, SM_EFORMAT, "%s: byte offset 7: damaged magic", path);
  else if (memchr(b, 0, len))
    e = sm_fail(err, SM_EFORMAT,
                "%s: byte offset 0: neither a spikemesh trace (magic "
                "SMTRACE) nor CSV text",
                path);
  else
    e = read_csv(path, b, t, err);
  free(b);
  return e;
}

int trace_file_write(const char *path, const struct trace_file *t, int csv,
                     struct sm_err *err) {
  struct sm_write w;
  int e = sm_write_begin(&w, path, err);
  if (e)
    return e;
  errno = 0;
  if (csv ? write_csv(w.fp, t) : write_binary(w.fp, t)) {
    int why = errno ? errno : EIO;
    e = sm_fail(err, SM_EIO, "%s: write failed: %s%s", path, strerror(why),
                w.tmp ? "; the file is unchanged" : "");
    sm_write_abort(&w);
    return e;
  }
  return sm_write_commit(&w, err);
}
