/*
 * cmd_replay.c -- `spikemesh replay`: inject a recorded spike or packet
 * trace into a chosen architecture (mesh size, placement, router timing,
 * multicast mode) and record hops, congestion, latency, energy and late
 * arrivals as a run would.  The replay itself is run/replay.c; this file
 * parses the arguments and prints.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out, const struct cli_common *cm, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh replay (--trace FILE | --from-db FILE [--run N])\n"
          "                        [OPTIONS] [key=value...]\n"
          "\n"
          "Injects a spike trace (through a model's connectivity, mapped\n"
          "anew on the chosen architecture) or a packet trace (as is) into a\n"
          "mesh and reports hops, blocked time, latency, energy (E_Hop x\n"
          "hops + E_static; no cores, so no SOPs) and how many spikes would\n"
          "now arrive after the receiving layer's window closed.  Spikes keep\n"
          "their recorded times (x --time-scale); frames stay sequential.\n"
          "\n"
          "Options:\n"
          "  --trace FILE      binary or CSV trace (spikemesh trace export)\n"
          "  --from-db FILE    the spikes of a run recorded at spike or\n"
          "                    packet detail\n"
          "  --run N           run id in --from-db [newest]\n"
          "  --model FILE      model for a spike trace [the trace's own]\n"
          "  --arch PRESET|FILE  architecture preset or JSON file [%s]\n"
          "  --mesh WxH|auto   mesh, the same as noc.width=W noc.height=H\n"
          "                    (auto: both 0, the default); auto is, for a\n"
          "                    spike trace, the smallest square that holds\n"
          "                    the mapping (as `run`), for a packet trace\n"
          "                    the mesh its meta names, else 8x8; a\n"
          "                    noc.width or noc.height that says otherwise\n"
          "                    is refused\n"
          "  --time-scale X    multiply every time by X (> 0) [1]\n"
          "  --db FILE         record the replay (a run of kind 'replay')\n"
          "  --detail LEVEL    " TRACE_DETAIL_CHOICES " [link]\n"
          "\nkey=value overrides apply after the preset; replay takes the\n"
          "keys below and refuses the others (train.*, synth.*, traffic.*;\n"
          "core.* and map.* too for a packet trace, which has no mapping).\n"
          "The run row and its configuration record the mesh used.  Options:\n",
          MODEL_DEFAULT_PRESET);
  cli_common_help(cm, c, out);
}

struct replay_args {
  struct cli_common cm;
  const char *trace, *from_db, *model;
  int64_t run;
  double scale;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct replay_args *a,
                      struct sm_conf *c) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "replay", CLI_F_ARCH | CLI_F_MESH | CLI_F_DB |
                                        CLI_F_DETAIL | CLI_F_KV);
  a->cm.keys = run_keys_run;
  a->cm.detail = TRACE_LINK;
  a->run = -1;
  a->scale = 1;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    if (cli_is_help(s)) {
      usage(stdout, &a->cm, c);
      return 1;
    } else if (!strcmp(s, "--trace") && i + 1 < argc) {
      a->trace = argv[++i];
    } else if (!strcmp(s, "--from-db") && i + 1 < argc) {
      a->from_db = argv[++i];
      if (!*a->from_db) {
        cli_usage_error("replay", "--from-db '': expected a database file "
                        "name");
        return -1;
      }
    } else if (!strcmp(s, "--run") && i + 1 < argc) {
      if (sm_parse_i64(argv[++i], &a->run) || a->run < 1) {
        cli_usage_error("replay", "--run '%s': expected a run id", argv[i]);
        return -1;
      }
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--time-scale") && i + 1 < argc) {
      if (sm_parse_double(argv[++i], &a->scale) || !(a->scale > 0) ||
          a->scale > 1e6) {
        cli_usage_error("replay", "--time-scale '%s': expected a number > 0",
                        argv[i]);
        return -1;
      }
    } else {
      cli_usage_error("replay", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  if (!a->trace == !a->from_db) {
    cli_usage_error("replay", "give one of --trace FILE or --from-db FILE");
    return -1;
  }
  return 0;
}

/* The trace, from its file or from a recorded run. */
static int load_trace(struct replay_args *a, struct trace_file *t,
                      struct sm_err *err) {
  if (!a->from_db)
    return trace_file_read(a->trace, t, err);
  if (a->run < 0 && trace_db_last_run(a->from_db, &a->run, err))
    return err->code;
  return trace_db_spikes(a->from_db, a->run, t, err);
}

/* A spike trace's model: --model, or the one its meta names (loaded into
 * *m; *path names it).  Returns 0, or CLI_EXIT_* after reporting. */
static int load_model(const struct replay_args *a, const struct trace_file *t,
                      char *path, size_t len, struct model **m) {
  struct sm_err err = {0};
  *m = NULL;
  if (t->kind != TRACE_KIND_SPIKE)
    return 0;
  run_trace_model_path(t, a->model, path, len);
  if (!*path)
    return cli_usage_error("replay", "a spike trace needs --model FILE (its "
                                     "meta names none)");
  return model_load(path, m, &err) ? cli_report("replay", &err) : 0;
}

