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
 */
#include "cli/cli.h"
#include "run/run.h"
#include "traces/trace.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RATES 256

static void usage(FILE *out, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh noc [--json] [FILE.json] [key=value...]\n"
          "\n"
          "Synthetic traffic on the W x H mesh: for each offered load in\n"
          "traffic.rates (flits/node/cycle, cycle = noc.clock_ps in both\n"
          "timing modes), a warm-up of traffic.warmup cycles, a measurement\n"
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
          "Configuration: defaults, then FILE.json (e.g.\n"
          "models/arch/noc-clocked.json), then each key=value in order.\n"
          "\n"
          "Options:\n"
          "  --json   one JSON object per load instead of the table, with\n"
          "           per-direction figures for the window (flits sent,\n"
          "           busiest link's utilization, mean blocked cycles per\n"
          "           flit at inputs of that direction)\n"
          "  --db FILE  record the sweep into a SQLite database (a run of kind\n"
          "           'noc', one noc_points row per load; doc/recorder.md)\n"
          "  --detail LEVEL  detail level noted in the run row ["
          TRACE_DETAIL_CHOICES "]\n"
          "  --resume skip the loads an unfinished sweep in --db has done\n"
          "  --help   this text\n"
          "\nKeys (key=default  meaning  [valid values unit]):\n");
  sm_conf_print_help(c, out);
}

