/*
 * common.c -- what every command shares (see cli.h): the flags several
 * commands take (--arch --mesh --db --detail --frames, key=value), the
 * configuration they build (defaults, preset, key=value in order), the
 * default model, the stop flag that INT, TERM and HUP set, and the one
 * progress bar.
 *
 * Signals: the handler only sets the flag and writes a fixed line with
 * write(2) (both async-signal-safe); SA_RESETHAND makes a second signal
 * take its default action, so a second Ctrl-C ends the process.  The
 * frame loops read the flag between frames.
 */
#include "cli/cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"

void cli_common_init(struct cli_common *cm, const char *cmd, unsigned flags) {
  memset(cm, 0, sizeof *cm);
  cm->cmd = cmd;
  cm->flags = flags;
  cm->arch = MODEL_DEFAULT_PRESET;
  cm->detail = TRACE_SUMMARY;
}

int cli_common_arg(struct cli_common *cm, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  int more = *i + 1 < argc;
  unsigned f = cm->flags;
  if ((f & CLI_F_ARCH) && !strcmp(a, "--arch") && more) {
    cm->arch = argv[++*i];
  } else if ((f & CLI_F_MESH) && !strcmp(a, "--mesh") && more) {
    if (run_mesh_parse(argv[++*i], &cm->mesh_w, &cm->mesh_h)) {
      cli_usage_error(cm->cmd, "--mesh '%s': expected WxH (1..%d) or auto",
                      argv[*i], MODEL_MAP_MAX_SIDE);
      return -1;
    }
    cm->mesh_given = 1;
  } else if ((f & CLI_F_DB) && !strcmp(a, "--db") && more) {
    cm->db = argv[++*i];
    if (!*cm->db) {
      /* SQLite would take "" for a temporary database: nothing recorded */
      cli_usage_error(cm->cmd, "--db '': expected a database file name, "
                      "not an empty one");
      return -1;
    }
  } else if ((f & CLI_F_DETAIL) && !strcmp(a, "--detail") && more) {
    if (trace_detail_parse(argv[++*i], &cm->detail)) {
      cli_usage_error(cm->cmd, "--detail '%s': expected one of "
                      TRACE_DETAIL_CHOICES, argv[*i]);
      return -1;
    }
    cm->detail_given = 1;
  } else if ((f & CLI_F_FRAMES) && !strcmp(a, "--frames") && more) {
    if (sm_parse_u64(argv[++*i], &cm->frames) || cm->frames == 0) {
      cli_usage_error(cm->cmd, "--frames '%s': expected a count >= 1",
                      argv[*i]);
      return -1;
    }
  } else if ((f & CLI_F_KV) && strchr(a, '=') && a[0] != '-') {
    if (!cm->first_kv)
      cm->first_kv = *i;
  } else {
    return 0;
  }
  return 1;
}

/* The value of a mesh key of c (noc.width, noc.height). */
static uint64_t mesh_key(const struct sm_conf *c, const char *key) {
  void *base;
  const struct sm_opt *o = sm_conf_find(c, key, &base);
  return o ? *(const uint64_t *)((const char *)base + o->offset) : 0;
}

/* --mesh WxH|auto: noc.width and noc.height, unless a key=value of them
 * says otherwise (given[0], given[1]: noc.width, noc.height were set). */
static int apply_mesh(const struct cli_common *cm, struct sm_conf *c,
                      const int given[2], struct sm_err *err) {
  static const char *const keys[2] = {"noc.width", "noc.height"};
  const uint32_t want[2] = {cm->mesh_w, cm->mesh_h};
  char mesh[32];
  if (cm->mesh_w)
    snprintf(mesh, sizeof mesh, "%ux%u", cm->mesh_w, cm->mesh_h);
  else
    snprintf(mesh, sizeof mesh, "auto");
  for (int k = 0; k < 2; k++) {
    uint64_t v = mesh_key(c, keys[k]);
    if (given[k] && v != want[k])
      return sm_fail(err, SM_EINVAL,
                     "--mesh %s means %s=%u%s, but %s=%llu is given too: "
                     "give the mesh once (--mesh WxH is noc.width=W "
                     "noc.height=H, --mesh auto both 0)",
                     mesh, keys[k], want[k], cm->mesh_w ? "" : " (auto)",
                     keys[k], (unsigned long long)v);
  }
  char v[16];
  for (int k = 0; k < 2; k++) {
    snprintf(v, sizeof v, "%u", want[k]);
    int e = sm_conf_set_kv(c, keys[k], v, "--mesh", err);
    if (e)
      return e;
  }
  return 0;
}

