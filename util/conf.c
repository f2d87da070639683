/*
 * conf.c -- the configuration engine behind util/conf.h.
 *
 * Every path that sets a value goes through set_text() (text from the
 * command line or a default) or set_json() (a JSON value), and both end in
 * check_and_store(), so the range and choice checks are written once.
 * Lookups are linear over the tables: configurations have tens of keys and
 * are read once per run, never on a hot path.
 */
#include "util/conf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sm_conf_init(struct sm_conf *c) { memset(c, 0, sizeof *c); }

void sm_conf_add(struct sm_conf *c, const struct sm_opt *opts, size_t n,
                 void *base) {
  if (c->nsec >= SM_CONF_MAX_SECTIONS) {
    fprintf(stderr, "spikemesh: too many configuration sections\n");
    abort();
  }
  c->sec[c->nsec].opts = opts;
  c->sec[c->nsec].nopts = n;
  c->sec[c->nsec].base = base;
  c->nsec++;
}

const struct sm_opt *sm_conf_find(const struct sm_conf *c, const char *key,
                                  void **base) {
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++)
      if (!strcmp(c->sec[s].opts[i].name, key)) {
        if (base)
          *base = c->sec[s].base;
        return &c->sec[s].opts[i];
      }
  return NULL;
}

const char *sm_opt_choice(const struct sm_opt *o, int i) {
  static _Thread_local char buf[128];
  if (!o->choices || i < 0)
    return NULL;
  const char *p = o->choices;
  for (int k = 0; k < i; k++) {
    p = strchr(p, '|');
    if (!p)
      return NULL;
    p++;
  }
  size_t n = strcspn(p, "|");
  if (n >= sizeof buf)
    n = sizeof buf - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static int choice_index(const struct sm_opt *o, const char *s) {
  const char *p = o->choices;
  size_t len = strlen(s);
  for (int i = 0; p; i++) {
    size_t n = strcspn(p, "|");
    if (n == len && !strncmp(p, s, n))
      return i;
    p = strchr(p, '|');
    if (p)
      p++;
  }
  return -1;
}

static const char *type_name(enum sm_opt_type t) {
  switch (t) {
  case SM_OPT_INT:
    return "integer";
  case SM_OPT_UINT:
    return "non-negative integer";
  case SM_OPT_DOUBLE:
    return "number";
  case SM_OPT_BOOL:
    return "boolean";
  case SM_OPT_ENUM:
    return "choice";
  case SM_OPT_STRING:
    return "string";
  }
  return "?";
}

static void choices_text(const struct sm_opt *o, char *buf, size_t len) {
  snprintf(buf, len, "%s", o->choices ? o->choices : "");
  for (char *p = buf; *p; p++)
    if (*p == '|')
      *p = ',';
}

/* A range bound as text: integers in full (a bound at or past the type's
 * largest value, which a double cannot hold exactly, as that value). */
static void bound_text(const struct sm_opt *o, double v, char *buf,
                       size_t len) {
  if (o->type == SM_OPT_UINT && v >= 18446744073709551615.0)
    snprintf(buf, len, "18446744073709551615");
  else if (o->type == SM_OPT_INT && v >= 9223372036854775807.0)
    snprintf(buf, len, "9223372036854775807");
  else if (o->type == SM_OPT_INT || o->type == SM_OPT_UINT)
    snprintf(buf, len, "%.0f", v);
  else
    snprintf(buf, len, "%.17g", v);
}

static int range_fail(const struct sm_opt *o, const char *source,
                      const char *text, struct sm_err *err) {
  char lo[32], hi[32];
  bound_text(o, o->min, lo, sizeof lo);
  bound_text(o, o->max, hi, sizeof hi);
  return sm_fail(err, SM_ERANGE,
                 "%s: key '%s': value %s is out of range, expected %s in "
                 "[%s, %s]%s%s",
                 source, o->name, text, type_name(o->type), lo, hi,
                 o->unit[0] ? " " : "", o->unit);
}

/* Store a numeric value after the range check; text is for messages. */
static int store_number(const struct sm_opt *o, void *base, double v,
                        int64_t iv, uint64_t uv, const char *text,
                        const char *source, struct sm_err *err) {
  char *field = (char *)base + o->offset;
  switch (o->type) {
  case SM_OPT_INT:
    if ((double)iv < o->min || (double)iv > o->max)
      return range_fail(o, source, text, err);
    memcpy(field, &iv, sizeof iv);
    return 0;
  case SM_OPT_UINT:
    if ((double)uv < o->min || (double)uv > o->max)
      return range_fail(o, source, text, err);
    memcpy(field, &uv, sizeof uv);
    return 0;
  case SM_OPT_DOUBLE:
    if (!(v >= o->min && v <= o->max))
      return range_fail(o, source, text, err);
    memcpy(field, &v, sizeof v);
    return 0;
  default:
    return SM_EINVAL;
  }
}

static int set_text(const struct sm_opt *o, void *base, const char *text,
                    const char *source, struct sm_err *err) {
  char *field = (char *)base + o->offset;
  int rc;
  switch (o->type) {
  case SM_OPT_INT: {
    int64_t v;
    rc = sm_parse_i64(text, &v);
    if (rc == SM_ERANGE)
      return range_fail(o, source, text, err);
    if (rc)
      break;
    return store_number(o, base, 0, v, 0, text, source, err);
  }
  case SM_OPT_UINT: {
    uint64_t v;
    rc = sm_parse_u64(text, &v);
    if (rc == SM_ERANGE)
      return range_fail(o, source, text, err);
    if (rc)
      break;
    return store_number(o, base, 0, 0, v, text, source, err);
  }
  case SM_OPT_DOUBLE: {
    double v;
    rc = sm_parse_double(text, &v);
    if (rc == SM_ERANGE)
      return range_fail(o, source, text, err);
    if (rc)
      break;
    return store_number(o, base, v, 0, 0, text, source, err);
  }
  case SM_OPT_BOOL: {
    int v;
    if (sm_parse_bool(text, &v))
      break;
    memcpy(field, &v, sizeof v);
    return 0;
  }
  case SM_OPT_ENUM: {
    int i = choice_index(o, text);
    if (i < 0) {
      char ch[256];
      choices_text(o, ch, sizeof ch);
      return sm_fail(err, SM_EINVAL,
                     "%s: key '%s': unknown value '%s', expected one of: %s",
                     source, o->name, text, ch);
    }
    memcpy(field, &i, sizeof i);
    return 0;
  }
  case SM_OPT_STRING:
    if (strlen(text) >= SM_CONF_STRLEN)
      return sm_fail(err, SM_ERANGE,
                     "%s: key '%s': string longer than %d characters", source,
                     o->name, SM_CONF_STRLEN - 1);
    memcpy(field, text, strlen(text) + 1);
    return 0;
  }
  return sm_fail(err, SM_ETYPE, "%s: key '%s': '%s' is not a valid %s%s%s",
                 source, o->name, text, type_name(o->type),
                 o->type == SM_OPT_BOOL ? " (true/false)" : "",
                 o->type == SM_OPT_UINT || o->type == SM_OPT_INT ? "" : "");
}

static int set_json(const struct sm_opt *o, void *base, const json_t *v,
                    const char *source, struct sm_err *err) {
  char text[64];
  switch (o->type) {
  case SM_OPT_INT:
  case SM_OPT_UINT:
    if (json_is_integer(v)) {
      json_int_t i = json_integer_value(v);
      snprintf(text, sizeof text, "%lld", (long long)i);
      if (o->type == SM_OPT_UINT && i < 0)
        return range_fail(o, source, text, err);
      return store_number(o, base, 0, (int64_t)i, (uint64_t)i, text, source,
                          err);
    }
    if (json_is_real(v)) {
      double d = json_real_value(v);
      if (d == floor(d) && fabs(d) < 9e15) {
        snprintf(text, sizeof text, "%.0f", d);
        if (o->type == SM_OPT_UINT && d < 0)
          return range_fail(o, source, text, err);
        return store_number(o, base, 0, (int64_t)d, (uint64_t)(d < 0 ? 0 : d),
                            text, source, err);
      }
    }
    break;
  case SM_OPT_DOUBLE:
    if (json_is_number(v)) {
      double d = json_number_value(v);
      snprintf(text, sizeof text, "%.17g", d);
      return store_number(o, base, d, 0, 0, text, source, err);
    }
    break;
  case SM_OPT_BOOL:
    if (json_is_boolean(v)) {
      int b = json_is_true(v);
      memcpy((char *)base + o->offset, &b, sizeof b);
      return 0;
    }
    break;
  case SM_OPT_ENUM:
  case SM_OPT_STRING:
    if (json_is_string(v))
      return set_text(o, base, json_string_value(v), source, err);
    break;
  }
  return sm_fail(err, SM_ETYPE, "%s: key '%s': wrong JSON type, expected %s",
                 source, o->name, type_name(o->type));
}

/* "a, b, c" of every key, for unknown-key messages. */
static void valid_keys(const struct sm_conf *c, const char *prefix, char *buf,
                       size_t len) {
  size_t n = 0, plen = prefix ? strlen(prefix) : 0;
  buf[0] = '\0';
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++) {
      const char *name = c->sec[s].opts[i].name;
      if (plen && strncmp(name, prefix, plen))
        continue;
      int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
      if (w < 0 || (size_t)w >= len - n) {
        if (len > 4)
          strcpy(buf + len - 4, "...");
        return;
      }
      n += (size_t)w;
    }
}

