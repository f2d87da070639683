/*
 * cmd_trace.c -- `spikemesh trace`: spike and packet traces out of a
 * recorded run, and conversion between the binary format and CSV (which
 * is how traces from other tools come in).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <jansson.h>
#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh trace export --db FILE [--run N] [--kind "
          "spike|packet]\n"
          "                              [--model FILE] [--csv] -o OUT\n"
          "       spikemesh trace convert IN OUT [--csv]\n"
          "       spikemesh trace info FILE\n"
          "\n"
          "export   the spikes of a run recorded at spike or packet detail, as\n"
          "         a spike trace, or (--kind packet) as packets through the\n"
          "         run's mapping (needs its model: --model or the run's)\n"
          "convert  read a binary or CSV trace and write it as binary, or as\n"
          "         CSV with --csv (import and export of foreign traces)\n"
          "info     kind, record count and meta of a trace file\n"
          "Formats: doc/recorder.md.\n");
}

static int export(int argc, char **argv) {
  const char *db = NULL, *outp = NULL, *model_path = NULL;
  int64_t run = -1;
  int csv = 0, packet = 0;
  struct sm_err err = {0};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--db") && i + 1 < argc)
      db = argv[++i];
    else if (!strcmp(a, "-o") && i + 1 < argc)
      outp = argv[++i];
    else if (!strcmp(a, "--model") && i + 1 < argc)
      model_path = argv[++i];
    else if (!strcmp(a, "--csv"))
      csv = 1;
    else if (!strcmp(a, "--run") && i + 1 < argc) {
      if (sm_parse_i64(argv[++i], &run) || run < 1)
        return cli_usage_error("trace", "--run '%s': expected a run id",
                               argv[i]);
    } else if (!strcmp(a, "--kind") && i + 1 < argc) {
      const char *k = argv[++i];
      if (strcmp(k, "spike") && strcmp(k, "packet"))
        return cli_usage_error("trace", "--kind '%s': expected spike or "
                                        "packet", k);
      packet = !strcmp(k, "packet");
    } else
      return cli_usage_error("trace", "export: unknown or incomplete option "
                                      "'%s'", a);
  }
  if (!db || !outp)
    return cli_usage_error("trace", "export needs --db FILE and -o OUT");
  if (run < 0 && trace_db_last_run(db, &run, &err))
    return cli_report("trace", &err);
  struct trace_file t, tp;
  if (trace_db_spikes(db, run, &t, &err))
    return cli_report("trace", &err);
  int rc = CLI_EXIT_OK;
  if (!packet) {
    if (trace_file_write(outp, &t, csv, &err))
      rc = cli_report("trace", &err);
    else
      printf("wrote %zu spikes of run %lld to %s\n", t.n, (long long)run,
             outp);
    trace_file_free(&t);
    return rc;
  }
  /* packets: the run's own mapping, rebuilt from its configuration */
  struct run_options o;
  struct sm_conf c;
  run_options_init(&o, &c);
  sm_conf_defaults(&c, &err);
  json_error_t je;
  json_t *meta = json_loads(t.meta, 0, &je);
  json_t *cfg = NULL;
  struct model *m = NULL;
  struct model_map *map = NULL;
  {
    /* the run row's full configuration */
    json_t *v = json_object_get(meta, "model");
    if (!model_path && json_is_string(v))
      model_path = json_string_value(v);
  }
  if (!model_path || !*model_path) {
    rc = cli_usage_error("trace", "export --kind packet needs --model FILE");
    goto out;
  }
  /* the run's configuration (its own run.* keys are not options) */
  json_t *rc_cfg = json_object_get(meta, "config");
  if (json_is_object(rc_cfg)) {
    cfg = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(rc_cfg, key, v) if (strncmp(key, "run.", 4))
        json_object_set(cfg, key, v);
    int e = sm_conf_load_json(&c, cfg, db, &err);
    json_decref(cfg);
    if (e) {
      rc = cli_report("trace", &err);
      goto out;
    }
  }
  if (model_load(model_path, &m, &err)) {
    rc = cli_report("trace", &err);
    goto out;
  }
  json_t *w = json_object_get(meta, "run.mesh_width"),
         *h = json_object_get(meta, "run.mesh_height");
  struct model_map_params mp = {.neurons_per_core = o.core.neurons_per_core,
                                .sram_bytes = o.core.sram_bytes,
                                .weight_bits = o.core.weight_bits,
                                .width = (uint32_t)json_integer_value(w),
                                .height = (uint32_t)json_integer_value(h),
                                .placement = o.map.placement,
                                .sram_fit = o.map.sram_fit};
  if (model_map_build(m, &mp, &map, &err) ||
      run_trace_to_packets(&t, m, map, &o.core, &tp, &err)) {
    rc = cli_report("trace", &err);
    goto out;
  }
  json_object_set_new(meta, "run.mesh_width", json_integer(map->width));
  json_object_set_new(meta, "run.mesh_height", json_integer(map->height));
  free(tp.meta);
  tp.meta = json_dumps(meta, JSON_SORT_KEYS | JSON_COMPACT);
  if (trace_file_write(outp, &tp, csv, &err))
    rc = cli_report("trace", &err);
  else
    printf("wrote %zu packets of run %lld to %s\n", tp.n, (long long)run,
           outp);
  trace_file_free(&tp);
out:
  json_decref(meta);
  model_free(m);
  model_map_free(map);
  trace_file_free(&t);
  return rc;
}

int cli_cmd_trace(int argc, char **argv) {
  struct sm_err err = {0};
  if (argc < 2 || cli_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "export"))
    return export(argc, argv);
  struct trace_file t;
  if (!strcmp(argv[1], "info") && argc == 3) {
    if (trace_file_read(argv[2], &t, &err))
      return cli_report("trace", &err);
    printf("%s: %s trace, format %d, %zu records%s\nmeta: %s\n", argv[2],
           t.kind == TRACE_KIND_SPIKE ? "spike" : "packet", TRACE_FILE_VERSION,
           t.n, "", t.meta);
    trace_file_free(&t);
    return CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "convert") && (argc == 4 || argc == 5)) {
    int csv = argc == 5 && !strcmp(argv[4], "--csv");
    if (argc == 5 && !csv)
      return cli_usage_error("trace", "convert: unknown option '%s'", argv[4]);
    if (trace_file_read(argv[2], &t, &err))
      return cli_report("trace", &err);
    int rc = CLI_EXIT_OK;
    if (trace_file_write(argv[3], &t, csv, &err))
      rc = cli_report("trace", &err);
    else
      printf("wrote %zu records to %s (%s)\n", t.n, argv[3],
             csv ? "CSV" : "binary");
    trace_file_free(&t);
    return rc;
  }
  usage(stderr);
  return cli_usage_error("trace", "expected export, convert or info");
}
