/*
 * cmd_run.c -- `spikemesh run`: spike-by-spike inference of a model on a
 * mapped mesh of cores, frame after frame over a test set (run/), with
 * per-layer spikes, SOPs, late spikes, the network's hops, accuracy,
 * per-frame energy by term and frames/s.  With --compare, each frame's
 * prediction is also compared with the trainer's reference forward of the
 * same model (run/compare.c), and each disagreement attributed to arrival
 * timing or to step quantization.
 *
 * This file parses the arguments and prints; run/ does the rest.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <jansson.h>
#include <string.h>

static void usage(FILE *out, const struct cli_common *cm, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh run [OPTIONS] [key=value...]\n"
          "\n"
          "Maps a model onto a mesh of neuromorphic cores and runs inference\n"
          "spike by spike over the test set, one frame after another through\n"
          "the same hardware.  Prints the mapping, per-layer spikes, SOPs and\n"
          "late spikes, hops, accuracy, per-frame energy (SOP, hop and static\n"
          "terms), frames/s, and the agreement with the trainer's reference\n"
          "forward of the same model.\n"
          "\n"
          "Options:\n"
          "  --model FILE      model file [" MODEL_DEFAULT_MODEL " in the data "
          "directory]\n"
          "  --arch PRESET|FILE  architecture preset name or JSON file [%s]\n"
          "  --mesh WxH|auto   mesh size: the same as noc.width=W noc.height=H;\n"
          "                    auto (both 0) = the smallest square that holds\n"
          "                    the mapping [auto]; a noc.width or noc.height\n"
          "                    that says otherwise is refused\n"
          "  --mapping FILE    place the groups as the mapping file says (as\n"
          "                    spikemesh map --out writes it; doc/mapping.md)\n"
          "                    instead of mapping with map.*: the file must\n"
          "                    be of this model and these cores, its mesh is\n"
          "                    used (--mesh, if given, must be the same), and\n"
          "                    map.* keys are refused with it\n"
          "  --frames N        run the first N test frames [all]\n"
          "  --data DIR        directory with t10k-{images-idx3,labels-idx1}-"
          "ubyte[.gz]\n"
          "                    [" TRAIN_DEFAULT_DATA "],\n"
          "                    or synthetic:SEED: generated images of the\n"
          "                    model's input shape, no labels (--frames,\n"
          "                    default 10; see spikemesh synth)\n"
          "  --compare         compare every prediction with the trainer's\n"
          "                    reference forward (a second thread)\n"
          "  --quiet           no mapping table and no progress bar\n"
          "  --jobs N          simulate frames on N threads, 1..%d [1]: each\n"
          "                    thread its own kernel, cores and mesh; frames\n"
          "                    are recorded and counted in frame order, so\n"
          "                    the database, the printed figures and --resume\n"
          "                    are the same for every N\n"
          "  --db FILE         record into this SQLite database (created if\n"
          "                    needed; schema in doc/recorder.md)\n"
          "  --detail LEVEL    what to record: " TRACE_DETAIL_CHOICES " [summary]\n"
          "  --resume          continue the newest unfinished run in --db (same\n"
          "                    options): its frames are simulated again without\n"
          "                    recording, then recording goes on from there\n"
          "\n"
          "A PRESET name is arch/PRESET.json in the data directory, which\n"
          "'spikemesh --help' names (SPIKEMESH_DATA overrides it).\n"
          "\n"
          "Ctrl-C (or TERM, HUP) stops after the current frame (the run is\n"
          "recorded as 'interrupted'); a second Ctrl-C aborts.\n"
          "\n"
          "key=value overrides apply after the preset; run takes the keys\n"
          "below (sim.*, core.*, energy.*, map.*, preset.*, noc.*) and\n"
          "refuses the others (train.*, synth.*, traffic.*: other commands').\n"
          "The run row and its configuration record the mesh used (noc.width,\n"
          "noc.height) and the cores the mapping uses (run.cores).  Options:\n",
          MODEL_DEFAULT_PRESET, RUN_JOBS_MAX);
  cli_common_help(cm, c, out);
}

/* The trainer's quantized test accuracy stored in the model's metadata
 * (metadata.accuracy_quant), or -1 when absent. */
static double stored_accuracy(const struct model *m) {
  json_t *v = m->metadata ? json_object_get(m->metadata, "accuracy_quant") : NULL;
  return json_is_number(v) ? json_number_value(v) : -1;
}

/* What the frame loop's callback keeps. */
struct progress_ctx {
  struct run_totals t;
  struct run_compare *cmp;
  struct cli_progress bar;
  int tie_rule;
  uint64_t t_frame;          /* ns, the current frame's start */
};

