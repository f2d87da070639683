/*
 * cmd_noc.c -- `spikemesh noc`: synthetic traffic on the mesh and a
 * latency-throughput sweep over offered loads.
 *
 * Every rate is an independent run (fresh kernel and mesh, same seed) of
 * noc_traffic_run(): warm-up, measurement window, drain of the measured
 * packets, then injection stops and the network must empty.  A point is
 * marked saturated when accepted < 0.95 x offered or the measured packets
 * did not all arrive within the drain phase (latency growing without
 * bound).  A run whose network does not empty, or that loses or duplicates
 * a flit, is a failure (exit 1).
 *
 * This file parses the arguments and prints; run/noc.c runs the loads and
 * records them.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out, const struct cli_common *cm, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh noc [--json] [PRESET|FILE.json] [key=value...]\n"
          "\n"
          "Synthetic traffic on the noc.width x noc.height mesh (auto, both 0,\n"
          "the default, is 8x8: there is no mapping to size it).  For each\n"
          "offered load in traffic.rates (flits/node/cycle, cycle =\n"
          "noc.clock_ps in both timing modes), a warm-up of traffic.warmup\n"
          "cycles, a measurement\n"
          "window of traffic.measure cycles and a drain of at most\n"
          "traffic.drain cycles; then injection stops and the network must\n"
          "empty.  Prints one row per load: offered and accepted throughput\n"
          "(per injecting node), latency of the packets generated in the\n"
          "window (mean, p50, p99, max, in cycles, source queueing\n"
          "included), the zero-load formula over the same packets, mean\n"
          "hops, the busiest link's utilization, and SAT where the network\n"
          "saturated: accepted < 0.95 offered, source queues that grew\n"
          "during the window by more than max(0.5%% of the window's packets,\n"
          "2 per injecting node), or measured packets still undelivered\n"
          "after the drain (latency growing without bound).  A sweep ends\n"
          "with the first saturated load and the peak accepted throughput.\n"
          "Exit status 1 if a run does not deliver every injected flit\n"
          "exactly once.\n"
          "Configuration: defaults, then each PRESET (a name: NAME.json in\n"
          "the data directory's arch/, e.g. noc-clocked; see spikemesh\n"
          "--help) or FILE.json (a value with '/' or ending in .json), then\n"
          "each key=value in order.  noc takes the sim.*, noc.*, traffic.*\n"
          "and preset.* keys and refuses the others as key=value (a preset's\n"
          "core.*, energy.* and map.* keys are left unused: no cores here).\n"
          "\n"
          "Options:\n"
          "  --json   one JSON object per load instead of the table, with\n"
          "           per-direction figures for the window (flits sent,\n"
          "           busiest link's utilization, mean blocked cycles per\n"
          "           flit at inputs of that direction)\n"
          "  --mesh WxH|auto  the mesh: the same as noc.width=W noc.height=H\n"
          "           (a noc.width or noc.height that says otherwise is\n"
          "           refused) [auto: 8x8]\n"
          "  --db FILE  record the sweep into a SQLite database (a run of kind\n"
          "           'noc', one noc_points row per load; doc/recorder.md)\n"
          "  --detail LEVEL  detail level noted in the run row ["
          TRACE_DETAIL_CHOICES "]\n"
          "  --resume skip the loads an unfinished sweep in --db has done\n"
          "  --help   this text\n"
          "\nKeys (key=default  meaning  [valid values unit]):\n");
  cli_common_help(cm, c, out);
}

/* The arguments of a sweep. */
struct noc_args {
  struct cli_common cm;
  int json, resume;
};

/* Options, PRESET|FILE.json (loaded here, in order), key=value (left to
 * cli_common_conf).  0 parsed, 1 help printed, -1 a usage error or a bad
 * file (reported; *rc is the exit status). */
static int parse_args(int argc, char **argv, struct noc_args *a,
                      struct sm_conf *c, int *rc) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "noc",
                  CLI_F_MESH | CLI_F_DB | CLI_F_DETAIL | CLI_F_KV);
  a->cm.keys = run_keys_noc;
  *rc = CLI_EXIT_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    struct sm_err err = {0};
    if (cli_is_help(s)) {
      usage(stdout, &a->cm, c);
      return 1;
    } else if (!strcmp(s, "--json")) {
      a->json = 1;
    } else if (!strcmp(s, "--resume")) {
      a->resume = 1;
    } else if (s[0] == '-') {
      cli_usage_error("noc", "unknown option '%s'", s);
      return -1;
    } else {
      char path[4096];
      if (model_preset_path(s, path, sizeof path, &err) ||
          sm_conf_load_file(c, path, &err)) {
        *rc = cli_report("noc", &err);
        return -1;
      }
    }
  }
  if (a->resume && !a->cm.db) {
    cli_usage_error("noc", "--resume needs --db FILE");
    return -1;
  }
  return 0;
}

/* What the per-load printer needs. */
struct noc_print {
  const struct run_options *o;
  char pat[64], alloc[64]; /* traffic.pattern and noc.allocator names */
  int json;
};

