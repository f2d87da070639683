/*
 * model.c -- the model file, version 1 (doc/model-format.md): a JSON object
 * (jansson) whose layers carry their weights as base64 text with a count
 * and a zlib crc32 of the decoded bytes.
 *
 * The loader is strict on purpose: a model is what the simulator maps onto
 * cores, so a silently wrong shape or weight would surface much later as a
 * wrong accuracy.  Unknown keys are errors that list the valid ones; shapes
 * are chained from "input" through every layer and a layer that does not
 * fit its input (conv on a flattened vector, a pool window that does not
 * divide the map) names the file, the layer index and the field.  Cost:
 * one parse of the text and one decode per weight block.
 *
 * Options rejected: a binary container (harder to inspect and diff; the
 * 4-bit payload is small even in base64); hex (twice base64's size);
 * storing float weights next to quantized ones (two truths that can
 * disagree: w is always rebuilt as q * scale).
 */
#include "models/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MODEL_MAX_DIM 65536
#define MODEL_MAX_WEIGHTS ((size_t)1 << 28)
#define MODEL_MAX_LAYERS 256

/* ---- base64 ---------------------------------------------------------------- */

static const char b64c[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *in, size_t n) {
  char *out = sm_xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *o++ = b64c[v >> 18];
    *o++ = b64c[(v >> 12) & 63];
    *o++ = b64c[(v >> 6) & 63];
    *o++ = b64c[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    *o++ = b64c[v >> 18];
    *o++ = b64c[(v >> 12) & 63];
    *o++ = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  *o = 0;
  return out;
}

static int b64_val(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Decode strict base64 (padding required, no whitespace).  Returns the
 * buffer and its length, or NULL with *bad = offending character index. */
static uint8_t *b64_decode(const char *s, size_t len, size_t *outlen,
                           size_t *bad) {
  if (len % 4) {
    *bad = len;
    return NULL;
  }
  uint8_t *out = sm_xmalloc(len / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++) {
      char c = s[i + k];
      if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
        v[k] = -2;
        continue;
      }
      v[k] = b64_val(c);
      if (v[k] < 0) {
        *bad = i + (size_t)k;
        free(out);
        return NULL;
      }
    }
    uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                 (uint32_t)(v[2] < 0 ? 0 : v[2]) << 6 |
                 (uint32_t)(v[3] < 0 ? 0 : v[3]);
    out[o++] = (uint8_t)(x >> 16);
    if (v[2] >= 0)
      out[o++] = (uint8_t)(x >> 8);
    if (v[3] >= 0)
      out[o++] = (uint8_t)x;
  }
  *outlen = o;
  return out;
}

/* ---- helpers ---------------------------------------------------------------- */

size_t model_layer_neurons(const struct model_layer *l) {
  return (size_t)l->out_c * l->out_h * l->out_w;
}

size_t model_spiking_layers(const struct model *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->nlayers; i++)
    if (m->layers[i].type == MODEL_DENSE || m->layers[i].type == MODEL_CONV)
      n++;
  return n;
}

void model_free(struct model *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->nlayers; i++) {
    free(m->layers[i].w);
    free(m->layers[i].q);
  }
  free(m->layers);
  json_decref(m->metadata);
  free(m);
}

const char *model_layer_type_name(enum model_layer_type t) {
  switch (t) {
  case MODEL_DENSE:
    return "dense";
  case MODEL_CONV:
    return "conv";
  case MODEL_POOL:
    return "pool";
  case MODEL_FLATTEN:
    return "flatten";
  }
  return "?";
}

/* Fail if obj has a key outside the NULL-terminated list `valid`. */
static int check_keys(json_t *obj, const char *const *valid, const char *src,
                      const char *where, struct sm_err *err) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    int ok = 0;
    for (const char *const *k = valid; *k; k++)
      if (!strcmp(*k, key))
        ok = 1;
    if (!ok) {
      char list[512] = "";
      for (const char *const *k = valid; *k; k++) {
        strncat(list, *k, sizeof list - strlen(list) - 3);
        if (k[1])
          strncat(list, ", ", sizeof list - strlen(list) - 1);
      }
      return sm_fail(err, SM_ENOKEY, "%s: %sunknown key '%s' (valid keys: %s)",
                     src, where, key, list);
    }
  }
  return 0;
}