static int unknown_key(const struct sm_conf *c, const char *key,
                       const char *source, struct sm_err *err) {
  char keys[700];
  /* Suggest keys of the same section when the section exists. */
  char prefix[128] = "";
  const char *dot = strrchr(key, '.');
  if (dot && (size_t)(dot - key) + 1 < sizeof prefix) {
    memcpy(prefix, key, (size_t)(dot - key) + 1);
    prefix[dot - key + 1] = '\0';
    valid_keys(c, prefix, keys, sizeof keys);
    if (!keys[0])
      valid_keys(c, NULL, keys, sizeof keys);
  } else {
    valid_keys(c, NULL, keys, sizeof keys);
  }
  return sm_fail(err, SM_ENOKEY, "%s: unknown key '%s'; valid keys: %s", source,
                 key, keys);
}

int sm_conf_set_kv(struct sm_conf *c, const char *key, const char *value,
                   const char *source, struct sm_err *err) {
  void *base;
  const struct sm_opt *o = sm_conf_find(c, key, &base);
  if (!o)
    return unknown_key(c, key, source, err);
  return set_text(o, base, value, source, err);
}

int sm_conf_set(struct sm_conf *c, const char *assignment, const char *source,
                struct sm_err *err) {
  const char *eq = strchr(assignment, '=');
  if (!eq || eq == assignment)
    return sm_fail(err, SM_EINVAL, "%s: '%s': expected key=value", source,
                   assignment);
  char key[256];
  size_t n = (size_t)(eq - assignment);
  if (n >= sizeof key)
    return sm_fail(err, SM_EINVAL, "%s: key too long in '%.64s...'", source,
                   assignment);
  memcpy(key, assignment, n);
  key[n] = '\0';
  return sm_conf_set_kv(c, key, eq + 1, source, err);
}