int cli_common_conf(const struct cli_common *cm, struct sm_conf *c, int argc,
                    char **argv, struct sm_err *err) {
  if (cm->flags & CLI_F_ARCH) {
    char preset[1024];
    int e = model_preset_path(cm->arch, preset, sizeof preset, err);
    if (!e)
      e = sm_conf_load_file(c, preset, err);
    if (e)
      return e;
  }
  int given[2] = {0, 0};
  for (int i = cm->first_kv; cm->first_kv && i < argc; i++)
    if (strchr(argv[i], '=') && argv[i][0] != '-') {
      char key[256];
      size_t n = (size_t)(strchr(argv[i], '=') - argv[i]);
      snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : 0),
               argv[i]);
      void *base;
      int e = sm_conf_find(c, key, &base)
                  ? run_key_refuse(cm->cmd, cm->keys, key, "command line", err)
                  : 0;
      if (!e)
        e = sm_conf_set(c, argv[i], "command line", err);
      if (e)
        return e;
      given[0] |= !strcmp(key, "noc.width");
      given[1] |= !strcmp(key, "noc.height");
    }
  if (cm->mesh_given)
    return apply_mesh(cm, c, given, err);
  return 0;
}

void cli_common_help(const struct cli_common *cm, const struct sm_conf *c,
                     FILE *out) {
  struct sm_conf v;
  struct sm_opt *kept[SM_CONF_MAX_SECTIONS];
  sm_conf_init(&v);
  for (size_t s = 0; s < c->nsec; s++) {
    kept[s] = sm_xmallocarray(c->sec[s].nopts, sizeof *kept[s]);
    size_t n = 0;
    for (size_t i = 0; i < c->sec[s].nopts; i++)
      if (run_key_taken(cm->keys, c->sec[s].opts[i].name))
        kept[s][n++] = c->sec[s].opts[i];
    if (n)
      sm_conf_add(&v, kept[s], n, c->sec[s].base);
  }
  sm_conf_print_help(&v, out);
  for (size_t s = 0; s < c->nsec; s++)
    free(kept[s]);
}

int cli_default_model(char *path, size_t len, struct sm_err *err) {
  return model_data_file("", MODEL_DEFAULT_MODEL, "the default model (no "
                         "--model given)", path, len, err);
}

/* ---- stop on INT, TERM, HUP --------------------------------------------- */

static atomic_int stop_flag;
static const char *stop_line = "\nstopping after the current frame (again "
                               "to abort)\n";

static void on_signal(int sig) {
  (void)sig;
  atomic_store(&stop_flag, 1);
  ssize_t w = write(2, stop_line, strlen(stop_line));
  (void)w;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved[3];
static int installed;

atomic_int *cli_stop_install(const char *line) {
  atomic_store(&stop_flag, 0);
  if (line)
    stop_line = line;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < SM_ARRAY_LEN(stop_signals); i++)
    sigaction(stop_signals[i], &sa, &saved[i]);
  installed = 1;
  return &stop_flag;
}

void cli_stop_remove(void) {
  if (!installed)
    return;
  for (size_t i = 0; i < SM_ARRAY_LEN(stop_signals); i++)
    sigaction(stop_signals[i], &saved[i], NULL);
  installed = 0;
}

/* ---- the progress bar --------------------------------------------------- */

void cli_progress_init(struct cli_progress *p, size_t total, const char *unit,
                       int enabled) {
  memset(p, 0, sizeof *p);
  p->total = total;
  p->unit = unit;
  p->on = enabled && isatty(2);
  p->t_start = p->t_last = sm_now_ns();
}

static void fmt_secs(double s, char *buf, size_t len) {
  if (s < 0 || !isfinite(s))
    snprintf(buf, len, "?");
  else if (s < 60)
    snprintf(buf, len, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

void cli_progress_draw(struct cli_progress *p, size_t done, const char *extra,
                       int force) {
  if (!p->on)
    return;
  uint64_t now = sm_now_ns();
  if (!force && now - p->t_last < 200000000ull && done != p->total)
    return;
  p->t_last = now;
  double el = (double)(now - p->t_start) * 1e-9;
  double rate = el > 0 ? (double)done / el : 0;
  double eta = done > 0 && done <= p->total
                   ? el * (double)(p->total - done) / (double)done
                   : -1;
  int width = 30;
  int fill = p->total ? (int)((double)done / (double)p->total * width) : width;
  if (fill > width)
    fill = width;
  char eb[32], elb[32];
  fmt_secs(eta, eb, sizeof eb);
  fmt_secs(el, elb, sizeof elb);
  fprintf(stderr, "\r  [%.*s%*s] %zu/%zu %s, %.0f %s/s, %s elapsed, ETA %s%s\033[K",
          fill, "##############################", width - fill, "", done,
          p->total, p->unit, rate, p->unit, elb, eb, extra ? extra : "");
  fflush(stderr);
}

void cli_progress_clear(struct cli_progress *p) {
  if (p->on)
    fprintf(stderr, "\r\033[K");
}

void cli_progress_end(struct cli_progress *p, size_t done) {
  if (!p->on)
    return;
  cli_progress_draw(p, done, NULL, 1);
  fputc('\n', stderr);
  fflush(stderr);
  p->on = 0;
}