/* Integer field in [lo, hi]; required unless def_ok (then *out = def). */
static int get_int(json_t *obj, const char *key, long lo, long hi, int req,
                   long def, long *out, const char *src, const char *where,
                   struct sm_err *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) {
    if (req)
      return sm_fail(err, SM_EFORMAT, "%s: %smissing key '%s'", src, where,
                     key);
    *out = def;
    return 0;
  }
  if (!json_is_integer(v))
    return sm_fail(err, SM_ETYPE, "%s: %s'%s': expected an integer", src,
                   where, key);
  json_int_t x = json_integer_value(v);
  if (x < lo || x > hi)
    return sm_fail(err, SM_ERANGE, "%s: %s'%s' = %lld: expected %ld..%ld", src,
                   where, key, (long long)x, lo, hi);
  *out = (long)x;
  return 0;
}

static int get_num(json_t *obj, const char *key, double lo, double hi, int req,
                   double def, double *out, const char *src, const char *where,
                   struct sm_err *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) {
    if (req)
      return sm_fail(err, SM_EFORMAT, "%s: %smissing key '%s'", src, where,
                     key);
    *out = def;
    return 0;
  }
  if (!json_is_number(v))
    return sm_fail(err, SM_ETYPE, "%s: %s'%s': expected a number", src, where,
                   key);
  double x = json_number_value(v);
  if (!(x >= lo && x <= hi))
    return sm_fail(err, SM_ERANGE, "%s: %s'%s' = %g: expected %g..%g", src,
                   where, key, x, lo, hi);
  *out = x;
  return 0;
}

static int get_str(json_t *obj, const char *key, int req, const char *def,
                   const char **out, const char *src, const char *where,
                   struct sm_err *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) {
    if (req)
      return sm_fail(err, SM_EFORMAT, "%s: %smissing key '%s'", src, where,
                     key);
    *out = def;
    return 0;
  }
  if (!json_is_string(v))
    return sm_fail(err, SM_ETYPE, "%s: %s'%s': expected a string", src, where,
                   key);
  *out = json_string_value(v);
  return 0;
}

/* ---- weights ---------------------------------------------------------------- */

static const char *enc_for_bits(int bits) {
  return bits == 0 ? "float32" : bits <= 4 ? "int4" : "int8";
}