static void print_header(const struct noc_print *p) {
  const struct noc_conf *nc = &p->o->noc;
  sim_time_t zl1 = noc_zero_load_ps(nc, 1, 1);
  sim_time_t zl0 = noc_zero_load_ps(nc, 0, 1);
  printf("# %llux%llu mesh, %s timing, routing %s, allocator %s, depth %llu "
         "flits; %s traffic, %llu-flit packets\n"
         "# zero-load latency (1 flit): %.3f + %.3f x hops cycles "
         "(cycle = %llu ps)\n",
         (unsigned long long)nc->width, (unsigned long long)nc->height,
         nc->timing == NOC_CLOCKED ? "clocked" : "async",
         noc_routing_get(nc->routing)->name, p->alloc,
         (unsigned long long)nc->buffer_depth, p->pat,
         (unsigned long long)p->o->traffic.packet_flits,
         (double)zl0 / (double)nc->clock_ps,
         (double)(zl1 - zl0) / (double)nc->clock_ps,
         (unsigned long long)nc->clock_ps);
  printf("%7s %8s %8s %9s %7s %7s %8s %9s %6s %6s  %s\n", "rate", "offered",
         "accepted", "lat_mean", "p50", "p99", "max", "zero_load", "hops",
         "maxutl", "state");
}

static void print_json(const struct noc_print *p,
                       const struct noc_traffic_result *r) {
  char dirs[1024];
  size_t len = 0;
  for (int d = 0; d < NOC_NDIRS; d++)
    len += (size_t)snprintf(dirs + len, sizeof dirs - len,
                            "%s{\"dir\":\"%s\",\"flits\":%llu,"
                            "\"max_util\":%.4f,\"blocked\":%.4f}",
                            d ? "," : "", noc_dir_name((enum noc_dir)d),
                            (unsigned long long)r->dir_flits[d],
                            r->dir_max_util[d], r->dir_blocked[d]);
  const struct run_options *o = p->o;
  printf("{\"cmd\":\"noc\",\"pattern\":\"%s\",\"width\":%llu,"
         "\"height\":%llu,\"packet_flits\":%llu,\"rate\":%.6g,"
         "\"active\":%u,\"offered\":%.6f,\"accepted\":%.6f,"
         "\"lat_mean\":%.4f,\"lat_p50\":%.4f,\"lat_p99\":%.4f,"
         "\"lat_max\":%.4f,\"zero_load\":%.4f,\"hops\":%.4f,"
         "\"max_link_util\":%.4f,\"backlog_growth\":%lld,\"measured\":%llu,"
         "\"measured_delivered\":%llu,\"drained\":%s,\"saturated\":%s,"
         "\"conserved\":%s,\"gen_flits\":%llu,\"deliv_flits\":%llu,"
         "\"cycles\":%llu,\"events\":%llu,\"wall_s\":%.4f,"
         "\"digest\":\"%016llx\",\"dirs\":[%s]}\n",
         p->pat, (unsigned long long)o->noc.width,
         (unsigned long long)o->noc.height,
         (unsigned long long)o->traffic.packet_flits, r->rate, r->active,
         r->offered, r->accepted, r->lat_mean, r->lat_p50, r->lat_p99,
         r->lat_max, r->zero_load_mean, r->hops_mean, r->max_link_util,
         (long long)r->backlog_growth, (unsigned long long)r->measured,
         (unsigned long long)r->measured_delivered,
         r->drained ? "true" : "false", r->saturated ? "true" : "false",
         run_noc_conserved(r) ? "true" : "false",
         (unsigned long long)r->gen_flits, (unsigned long long)r->deliv_flits,
         (unsigned long long)r->cycles, (unsigned long long)r->events,
         r->wall_s, (unsigned long long)r->digest, dirs);
}

static void on_point(void *ctx, size_t i, const struct noc_traffic_result *r) {
  const struct noc_print *p = ctx;
  (void)i;
  if (p->json)
    print_json(p, r);
  else
    printf("%7.4g %8.4f %8.4f %9.2f %7.1f %7.1f %8.1f %9.2f %6.2f %6.3f  "
           "%s%s\n",
           r->rate, r->offered, r->accepted, r->lat_mean, r->lat_p50,
           r->lat_p99, r->lat_max, r->zero_load_mean, r->hops_mean,
           r->max_link_util, r->saturated ? "SAT" : "ok",
           run_noc_conserved(r) ? "" : " NOT-CONSERVED");
  fflush(stdout);
}

static void print_summary(const struct run_noc *s) {
  if (s->nrates < 2)
    return;
  if (s->first_sat > 0)
    printf("# saturated from offered %.4g; peak accepted %.4f "
           "flits/node/cycle\n",
           s->first_sat, s->peak);
  else
    printf("# not saturated up to offered %.4g\n", s->rates[s->nrates - 1]);
}

int cli_cmd_noc(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("noc", &err);
  struct noc_args a;
  int rc, p = parse_args(argc, argv, &a, &c, &rc);
  if (p)
    return p > 0 ? CLI_EXIT_OK : rc;
  if (cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      run_options_fixed_mesh(&o, &err))
    return cli_report("noc", &err);
  struct run_noc s;
  if (run_noc_open(&s, &o, &c, a.cm.db, a.resume, a.cm.detail, &err))
    return cli_report("noc", &err);
  /* sm_opt_choice returns a shared buffer: copy what we keep */
  struct noc_print pr = {.o = &o, .json = a.json};
  snprintf(pr.pat, sizeof pr.pat, "%s",
           sm_opt_choice(sm_conf_find(&c, "traffic.pattern", NULL),
                         o.traffic.pattern));
  snprintf(pr.alloc, sizeof pr.alloc, "%s",
           sm_opt_choice(sm_conf_find(&c, "noc.allocator", NULL),
                         o.noc.allocator));
  if (!a.json)
    print_header(&pr);
  if (run_noc_run(&s, on_point, &pr, &err))
    return cli_report("noc", &err);
  if (!a.json)
    print_summary(&s);
  if (run_noc_close(&s, &err))
    return cli_report("noc", &err);
  if (s.failed) {
    fprintf(stderr, "spikemesh noc: error: a run did not deliver every "
                    "injected flit exactly once\n");
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}