static void on_frame(void *ctx, size_t i, const struct run_frame *f) {
  struct progress_ctx *x = ctx;
  run_totals_add(&x->t, f, x->tie_rule);
  if (x->cmp)
    run_compare_note(x->cmp, i, f, x->tie_rule);
  cli_progress_draw(&x->bar, i + 1, NULL, 0);
}

/* The layers' counters summed over the threads' hardware (--jobs). */
static void print_layers(const struct model *m, struct run_sim *const *rs,
                         size_t nj, double dn) {
  const struct model_map *mp = run_sim_map(rs[0]);
  printf("\nper layer, mean per frame:\n");
  printf("  %-5s %-12s %8s %9s %9s %11s %9s %9s %9s\n", "layer", "type",
         "neurons", "fired", "spikes", "SOPs in", "late in", "dropped",
         "perturbed");
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    struct core_layer_stats sum = {0}, *st = &sum;
    for (size_t j = 0; j < nj; j++) {
      const struct core_layer_stats *s = core_array_stats(run_sim_cores(rs[j]), l);
      sum.fired += s->fired;
      sum.sent += s->sent;
      sum.sops += s->sops;
      sum.late_spikes += s->late_spikes;
      sum.dropped += s->dropped;
      sum.perturbed += s->perturbed;
    }
    const struct model_map_layer *L = &mp->layers[l];
    char type[32];
    const char *tn = L->model_layer < 0 ? "input"
                     : m->layers[L->model_layer].type == MODEL_CONV ? "conv"
                                                                    : "dense";
    if (L->pool > 1)
      snprintf(type, sizeof type, "%s+pool%d", tn, L->pool);
    else
      snprintf(type, sizeof type, "%s", tn);
    printf("  %-5u %-12s %8llu %9.1f %9.1f %11.1f %9.3f %9.3f %9.3f\n", l,
           type, (unsigned long long)L->channels * L->plane,
           (double)st->fired / dn, (double)st->sent / dn, (double)st->sops / dn,
           (double)st->late_spikes / dn, (double)st->dropped / dn,
           (double)st->perturbed / dn);
  }
}

/* How the static term was charged, for the energy line. */
static void static_text(const struct run_options *o, const struct run_sim *r,
                        char *buf, size_t len) {
  const struct core_energy_conf *ec = &o->energy;
  const struct model_map *mp = run_sim_map(r);
  struct core_chip chip = {mp->ngroups, mp->width * mp->height};
  if (ec->static_mode == CORE_STATIC_CHIP)
    snprintf(buf, len, "chip: (%u cores x %g mW + %u routers x %g mW) = %g "
             "mW x latency", chip.cores, ec->p_core_mw, chip.routers,
             ec->p_router_mw, core_chip_static_mw(ec, &chip));
  else if (ec->static_mode == CORE_STATIC_POWER)
    snprintf(buf, len, "static power %g mW x latency", ec->p_static_mw);
  else
    snprintf(buf, len, "per frame");
}

static void print_summary(const struct model *m, const struct run_options *o,
                          const struct run_sim *r, const struct run_totals *t,
                          const struct run_compare_result *cr, int labelled,
                          const char *data, double wall) {
  double dn = (double)t->frames;
  size_t n = t->frames;
  printf("network: %.1f packets, %.1f hops per frame\n",
         (double)t->packets / dn, (double)t->hops / dn);
  printf("timing: %zu frames with late spikes; %zu frames where arrival "
         "timing changed a spike time\n",
         t->frames_late, t->frames_perturbed);
  double stored = stored_accuracy(m);
  double acc = t->labelled ? 100.0 * t->correct / (double)t->labelled : 0;
  if (!labelled || !t->labelled)
    printf("accuracy: n/a (inputs %s have no labels), no decision: %zu", data,
           t->nodecision);
  else
    printf("accuracy: %.2f%% (%zu/%zu), no decision: %zu", acc, t->correct,
           t->labelled, t->nodecision);
  if (stored >= 0 && t->labelled)
    printf("; the model's stored %d-bit accuracy (trainer): %.2f%% (%+.2f "
           "points)",
           m->nlayers ? m->layers[0].bits : 0, 100.0 * stored,
           acc - 100.0 * stored);
  printf("\noutput ties: %zu frames with several outputs at the decision "
         "step; %zu decided by the lowest index (core.tie_rule=%s)\n",
         t->frames_tied, t->frames_index,
         o->core.tie_rule == CORE_TIE_INDEX ? "index" : "exact");
  if (cr)
    printf("reference forward (trainer, same model): %.2f%%; agreement "
           "%.2f%% (%zu/%zu); disagreements: %zu from arrival timing, %zu "
           "from step quantization only (%zu of them output ties decided by the "
           "lowest index)\n",
           100.0 * cr->ref_correct / dn, 100.0 * cr->agree / dn, cr->agree, n,
           cr->dis_late, cr->dis_quant, cr->dis_ties);
  printf("latency: %.3f us mean, first input spike to decision\n",
         t->lat_sum / dn * 1e-6);
  char st[160];
  static_text(o, r, st, sizeof st);
  printf("energy per frame: %.4f uJ = SOP %.4f uJ (%.1f pJ x %.0f SOPs) + "
         "hop %.4f uJ (%.1f pJ x %.0f hops) + static %.4f uJ (%s)\n",
         (t->e_sop + t->e_hop + t->e_static) / dn, t->e_sop / dn,
         o->energy.e_sop_pj, (double)t->sops / dn, t->e_hop / dn,
         o->energy.e_hop_pj, (double)t->hops / dn, t->e_static / dn, st);
  printf("speed: %.0f frames/s simulated (%.2f s of simulation, %.2f s "
         "wall)\n",
         dn / t->sim_secs, t->sim_secs, wall);
}