static int parse_weights(json_t *wj, struct model_layer *L, const char *src,
                         const char *where, struct sm_err *err) {
  static const char *const keys[] = {"encoding", "count", "crc32", "data",
                                     NULL};
  char wh[128];
  snprintf(wh, sizeof wh, "%sweights: ", where);
  if (!json_is_object(wj))
    return sm_fail(err, SM_ETYPE, "%s: %s'weights': expected an object", src,
                   where);
  int rc = check_keys(wj, keys, src, wh, err);
  if (rc)
    return rc;
  const char *enc, *data;
  long count, crc;
  if ((rc = get_str(wj, "encoding", 1, NULL, &enc, src, wh, err)) ||
      (rc = get_int(wj, "count", 0, (long)MODEL_MAX_WEIGHTS, 1, 0, &count, src,
                    wh, err)) ||
      (rc = get_int(wj, "crc32", 0, 0xffffffffL, 1, 0, &crc, src, wh, err)) ||
      (rc = get_str(wj, "data", 1, NULL, &data, src, wh, err)))
    return rc;
  const char *want = enc_for_bits(L->bits);
  if (strcmp(enc, "int4") && strcmp(enc, "int8") && strcmp(enc, "float32"))
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'encoding' = '%s': expected int4, int8 or float32",
                   src, wh, enc);
  if (strcmp(enc, want))
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'encoding' = '%s' does not match bits = %d (expected "
                   "'%s')",
                   src, wh, enc, L->bits, want);
  if ((size_t)count != L->nweights)
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'count' = %ld but the layer's shape needs %zu "
                   "weights",
                   src, wh, count, L->nweights);
  size_t len = json_string_length(json_object_get(wj, "data"));
  size_t nbytes = 0, bad = 0;
  uint8_t *raw = b64_decode(data, len, &nbytes, &bad);
  if (!raw)
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'data': bad base64 at character %zu%s", src, wh, bad,
                   bad == len ? " (length is not a multiple of 4)" : "");
  size_t need = !strcmp(enc, "int4")   ? (L->nweights + 1) / 2
                : !strcmp(enc, "int8") ? L->nweights
                                       : L->nweights * 4;
  if (nbytes != need) {
    free(raw);
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'data': %zu bytes decoded, %zu expected for %zu %s "
                   "weights (truncated or padded)",
                   src, wh, nbytes, need, L->nweights, enc);
  }
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, raw, (uInt)nbytes);
  if ((long)c != crc) {
    free(raw);
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'crc32' = %ld but the data's crc32 is %lu (corrupt "
                   "weights)",
                   src, wh, crc, (unsigned long)c);
  }
  L->w = sm_xmallocarray(L->nweights ? L->nweights : 1, sizeof(float));
  if (L->bits) {
    int qmin = -(1 << (L->bits - 1)), qmax = (1 << (L->bits - 1)) - 1;
    L->q = sm_xmallocarray(L->nweights ? L->nweights : 1, 1);
    for (size_t i = 0; i < L->nweights; i++) {
      int q;
      if (L->bits <= 4) {
        int nib = (raw[i / 2] >> (4 * (i & 1))) & 15;
        q = nib >= 8 ? nib - 16 : nib;
      } else {
        q = (int8_t)raw[i];
      }
      if (q < qmin || q > qmax) {
        free(raw);
        return sm_fail(err, SM_ERANGE,
                       "%s: %s'data': weight %zu = %d is outside the %d-bit "
                       "range %d..%d",
                       src, wh, i, q, L->bits, qmin, qmax);
      }
      L->q[i] = (int8_t)q;
      L->w[i] = (float)q * L->scale;
    }
    if (L->bits <= 4 && (L->nweights & 1) && (raw[nbytes - 1] >> 4)) {
      free(raw);
      return sm_fail(err, SM_EFORMAT,
                     "%s: %s'data': the unused high nibble of the last byte "
                     "must be 0",
                     src, wh);
    }
  } else {
    for (size_t i = 0; i < L->nweights; i++) {
      const uint8_t *b = raw + 4 * i;
      uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                   (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
      float f;
      memcpy(&f, &u, 4);
      if (!isfinite(f)) {
        free(raw);
        return sm_fail(err, SM_EFORMAT,
                       "%s: %s'data': weight %zu is not a finite number", src,
                       wh, i);
      }
      L->w[i] = f;
    }
  }
  free(raw);
  return 0;
}

/* ---- parse ------------------------------------------------------------------ */