static void print_results(const struct run_totals *t,
                          const struct run_options *o) {
  double dn = t->frames ? (double)t->frames : 1;
  printf("frames %zu, deliveries %llu, hops %llu (%.1f per frame), blocked "
         "%.3f us in total\n",
         t->frames, (unsigned long long)t->deliveries,
         (unsigned long long)t->hops, (double)t->hops / dn,
         (double)t->blocked_ps * 1e-6);
  printf("late: %llu deliveries would now arrive after the receiving "
         "window closed (%.3f per frame)\n",
         (unsigned long long)t->late, (double)t->late / dn);
  printf("latency: %.3f us mean per frame, first send to last delivery\n",
         t->lat_sum / dn * 1e-6);
  printf("energy per frame: hop %.4f uJ (%.1f pJ x %.1f hops) + static "
         "%.4f uJ\n",
         t->e_hop / dn, o->energy.e_hop_pj, (double)t->hops / dn,
         t->e_static / dn);
}

struct replay_view {
  struct run_totals t;
  struct cli_progress bar;
};

static void on_frame(void *ctx, size_t i, const struct run_frame *f) {
  struct replay_view *v = ctx;
  run_totals_add(&v->t, f, CORE_TIE_EXACT);
  cli_progress_draw(&v->bar, i + 1, NULL, 0);
}

int cli_cmd_replay(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("replay", &err);
  struct replay_args a;
  int p = parse_args(argc, argv, &a, &c);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  uint32_t mesh_w, mesh_h;
  if (cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      run_options_mesh(&o, &mesh_w, &mesh_h, &err))
    return cli_report("replay", &err);
  struct trace_file tin;
  if (load_trace(&a, &tin, &err))
    return cli_report("replay", &err);
  /* a packet trace is injected as it is: no mapping, no cores */
  for (int i = a.cm.first_kv; tin.kind == TRACE_KIND_PACKET && a.cm.first_kv &&
                              i < argc; i++) {
    char key[256];
    const char *eq = strchr(argv[i], '=');
    if (!eq || argv[i][0] == '-' || (size_t)(eq - argv[i]) >= sizeof key)
      continue;
    snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
    if (run_key_refuse("the replay of a packet trace", run_keys_replay_packets,
                       key, "command line", &err)) {
      trace_file_free(&tin);
      return cli_report("replay", &err);
    }
  }
  int kind = tin.kind;
  size_t nrec = tin.n;
  char model[1024] = "";
  struct model *m = NULL;
  struct run_replay *rp = NULL;
  struct run_record rr = {.run_id = -1};
  int rc = load_model(&a, &tin, model, sizeof model, &m);
  struct run_replay_spec sp = {.trace = &tin,
                               .source = a.trace ? a.trace : a.from_db,
                               .m = m,
                               .mesh_w = mesh_w,
                               .mesh_h = mesh_h,
                               .mesh_given = mesh_w != 0,
                               .scale = a.scale,
                               .model_path = model};
  if (!rc && (run_replay_new(&sp, &o, &rp, &err) ||
              (a.cm.db && run_replay_record_open(&rr, a.cm.db, a.cm.detail, &c,
                                                 &o, &sp, rp, &err))))
    rc = cli_report("replay", &err);
  if (rc)
    goto out;
  printf("spikemesh replay: %zu %s records from %s, %zu packets on a "
         "%llux%llu mesh (%s timing, %s multicast), time x %g\n",
         nrec, kind == TRACE_KIND_SPIKE ? "spike" : "packet", sp.source,
         run_replay_npackets(rp), (unsigned long long)o.noc.width,
         (unsigned long long)o.noc.height,
         o.noc.timing == NOC_CLOCKED ? "clocked" : "async",
         o.noc.multicast ? "tree" : "unicast", a.scale);
  if (run_replay_unsorted(rp))
    printf("  %zu records were out of time order within their frame: "
           "replayed in time order (ties in trace order)\n",
           run_replay_unsorted(rp));
  struct run_engine e;
  run_replay_engine(rp, &e);
  struct replay_view v = {0};
  struct run_loop loop = {.e = &e, .n = run_replay_nframes(rp), .ts = rr.ts,
                          .db = rr.db,
                          .detail = a.cm.detail, .on_frame = on_frame,
                          .ctx = &v};
  cli_progress_init(&v.bar, loop.n, "frames", 1);
  loop.stop = cli_stop_install(NULL);
  size_t done;
  int lr = run_loop_frames(&loop, &done, &err);
  cli_stop_remove();
  cli_progress_end(&v.bar, done);
  if (lr && lr != SM_EINTR) {
    rc = cli_report("replay", &err);
    goto out;
  }
  if (lr) {
    fprintf(stderr, "spikemesh replay: interrupted after %zu of %zu frames\n",
            done, loop.n);
    rc = CLI_EXIT_FAIL;
  }
  print_results(&v.t, &o);
  if (rr.db) {
    int64_t id = rr.run_id;
    if (run_record_close(&rr, lr ? "interrupted" : "complete", &err))
      rc = cli_report("replay", &err);
    else
      printf("recorded as run %lld in %s\n", (long long)id, a.cm.db);
  }
out:
  run_record_close(&rr, "failed", NULL);
  run_replay_free(rp);
  model_free(m);
  trace_file_free(&tin);
  return rc;
}