int cli_cmd_noc(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("noc", &err);
  int json = 0, resume = 0;
  const char *db_path = NULL;
  enum trace_detail detail = TRACE_SUMMARY;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout, &c);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--db") && i + 1 < argc) {
      db_path = argv[++i];
    } else if (!strcmp(a, "--detail") && i + 1 < argc) {
      if (trace_detail_parse(argv[++i], &detail))
        return cli_usage_error("noc", "--detail '%s': expected one of "
                               TRACE_DETAIL_CHOICES, argv[i]);
    } else if (!strcmp(a, "--resume")) {
      resume = 1;
    } else if (strchr(a, '=')) {
      if (sm_conf_set(&c, a, "command line", &err))
        return cli_report("noc", &err);
    } else if (a[0] == '-') {
      return cli_usage_error("noc", "unknown option '%s'", a);
    } else if (sm_conf_load_file(&c, a, &err)) {
      return cli_report("noc", &err);
    }
  }
  static double rates[MAX_RATES];
  size_t nr;
  if (noc_traffic_parse_rates(o.traffic.rates, rates, MAX_RATES, &nr, &err))
    return cli_report("noc", &err);
  if (noc_traffic_check(&o.noc, &o.traffic, &err))
    return cli_report("noc", &err);
  /* sm_opt_choice returns a shared buffer: copy what we keep */
  char pat[64], alloc[64];
  snprintf(pat, sizeof pat, "%s",
           sm_opt_choice(sm_conf_find(&c, "traffic.pattern", NULL),
                         o.traffic.pattern));
  snprintf(alloc, sizeof alloc, "%s",
           sm_opt_choice(sm_conf_find(&c, "noc.allocator", NULL),
                         o.noc.allocator));
  if (!json) {
    sim_time_t zl1 = noc_zero_load_ps(&o.noc, 1, 1);
    sim_time_t zl0 = noc_zero_load_ps(&o.noc, 0, 1);
    printf("# %llux%llu mesh, %s timing, routing %s, allocator %s, depth %llu "
           "flits; %s traffic, %llu-flit packets\n"
           "# zero-load latency (1 flit): %.3f + %.3f x hops cycles "
           "(cycle = %llu ps)\n",
           (unsigned long long)o.noc.width, (unsigned long long)o.noc.height,
           o.noc.timing == NOC_CLOCKED ? "clocked" : "async",
           noc_routing_get(o.noc.routing)->name, alloc,
           (unsigned long long)o.noc.buffer_depth, pat,
           (unsigned long long)o.traffic.packet_flits,
           (double)zl0 / (double)o.noc.clock_ps,
           (double)(zl1 - zl0) / (double)o.noc.clock_ps,
           (unsigned long long)o.noc.clock_ps);
    printf("%7s %8s %8s %9s %7s %7s %8s %9s %6s %6s  %s\n", "rate", "offered",
           "accepted", "lat_mean", "p50", "p99", "max", "zero_load", "hops",
           "maxutl", "state");
  }
  if (resume && !db_path)
    return cli_usage_error("noc", "--resume needs --db FILE");
  /* recording: one run row, one unit per offered load */
  struct trace_db *db = NULL;
  struct trace_stream *ts = NULL;
  int64_t run_id = -1, first = 0;
  if (db_path) {
    json_t *j = sm_conf_to_json(&c);
    char *cfg = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    int e = trace_db_open(db_path, &db, &err);
    if (!e && resume) {
      int found = trace_run_resume(db, "noc", cfg, &run_id, &first, &err);
      e = found < 0 ? found : 0;
      if (!found)
        e = sm_fail(&err, SM_EINVAL, "%s: no unfinished sweep to resume",
                    db_path);
    } else if (!e) {
      struct trace_run_info info = {.kind = "noc",
                                    .config_json = cfg,
                                    .detail = trace_detail_name(detail),
                                    .seed = o.sim.seed,
                                    .frames_planned = (int64_t)nr};
      e = trace_run_begin(db, &info, &run_id, &err);
    }
    free(cfg);
    if (e) {
      trace_db_close(db, NULL);
      return cli_report("noc", &err);
    }
    ts = trace_stream_open(db, run_id);
  }
  int failed = 0;
  double first_sat = 0, peak = 0;
  for (size_t i = (size_t)first; i < nr; i++) {
    struct noc_traffic_result r;
    if (noc_traffic_run(&o.noc, &o.traffic, rates[i], o.sim.queue, o.sim.seed,
                        (enum noc_sched)o.traffic.schedule, &r, &err)) {
      if (db) {
        trace_stream_close(ts);
        trace_run_end(db, run_id, "failed", NULL);
        trace_db_close(db, NULL);
      }
      return cli_report("noc", &err);
    }
    if (ts) { /* each load is one unit ("frame" i) */
      struct trace_noc_row row = {r.offered,  r.accepted, r.lat_mean,
                                  r.lat_p50,  r.lat_p99,  r.lat_max,
                                  (int64_t)r.measured, r.saturated};
      trace_put_noc(ts, &row);
      trace_frame_end(ts, (int64_t)i);
    }
    int conserved = r.idle && r.gen_flits == r.deliv_flits;
    if (r.saturated && first_sat == 0)
      first_sat = r.rate;
    if (r.accepted > peak)
      peak = r.accepted;
    failed |= !conserved;
    if (json) {
      char dirs[1024];
      size_t len = 0;
      for (int d = 0; d < NOC_NDIRS; d++)
        len += (size_t)snprintf(dirs + len, sizeof dirs - len,
                                "%s{\"dir\":\"%s\",\"flits\":%llu,"
                                "\"max_util\":%.4f,\"blocked\":%.4f}",
                                d ? "," : "", noc_dir_name((enum noc_dir)d),
                                (unsigned long long)r.dir_flits[d],
                                r.dir_max_util[d], r.dir_blocked[d]);
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
             pat, (unsigned long long)o.noc.width,
             (unsigned long long)o.noc.height,
             (unsigned long long)o.traffic.packet_flits, r.rate, r.active,
             r.offered, r.accepted, r.lat_mean, r.lat_p50, r.lat_p99,
             r.lat_max, r.zero_load_mean, r.hops_mean, r.max_link_util,
             (long long)r.backlog_growth, (unsigned long long)r.measured,
             (unsigned long long)r.measured_delivered,
             r.drained ? "true" : "false", r.saturated ? "true" : "false",
             conserved ? "true" : "false", (unsigned long long)r.gen_flits,
             (unsigned long long)r.deliv_flits, (unsigned long long)r.cycles,
             (unsigned long long)r.events, r.wall_s,
             (unsigned long long)r.digest, dirs);
    } else {
      printf("%7.4g %8.4f %8.4f %9.2f %7.1f %7.1f %8.1f %9.2f %6.2f %6.3f  "
             "%s%s\n",
             r.rate, r.offered, r.accepted, r.lat_mean, r.lat_p50, r.lat_p99,
             r.lat_max, r.zero_load_mean, r.hops_mean, r.max_link_util,
             r.saturated ? "SAT" : "ok",
             conserved ? "" : " NOT-CONSERVED");
    }
    fflush(stdout);
  }
  if (!json && nr > 1) {
    if (first_sat > 0)
      printf("# saturated from offered %.4g; peak accepted %.4f "
             "flits/node/cycle\n",
             first_sat, peak);
    else
      printf("# not saturated up to offered %.4g\n", rates[nr - 1]);
  }
  if (db) {
    trace_stream_close(ts);
    int e = trace_run_end(db, run_id, failed ? "failed" : "complete", &err);
    e = trace_db_close(db, e ? NULL : &err) ? -1 : e;
    if (e)
      return cli_report("noc", &err);
  }
  if (failed) {
    fprintf(stderr, "spikemesh noc: error: a run did not deliver every "
                    "injected flit exactly once\n");
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}