static int parse_layer(json_t *lj, size_t idx, struct model_layer *L, int *c,
                       int *h, int *w, int *flat, const char *src,
                       struct sm_err *err) {
  char where[64];
  snprintf(where, sizeof where, "layer %zu: ", idx);
  if (!json_is_object(lj))
    return sm_fail(err, SM_ETYPE, "%s: %sexpected an object", src, where);
  const char *type;
  int rc = get_str(lj, "type", 1, NULL, &type, src, where, err);
  if (rc)
    return rc;
  L->in_c = *c;
  L->in_h = *h;
  L->in_w = *w;
  long v;
  if (!strcmp(type, "dense") || !strcmp(type, "conv")) {
    int conv = type[0] == 'c';
    static const char *const dk[] = {"type", "out", "bits", "scale", "weights",
                                     NULL};
    static const char *const ck[] = {"type",  "out_channels", "kernel",
                                     "padding", "bits",       "scale",
                                     "weights", NULL};
    if ((rc = check_keys(lj, conv ? ck : dk, src, where, err)))
      return rc;
    long out, bits;
    if ((rc = get_int(lj, conv ? "out_channels" : "out", 1, MODEL_MAX_DIM, 1,
                      0, &out, src, where, err)) ||
        (rc = get_int(lj, "bits", 0, 8, 1, 0, &bits, src, where, err)))
      return rc;
    if (bits == 1)
      return sm_fail(err, SM_ERANGE,
                     "%s: %s'bits' = 1: expected 0 (float) or 2..8", src,
                     where);
    L->bits = (int)bits;
    double scale = 1;
    if ((rc = get_num(lj, "scale", 1e-30, 1e30, bits > 0, 1.0, &scale, src,
                      where, err)))
      return rc;
    L->scale = bits ? (float)scale : 1.0f;
    if (conv) {
      long k;
      const char *pad = "valid";
      if ((rc = get_int(lj, "kernel", 1, 64, 1, 0, &k, src, where, err)) ||
          (rc = get_str(lj, "padding", 0, "valid", &pad, src, where, err)))
        return rc;
      if (*flat)
        return sm_fail(err, SM_EFORMAT,
                       "%s: %sconv on a flattened input (%d values): a conv "
                       "layer needs a 2-D map",
                       src, where, *c * *h * *w);
      int same = !strcmp(pad, "same");
      if (!same && strcmp(pad, "valid"))
        return sm_fail(err, SM_EFORMAT,
                       "%s: %s'padding' = '%s': expected 'valid' or 'same'",
                       src, where, pad);
      if (same && k % 2 == 0)
        return sm_fail(err, SM_EFORMAT,
                       "%s: %s'kernel' = %ld: same padding needs an odd kernel",
                       src, where, k);
      if (!same && (k > *h || k > *w))
        return sm_fail(err, SM_EFORMAT,
                       "%s: %s'kernel' = %ld is larger than the %dx%d input map",
                       src, where, k, *h, *w);
      L->type = MODEL_CONV;
      L->kernel = (int)k;
      L->stride = 1;
      L->pad = same ? (int)k / 2 : 0;
      L->out_c = (int)out;
      L->out_h = same ? *h : *h - (int)k + 1;
      L->out_w = same ? *w : *w - (int)k + 1;
      L->nweights = (size_t)out * (size_t)*c * (size_t)(k * k);
    } else {
      L->type = MODEL_DENSE;
      L->out_c = (int)out;
      L->out_h = L->out_w = 1;
      L->nweights = (size_t)out * (size_t)*c * (size_t)*h * (size_t)*w;
      *flat = 1;
    }
    /* pool and flatten layers never grow a layer, so this bounds them too */
    uint64_t neurons = (uint64_t)L->out_c * (uint64_t)L->out_h *
                       (uint64_t)L->out_w;
    if (neurons > MODEL_MAX_NEURONS)
      return sm_fail(err, SM_ELIMIT,
                     "%s: %s%dx%dx%d = %llu neurons exceed the limit %llu "
                     "per layer",
                     src, where, L->out_c, L->out_h, L->out_w,
                     (unsigned long long)neurons,
                     (unsigned long long)MODEL_MAX_NEURONS);
    if (L->nweights > MODEL_MAX_WEIGHTS)
      return sm_fail(err, SM_ELIMIT, "%s: %s%zu weights exceed the limit %zu",
                     src, where, L->nweights, MODEL_MAX_WEIGHTS);
    json_t *wj = json_object_get(lj, "weights");
    if (!wj)
      return sm_fail(err, SM_EFORMAT, "%s: %smissing key 'weights'", src,
                     where);
    if ((rc = parse_weights(wj, L, src, where, err)))
      return rc;
  } else if (!strcmp(type, "pool")) {
    static const char *const pk[] = {"type", "size", NULL};
    if ((rc = check_keys(lj, pk, src, where, err)) ||
        (rc = get_int(lj, "size", 1, 64, 1, 0, &v, src, where, err)))
      return rc;
    if (*flat)
      return sm_fail(err, SM_EFORMAT,
                     "%s: %spool on a flattened input: pooling needs a 2-D map",
                     src, where);
    if (*h % v || *w % v)
      return sm_fail(err, SM_EFORMAT,
                     "%s: %s'size' = %ld does not divide the %dx%d input map",
                     src, where, v, *h, *w);
    L->type = MODEL_POOL;
    L->kernel = L->stride = (int)v;
    L->out_c = *c;
    L->out_h = *h / (int)v;
    L->out_w = *w / (int)v;
  } else if (!strcmp(type, "flatten")) {
    static const char *const fk[] = {"type", NULL};
    if ((rc = check_keys(lj, fk, src, where, err)))
      return rc;
    L->type = MODEL_FLATTEN;
    L->out_c = *c * *h * *w;
    L->out_h = L->out_w = 1;
    *flat = 1;
  } else {
    return sm_fail(err, SM_EFORMAT,
                   "%s: %s'type' = '%s': expected dense, conv, pool or flatten",
                   src, where, type);
  }
  *c = L->out_c;
  *h = L->out_h;
  *w = L->out_w;
  return 0;
}