int sm_conf_defaults(struct sm_conf *c, struct sm_err *err) {
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++) {
      int rc = set_text(&c->sec[s].opts[i], c->sec[s].base,
                        c->sec[s].opts[i].def, "built-in default", err);
      if (rc)
        return rc;
    }
  return 0;
}

static int load_obj(struct sm_conf *c, const json_t *obj, const char *prefix,
                    const char *source, struct sm_err *err) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    char key[256];
    int w = snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "",
                     k);
    if (w < 0 || (size_t)w >= sizeof key)
      return sm_fail(err, SM_EINVAL, "%s: key '%.64s...' too long", source,
                     key);
    void *base;
    const struct sm_opt *o = sm_conf_find(c, key, &base);
    if (o) {
      int rc = set_json(o, base, v, source, err);
      if (rc)
        return rc;
    } else if (json_is_object(v)) {
      int rc = load_obj(c, v, key, source, err);
      if (rc)
        return rc;
    } else {
      return unknown_key(c, key, source, err);
    }
  }
  return 0;
}

int sm_conf_load_json(struct sm_conf *c, const json_t *obj, const char *source,
                      struct sm_err *err) {
  if (!json_is_object(obj))
    return sm_fail(err, SM_ETYPE, "%s: expected a JSON object at the top level",
                   source);
  return load_obj(c, obj, "", source, err);
}

int sm_conf_load_file(struct sm_conf *c, const char *path, struct sm_err *err) {
  size_t len;
  char *text = sm_read_file_max(path, SM_READ_FILE_MAX, 1, &len, err);
  if (!text)
    return err ? err->code : SM_EIO;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  free(text);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s:%d:%d: invalid JSON: %s", path, je.line,
                   je.column, je.text);
  int rc = sm_conf_load_json(c, root, path, err);
  json_decref(root);
  return rc;
}