static void print_header(const char *model_path, const struct model *m,
                         const struct run_options *o, const char *arch,
                         size_t n) {
  printf("spikemesh run: model %s (%s, %d-bit), preset %s, %zu frames\n",
         model_path, m->arch, m->nlayers ? m->layers[0].bits : 0,
         o->preset.name[0] ? o->preset.name : arch, n);
  printf("  window %llu steps x %llu ps, SRAM %llu ps per %llu SOPs, noc %s "
         "%s routing, %s multicast\n",
         (unsigned long long)o->core.steps_per_window,
         (unsigned long long)o->core.step_ps, (unsigned long long)o->core.sop_ps,
         (unsigned long long)o->core.sop_lanes,
         o->noc.timing ? "clocked" : "async",
         noc_routing_get(o->noc.routing) ? noc_routing_get(o->noc.routing)->name
                                         : "?",
         o->noc.multicast ? "tree" : "unicast");
}

/* The arguments of a run. */
struct run_args {
  struct cli_common cm;
  const char *model, *data, *mapping;
  int compare, quiet, resume;
  uint64_t jobs; /* threads (--jobs) */
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct run_args *a,
                      struct sm_conf *c) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "run", CLI_F_ARCH | CLI_F_MESH | CLI_F_DB |
                                     CLI_F_DETAIL | CLI_F_FRAMES | CLI_F_KV);
  a->cm.keys = run_keys_run;
  a->data = TRAIN_DEFAULT_DATA;
  a->jobs = 1;
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
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--data") && i + 1 < argc) {
      a->data = argv[++i];
    } else if (!strcmp(s, "--mapping") && i + 1 < argc) {
      a->mapping = argv[++i];
    } else if (!strcmp(s, "--compare")) {
      a->compare = 1;
    } else if (!strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else if (!strcmp(s, "--resume")) {
      a->resume = 1;
    } else if (!strcmp(s, "--jobs") && i + 1 < argc) {
      const char *v = argv[++i];
      if (sm_parse_u64(v, &a->jobs) || a->jobs < 1 || a->jobs > RUN_JOBS_MAX) {
        cli_usage_error("run", "--jobs '%s': expected a number of threads, "
                        "1..%d", v, RUN_JOBS_MAX);
        return -1;
      }
    } else {
      cli_usage_error("run", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  if (a->resume && !a->cm.db) {
    cli_usage_error("run", "--resume needs --db FILE");
    return -1;
  }
  /* the file says where every group goes: the mapper's keys would be
   * ignored */
  for (int i = a->cm.first_kv; a->mapping && a->cm.first_kv && i < argc; i++)
    if (!strncmp(argv[i], "map.", 4) && strchr(argv[i], '=')) {
      cli_usage_error("run", "'%s': with --mapping the mapping is the file's; "
                      "map.* keys do not apply", argv[i]);
      return -1;
    }
  return 0;
}

int cli_cmd_run(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("run", &err);
  struct run_args a;
  int p = parse_args(argc, argv, &a, &c);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  uint32_t mesh_w, mesh_h;
  if (cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      run_options_mesh(&o, &mesh_w, &mesh_h, &err))
    return cli_report("run", &err);
  o.mapping = a.mapping;
  char mpath[1024];
  if (!a.model) {
    if (cli_default_model(mpath, sizeof mpath, &err))
      return cli_report("run", &err);
    a.model = mpath;
  }
  struct model *m = NULL;
  struct train_data d = {0};
  if (model_load(a.model, &m, &err))
    return cli_report("run", &err);
  int rc = CLI_EXIT_OK;
  struct run_sim *r = NULL;
  /* --jobs: thread j's hardware (rs[0] = r) and stream */
  struct run_sim *rs[RUN_JOBS_MAX] = {0};
  struct trace_stream *streams[RUN_JOBS_MAX] = {0};
  struct run_engine es[RUN_JOBS_MAX];
  size_t nj = 1;
  struct run_record rr = {.run_id = -1};
  struct progress_ctx x = {.tie_rule = o.core.tie_rule};
  /* one image at a time: BLAS threads would only add synchronisation */
  train_set_threads(1);
  /* the mapping refuses a model that does not fit before any data is read
   * or generated */
  if (run_sim_new(m, &o, mesh_w, mesh_h, &r, &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  int labelled = run_data_load(a.data, m, a.model, a.cm.frames, &d, &err);
  if (labelled < 0) {
    rc = cli_report("run", &err);
    goto out;
  }
  size_t n = a.cm.frames && a.cm.frames < d.n ? (size_t)a.cm.frames : d.n;
  /* no more threads than frames */
  nj = a.jobs < n ? (size_t)a.jobs : (n ? n : 1);
  rs[0] = r;
  for (size_t j = 1; j < nj; j++)
    if (run_sim_new(m, &o, mesh_w, mesh_h, &rs[j], &err)) {
      rc = cli_report("run", &err);
      goto out;
    }
  if (run_clock_check(&o.core, run_sim_map(r)->nlayers, n, &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  struct run_sim_row row = {
      .db = a.cm.db, .resume = a.resume, .detail = a.cm.detail,
      .model = a.model, .data = a.data, .frames = n};
  if (a.cm.db && run_sim_record_open(&rr, &row, &c, &o, r, &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  if (a.resume)
    printf("resuming run %lld of %s at frame %zu (frames before it are "
           "simulated again without recording)\n",
           (long long)rr.run_id, a.cm.db, rr.first_frame);
  if (rr.db && rr.took_over) {
    char who[400];
    trace_holder_text(&rr.was, who, sizeof who);
    printf("run %lld was claimed by %s, which is gone; taken over\n",
           (long long)rr.run_id, who);
  }
  atomic_int *stop = cli_stop_install(NULL);
  print_header(a.model, m, &o, a.cm.arch, n);
  if (a.mapping)
    printf("  mapping from %s\n", a.mapping);
  if (!a.quiet)
    model_map_print(run_sim_map(r), m, stdout);
  if (a.compare)
    x.cmp = run_compare_start(m, &d, n);
  for (size_t j = 0; j < nj; j++) {
    run_sim_engine(rs[j], &d, &es[j]);
    if (rr.ts)
      streams[j] = j ? trace_stream_open(rr.db, rr.run_id) : rr.ts;
  }
  struct run_loop loop = {.e = &es[0], .n = n, .first_rec = rr.first_frame,
                          .ts = rr.ts, .db = rr.db, .detail = a.cm.detail,
                          .stop = stop,
                          .on_frame = on_frame, .ctx = &x};
  cli_progress_init(&x.bar, n, "frames", !a.quiet);
  uint64_t t_start = sm_now_ns();
  size_t done;
  int lr = run_loop_jobs(&loop, es, streams, nj, &done, &err);
  for (size_t j = 1; j < nj; j++) {
    trace_stream_close(streams[j]);
    streams[j] = NULL;
  }
  x.t.sim_secs = (double)(sm_now_ns() - t_start) * 1e-9;
  cli_progress_end(&x.bar, done);
  cli_stop_remove();
  if (lr && lr != SM_EINTR) {
    rc = cli_report("run", &err);
    goto out;
  }
  if (lr == SM_EINTR) {
    fprintf(stderr, "\nspikemesh run: interrupted after %zu of %zu frames%s\n",
            done, n, rr.db ? " (recorded as 'interrupted'; --resume continues)"
                           : "");
    rc = CLI_EXIT_FAIL;
  }
  if (rr.db && run_record_close(&rr, lr ? "interrupted" : "complete", &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  if (done == 0)
    goto out;
  struct run_compare_result cr;
  if (x.cmp && run_compare_finish(x.cmp, done, &cr, &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  print_layers(m, rs, nj, (double)done);
  print_summary(m, &o, r, &x.t, x.cmp ? &cr : NULL, labelled, a.data,
                (double)(sm_now_ns() - t_start) * 1e-9);
out:
  for (size_t j = 1; j < nj; j++) {
    trace_stream_close(streams[j]);
    run_sim_free(rs[j]);
  }
  run_record_close(&rr, "failed", NULL);
  run_compare_free(x.cmp);
  run_sim_free(r);
  train_data_free(&d);
  model_free(m);
  return rc;
}