static void copy_str(char *dst, size_t n, const char *s) {
  snprintf(dst, n, "%s", s ? s : "");
}

int model_parse(const char *text, size_t len, const char *src,
                struct model **out, struct sm_err *err) {
  *out = NULL;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s: line %d column %d: %s", src, je.line,
                   je.column, je.text);
  struct model *m = sm_xcalloc(1, sizeof *m);
  int rc = 0;
  static const char *const top[] = {"format", "version",  "name",   "arch",
                                    "input",  "tw",       "readout",
                                    "metadata", "layers", NULL};
  if (!json_is_object(root)) {
    rc = sm_fail(err, SM_ETYPE, "%s: expected a JSON object at the top", src);
    goto fail;
  }
  const char *fmt = NULL, *s = NULL;
  if ((rc = get_str(root, "format", 1, NULL, &fmt, src, "", err)))
    goto fail;
  if (strcmp(fmt, MODEL_FORMAT_NAME)) {
    rc = sm_fail(err, SM_EFORMAT, "%s: 'format' = '%s': expected '%s'", src,
                 fmt, MODEL_FORMAT_NAME);
    goto fail;
  }
  json_t *ver = json_object_get(root, "version");
  if (!json_is_integer(ver)) {
    rc = sm_fail(err, SM_EVERSION, "%s: 'version': expected the integer %d",
                 src, MODEL_FORMAT_VERSION);
    goto fail;
  }
  if (json_integer_value(ver) != MODEL_FORMAT_VERSION) {
    rc = sm_fail(err, SM_EVERSION,
                 "%s: 'version' = %lld: this build reads version %d only", src,
                 (long long)json_integer_value(ver), MODEL_FORMAT_VERSION);
    goto fail;
  }
  if ((rc = check_keys(root, top, src, "", err)))
    goto fail;
  if ((rc = get_str(root, "name", 0, "", &s, src, "", err)))
    goto fail;
  copy_str(m->name, sizeof m->name, s);
  if ((rc = get_str(root, "arch", 0, "", &s, src, "", err)))
    goto fail;
  copy_str(m->arch, sizeof m->arch, s);
  if ((rc = get_str(root, "readout", 0, "time", &s, src, "", err)))
    goto fail;
  if (strcmp(s, "time") && strcmp(s, "potential")) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: 'readout' = '%s': expected 'time' or 'potential'", src,
                 s);
    goto fail;
  }
  copy_str(m->readout, sizeof m->readout, s);
  if ((rc = get_num(root, "tw", 1e-9, 1e9, 0, 1.0, &m->tw, src, "", err)))
    goto fail;
  json_t *in = json_object_get(root, "input");
  static const char *const ik[] = {"channels", "height", "width", "a_max",
                                   NULL};
  if (!in) {
    rc = sm_fail(err, SM_EFORMAT, "%s: missing key 'input'", src);
    goto fail;
  }
  if (!json_is_object(in)) {
    rc = sm_fail(err, SM_ETYPE, "%s: 'input': expected an object", src);
    goto fail;
  }
  long c, h, w;
  if ((rc = check_keys(in, ik, src, "input: ", err)) ||
      (rc = get_int(in, "channels", 1, MODEL_MAX_DIM, 1, 0, &c, src, "input: ",
                    err)) ||
      (rc = get_int(in, "height", 1, MODEL_MAX_DIM, 1, 0, &h, src, "input: ",
                    err)) ||
      (rc = get_int(in, "width", 1, MODEL_MAX_DIM, 1, 0, &w, src, "input: ",
                    err)) ||
      (rc = get_num(in, "a_max", 1e-30, 1e30, 0, 255.0, &m->a_max, src,
                    "input: ", err)))
    goto fail;
  if ((uint64_t)c * (uint64_t)h * (uint64_t)w > MODEL_MAX_NEURONS) {
    rc = sm_fail(err, SM_ELIMIT,
                 "%s: input: %ldx%ldx%ld is too large (at most %llu values)",
                 src, c, h, w, (unsigned long long)MODEL_MAX_NEURONS);
    goto fail;
  }
  m->in_c = (int)c;
  m->in_h = (int)h;
  m->in_w = (int)w;
  json_t *md = json_object_get(root, "metadata");
  if (md && !json_is_object(md)) {
    rc = sm_fail(err, SM_ETYPE, "%s: 'metadata': expected an object", src);
    goto fail;
  }
  m->metadata = md ? json_incref(md) : json_object();
  json_t *layers = json_object_get(root, "layers");
  if (!layers) {
    rc = sm_fail(err, SM_EFORMAT, "%s: missing key 'layers'", src);
    goto fail;
  }
  if (!json_is_array(layers) || json_array_size(layers) == 0) {
    rc = sm_fail(err, SM_EFORMAT, "%s: 'layers': expected a non-empty array",
                 src);
    goto fail;
  }
  if (json_array_size(layers) > MODEL_MAX_LAYERS) {
    rc = sm_fail(err, SM_ELIMIT, "%s: 'layers': more than %d layers", src,
                 MODEL_MAX_LAYERS);
    goto fail;
  }
  m->nlayers = json_array_size(layers);
  m->layers = sm_xcalloc(m->nlayers, sizeof *m->layers);
  int cc = m->in_c, hh = m->in_h, ww = m->in_w, flat = 0;
  for (size_t i = 0; i < m->nlayers; i++)
    if ((rc = parse_layer(json_array_get(layers, i), i, &m->layers[i], &cc,
                          &hh, &ww, &flat, src, err)))
      goto fail;
  const struct model_layer *last = &m->layers[m->nlayers - 1];
  if (last->type != MODEL_DENSE && last->type != MODEL_CONV) {
    rc = sm_fail(err, SM_EFORMAT,
                 "%s: layer %zu: 'type' = '%s': the last layer must be dense "
                 "or conv (the output neurons)",
                 src, m->nlayers - 1, model_layer_type_name(last->type));
    goto fail;
  }
  json_decref(root);
  *out = m;
  return 0;