const char *sm_conf_value_text(const struct sm_opt *o, const void *base,
                               char *buf, size_t len) {
  const char *field = (const char *)base + o->offset;
  switch (o->type) {
  case SM_OPT_INT: {
    int64_t v;
    memcpy(&v, field, sizeof v);
    snprintf(buf, len, "%lld", (long long)v);
    break;
  }
  case SM_OPT_UINT: {
    uint64_t v;
    memcpy(&v, field, sizeof v);
    snprintf(buf, len, "%llu", (unsigned long long)v);
    break;
  }
  case SM_OPT_DOUBLE: {
    double v;
    memcpy(&v, field, sizeof v);
    snprintf(buf, len, "%.10g", v);
    break;
  }
  case SM_OPT_BOOL: {
    int v;
    memcpy(&v, field, sizeof v);
    snprintf(buf, len, "%s", v ? "true" : "false");
    break;
  }
  case SM_OPT_ENUM: {
    int v;
    memcpy(&v, field, sizeof v);
    const char *ch = sm_opt_choice(o, v);
    snprintf(buf, len, "%s", ch ? ch : "?");
    break;
  }
  case SM_OPT_STRING:
    snprintf(buf, len, "%s", field);
    break;
  }
  return buf;
}

json_t *sm_conf_to_json(const struct sm_conf *c) {
  json_t *o = json_object();
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++) {
      const struct sm_opt *opt = &c->sec[s].opts[i];
      const char *field = (const char *)c->sec[s].base + opt->offset;
      json_t *v = NULL;
      switch (opt->type) {
      case SM_OPT_INT: {
        int64_t x;
        memcpy(&x, field, sizeof x);
        v = json_integer((json_int_t)x);
        break;
      }
      case SM_OPT_UINT: {
        uint64_t x;
        memcpy(&x, field, sizeof x);
        v = json_integer((json_int_t)x);
        break;
      }
      case SM_OPT_DOUBLE: {
        double x;
        memcpy(&x, field, sizeof x);
        v = json_real(x);
        break;
      }
      case SM_OPT_BOOL: {
        int x;
        memcpy(&x, field, sizeof x);
        v = json_boolean(x);
        break;
      }
      case SM_OPT_ENUM: {
        int x;
        memcpy(&x, field, sizeof x);
        const char *ch = sm_opt_choice(opt, x);
        v = json_string(ch ? ch : "?");
        break;
      }
      case SM_OPT_STRING:
        v = json_string(field);
        break;
      }
      json_object_set_new(o, opt->name, v);
    }
  return o;
}

static void range_text(const struct sm_opt *o, char *buf, size_t len) {
  switch (o->type) {
  case SM_OPT_INT:
  case SM_OPT_UINT: {
    char lo[32], hi[32];
    bound_text(o, o->min, lo, sizeof lo);
    bound_text(o, o->max, hi, sizeof hi);
    snprintf(buf, len, "%s..%s", lo, hi);
    break;
  }
  case SM_OPT_DOUBLE:
    snprintf(buf, len, "%g..%g", o->min, o->max);
    break;
  case SM_OPT_ENUM:
    choices_text(o, buf, len);
    break;
  case SM_OPT_BOOL:
    snprintf(buf, len, "true,false");
    break;
  case SM_OPT_STRING:
    snprintf(buf, len, "text");
    break;
  }
}

void sm_conf_print_help(const struct sm_conf *c, FILE *out) {
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++) {
      const struct sm_opt *o = &c->sec[s].opts[i];
      char r[256], kv[320];
      range_text(o, r, sizeof r);
      snprintf(kv, sizeof kv, "%s=%s", o->name, o->def[0] ? o->def : "\"\"");
      fprintf(out, "  %-34s %s [%s%s%s]\n", kv, o->help, r,
              o->unit[0] ? " " : "", o->unit);
    }
}

void sm_conf_print_markdown(const struct sm_conf *c, FILE *out) {
  fprintf(out, "| key | type | default | unit | valid | meaning |\n");
  fprintf(out, "|---|---|---|---|---|---|\n");
  for (size_t s = 0; s < c->nsec; s++)
    for (size_t i = 0; i < c->sec[s].nopts; i++) {
      const struct sm_opt *o = &c->sec[s].opts[i];
      char r[256];
      range_text(o, r, sizeof r);
      fprintf(out, "| `%s` | %s | `%s` | %s | %s | %s |\n", o->name,
              type_name(o->type), o->def, o->unit, r, o->help);
    }
}
