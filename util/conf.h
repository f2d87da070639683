/*
 * conf.h -- the configuration engine: one table of options per module,
 * {name, type, default, unit, range, help, where it lives}, from which come
 *   - the defaults (sm_conf_defaults),
 *   - the JSON loader (sm_conf_load_file / sm_conf_load_json; jansson),
 *   - key=value overrides from the command line (sm_conf_set),
 *   - the effective configuration as JSON (sm_conf_to_json),
 *   - the --help option list (sm_conf_print_help) and the docs' option
 *     reference (sm_conf_print_markdown).
 *
 * A command assembles the tables it needs into a struct sm_conf: a list of
 * sections, each a table plus the struct its values are written into.
 * Option names are dotted ("noc.width"); a JSON file may spell them flat
 * ({"noc.width": 8}) or nested ({"noc": {"width": 8}}).  Unknown keys,
 * wrong JSON types and out-of-range values are errors that name the file,
 * the key and what was expected (the valid keys, the range or the choices).
 *
 * Values are stored in plain C fields found by offset:
 *   SM_OPT_INT    int64_t        SM_OPT_UINT  uint64_t
 *   SM_OPT_DOUBLE double         SM_OPT_BOOL  int (0/1)
 *   SM_OPT_ENUM   int (index into the '|'-separated choices)
 *   SM_OPT_STRING char[SM_CONF_STRLEN]
 */
#ifndef SPIKEMESH_CONF_H
#define SPIKEMESH_CONF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

#define SM_CONF_STRLEN 512

enum sm_opt_type {
  SM_OPT_INT,
  SM_OPT_UINT,
  SM_OPT_DOUBLE,
  SM_OPT_BOOL,
  SM_OPT_ENUM,
  SM_OPT_STRING
};

struct sm_opt {
  const char *name;    /* dotted key, e.g. "noc.buffer_depth" */
  enum sm_opt_type type;
  const char *def;     /* default, as text */
  const char *unit;    /* "ps", "flits", "pJ", "" ... */
  double min, max;     /* inclusive range for numbers (ignored otherwise) */
  const char *choices; /* "xy|yx" for SM_OPT_ENUM, else NULL */
  const char *help;    /* one line */
  size_t offset;       /* offsetof(struct ..., field) */
};

/* Table helpers: SM_OPT_<TYPE>(struct, field, "name", default, unit, min,
 * max, help).  The default is given as text and parsed by the loader, so a
 * bad default is caught by the tests (sm_conf_defaults fails). */
#define SM_OPT_I(st, fld, nm, def, unit, lo, hi, help)                         \
  {nm, SM_OPT_INT, def, unit, lo, hi, NULL, help, offsetof(st, fld)}
#define SM_OPT_U(st, fld, nm, def, unit, lo, hi, help)                         \
  {nm, SM_OPT_UINT, def, unit, lo, hi, NULL, help, offsetof(st, fld)}
#define SM_OPT_D(st, fld, nm, def, unit, lo, hi, help)                         \
  {nm, SM_OPT_DOUBLE, def, unit, lo, hi, NULL, help, offsetof(st, fld)}
#define SM_OPT_B(st, fld, nm, def, help)                                       \
  {nm, SM_OPT_BOOL, def, "", 0, 1, NULL, help, offsetof(st, fld)}
#define SM_OPT_E(st, fld, nm, def, choices, help)                              \
  {nm, SM_OPT_ENUM, def, "", 0, 0, choices, help, offsetof(st, fld)}
#define SM_OPT_S(st, fld, nm, def, help)                                       \
  {nm, SM_OPT_STRING, def, "", 0, 0, NULL, help, offsetof(st, fld)}

struct sm_conf_section {
  const struct sm_opt *opts;
  size_t nopts;
  void *base; /* the struct the values are written into */
};

#define SM_CONF_MAX_SECTIONS 16

struct sm_conf {
  struct sm_conf_section sec[SM_CONF_MAX_SECTIONS];
  size_t nsec;
};

void sm_conf_init(struct sm_conf *c);
/* Add a table; base receives the values.  Aborts past SM_CONF_MAX_SECTIONS
 * (a programming error, not user input). */
void sm_conf_add(struct sm_conf *c, const struct sm_opt *opts, size_t n,
                 void *base);

/* Write every default into its field. */
int sm_conf_defaults(struct sm_conf *c, struct sm_err *err);

/* Set one option from text.  `source` names where the text came from
 * ("command line", a file name) for the error message. */
int sm_conf_set_kv(struct sm_conf *c, const char *key, const char *value,
                   const char *source, struct sm_err *err);
/* Parse "key=value" and set it. */
int sm_conf_set(struct sm_conf *c, const char *assignment, const char *source,
                struct sm_err *err);

/* Apply a JSON object (flat or nested) or a file holding one. */
int sm_conf_load_json(struct sm_conf *c, const json_t *obj, const char *source,
                      struct sm_err *err);
int sm_conf_load_file(struct sm_conf *c, const char *path, struct sm_err *err);

/* Find an option by name; NULL if unknown. */
const struct sm_opt *sm_conf_find(const struct sm_conf *c, const char *key,
                                  void **base);

/* Current value as text (for messages and tables); buf of >= 64 bytes. */
const char *sm_conf_value_text(const struct sm_opt *o, const void *base,
                               char *buf, size_t len);

/* The effective configuration as a flat JSON object (new reference). */
json_t *sm_conf_to_json(const struct sm_conf *c);

/* Option list for --help: "  name=DEFAULT  [unit, range] help". */
void sm_conf_print_help(const struct sm_conf *c, FILE *out);
/* Markdown table for doc/ (generated, never hand-written). */
void sm_conf_print_markdown(const struct sm_conf *c, FILE *out);

/* Enum helpers: the choice text at index i, or NULL. */
const char *sm_opt_choice(const struct sm_opt *o, int i);

#endif /* SPIKEMESH_CONF_H */