fail:
  json_decref(root);
  model_free(m);
  return rc;
}

int model_load(const char *path, struct model **out, struct sm_err *err) {
  size_t len;
  *out = NULL;
  char *text = sm_read_file_max(path, MODEL_MAX_FILE_BYTES, 1, &len, err);
  if (!text)
    return err ? err->code : SM_EIO;
  int rc = model_parse(text, len, path, out, err);
  free(text);
  return rc;
}

/* ---- save ------------------------------------------------------------------- */

static json_t *weights_json(const struct model_layer *L, const char *path,
                            size_t idx, struct sm_err *err) {
  size_t nbytes;
  uint8_t *raw;
  if (L->bits) {
    int qmin = -(1 << (L->bits - 1)), qmax = (1 << (L->bits - 1)) - 1;
    if (!L->q) {
      sm_fail(err, SM_EINVAL, "%s: layer %zu: bits = %d but no integers", path,
              idx, L->bits);
      return NULL;
    }
    nbytes = L->bits <= 4 ? (L->nweights + 1) / 2 : L->nweights;
    raw = sm_xcalloc(nbytes ? nbytes : 1, 1);
    for (size_t i = 0; i < L->nweights; i++) {
      int q = L->q[i];
      if (q < qmin || q > qmax) {
        free(raw);
        sm_fail(err, SM_ERANGE,
                "%s: layer %zu: weight %zu = %d outside the %d-bit range",
                path, idx, i, q, L->bits);
        return NULL;
      }
      if (L->bits <= 4)
        raw[i / 2] |= (uint8_t)((q & 15) << (4 * (i & 1)));
      else
        raw[i] = (uint8_t)(int8_t)q;
    }
  } else {
    nbytes = L->nweights * 4;
    raw = sm_xmalloc(nbytes ? nbytes : 1);
    for (size_t i = 0; i < L->nweights; i++) {
      uint32_t u;
      memcpy(&u, &L->w[i], 4);
      raw[4 * i] = (uint8_t)u;
      raw[4 * i + 1] = (uint8_t)(u >> 8);
      raw[4 * i + 2] = (uint8_t)(u >> 16);
      raw[4 * i + 3] = (uint8_t)(u >> 24);
    }
  }
  uLong c = crc32(crc32(0L, Z_NULL, 0), raw, (uInt)nbytes);
  char *b64 = b64_encode(raw, nbytes);
  free(raw);
  json_t *wj = json_pack("{s:s, s:I, s:I, s:s}", "encoding",
                         enc_for_bits(L->bits), "count",
                         (json_int_t)L->nweights, "crc32", (json_int_t)c,
                         "data", b64);
  free(b64);
  return wj;
}

json_t *model_to_json(const struct model *m, const char *path,
                      struct sm_err *err) {
  json_t *root = json_object();
  json_object_set_new(root, "format", json_string(MODEL_FORMAT_NAME));
  json_object_set_new(root, "version", json_integer(MODEL_FORMAT_VERSION));
  json_object_set_new(root, "name", json_string(m->name));
  json_object_set_new(root, "arch", json_string(m->arch));
  json_object_set_new(root, "input",
                      json_pack("{s:i, s:i, s:i, s:f}", "channels", m->in_c,
                                "height", m->in_h, "width", m->in_w, "a_max",
                                m->a_max));
  json_object_set_new(root, "tw", json_real(m->tw));
  json_object_set_new(root, "readout",
                      json_string(m->readout[0] ? m->readout : "time"));
  json_object_set(root, "metadata",
                  m->metadata ? m->metadata : json_object());
  if (!m->metadata)
    json_decref(json_object_get(root, "metadata")); /* drop the extra ref */
  json_t *layers = json_array();
  for (size_t i = 0; i < m->nlayers; i++) {
    const struct model_layer *L = &m->layers[i];
    json_t *lj = json_object();
    json_object_set_new(lj, "type",
                        json_string(model_layer_type_name(L->type)));
    if (L->type == MODEL_CONV) {
      json_object_set_new(lj, "out_channels", json_integer(L->out_c));
      json_object_set_new(lj, "kernel", json_integer(L->kernel));
      json_object_set_new(lj, "padding",
                          json_string(L->pad ? "same" : "valid"));
    } else if (L->type == MODEL_DENSE) {
      json_object_set_new(lj, "out", json_integer(L->out_c));
    } else if (L->type == MODEL_POOL) {
      json_object_set_new(lj, "size", json_integer(L->kernel));
    }
    if (L->type == MODEL_CONV || L->type == MODEL_DENSE) {
      json_object_set_new(lj, "bits", json_integer(L->bits));
      if (L->bits)
        json_object_set_new(lj, "scale", json_real(L->scale));
      json_t *wj = weights_json(L, path, i, err);
      if (!wj) {
        json_decref(lj);
        json_decref(layers);
        json_decref(root);
        return NULL;
      }
      json_object_set_new(lj, "weights", wj);
    }
    json_array_append_new(layers, lj);
  }
  json_object_set_new(root, "layers", layers);
  return root;
}

int model_save(const struct model *m, const char *path, struct sm_err *err) {
  json_t *root = model_to_json(m, path, err);
  if (!root)
    return err ? err->code : SM_EINVAL;
  /* written whole, then put in place (sm_write_begin: a crash never leaves
   * half a model, and checkpoints are overwritten every epoch) */
  struct sm_write w;
  int rc = sm_write_begin(&w, path, err);
  if (!rc && json_dumpf(root, w.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(9))) {
    rc = sm_fail(err, SM_EIO, "%s: cannot write%s", path,
                 w.tmp ? "; the file is unchanged" : "");
    sm_write_abort(&w);
  } else if (!rc) {
    rc = sm_write_commit(&w, err);
  }
  json_decref(root);
  return rc;
}
