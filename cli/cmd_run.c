/*
 * cmd_run.c -- `spikemesh run`: spike-by-spike inference of a model on a
 * mapped mesh of cores, frame after frame over a test set, with per-layer
 * spikes, SOPs, late spikes, the network's hops, accuracy, per-frame
 * energy by term and frames/s.  With --compare, each frame's prediction
 * is also compared with the trainer's reference forward of the same model
 * (its quantized evaluation), computed on a second thread while the
 * simulation runs, and each disagreement is attributed either to arrival
 * timing (some neuron's spike time was changed by a late or in-window
 * spike, or a spike was dropped: core_array_settle) or, when the frame ran
 * as an ideal network would, to step quantization.
 *
 * Rejected: the comparison by default (the reference rebuilds the network
 * for every image and costs about 4 ms per frame, several times the
 * simulation itself).
 */
#include "cli/cli.h"
#include "run/run.h"
#include "models/synth.h"
#include "trainer/train.h"

#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define DEFAULT_MODEL "fmnist-mlp.json"
#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

static void usage(FILE *out, struct sm_conf *c) {
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
          "  --model FILE      model file [models/" DEFAULT_MODEL "]\n"
          "  --arch PRESET|FILE  architecture preset name or JSON file [%s]\n"
          "  --mesh WxH|auto   mesh size; auto = smallest square that fits "
          "[auto]\n"
          "  --frames N        run the first N test frames [all]\n"
          "  --data DIR        directory with t10k-{images-idx3,labels-idx1}-"
          "ubyte[.gz]\n"
          "                    [" DEFAULT_DATA "],\n"
          "                    or synthetic:SEED: generated images of the\n"
          "                    model's input shape, no labels (--frames,\n"
          "                    default 10; see spikemesh synth)\n"
          "  --compare         compare every prediction with the trainer's\n"
          "                    reference forward (a second thread)\n"
          "  --quiet           no mapping table and no progress bar\n"
          "  --db FILE         record into this SQLite database (created if\n"
          "                    needed; schema in doc/recorder.md)\n"
          "  --detail LEVEL    what to record: " TRACE_DETAIL_CHOICES " [summary]\n"
          "  --resume          continue the newest unfinished run in --db (same\n"
          "                    options): its frames are simulated again without\n"
          "                    recording, then recording goes on from there\n"
          "\n"
          "Ctrl-C stops after the current frame (the run is recorded as\n"
          "'interrupted'); a second Ctrl-C aborts.\n"
          "\n"
          "key=value overrides apply after the preset.  Options:\n",
          MODEL_DEFAULT_PRESET);
  sm_conf_print_help(c, out);
}

static int find_model(char *path, size_t len) {
  const char *dirs[] = {SM_SRCDIR "/models", SM_DATADIR};
  for (size_t i = 0; i < SM_ARRAY_LEN(dirs); i++) {
    snprintf(path, len, "%s/%s", dirs[i], DEFAULT_MODEL);
    if (access(path, R_OK) == 0)
      return 0;
  }
  return -1;
}

/* The trainer's quantized test accuracy stored in the model's metadata
 * (metadata.accuracy_quant), or -1 when absent. */
static double stored_accuracy(const struct model *m) {
  json_t *v = m->metadata ? json_object_get(m->metadata, "accuracy_quant") : NULL;
  return json_is_number(v) ? json_number_value(v) : -1;
}

static int parse_mesh(const char *s, uint32_t *w, uint32_t *h) {
  if (!strcmp(s, "auto")) {
    *w = *h = 0;
    return 0;
  }
  char *end;
  unsigned long a = strtoul(s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X'))
    return -1;
  const char *p = end + 1;
  unsigned long b = strtoul(p, &end, 10);
  if (end == p || *end || a < 1 || b < 1 || a > MODEL_MAP_MAX_SIDE ||
      b > MODEL_MAP_MAX_SIDE)
    return -1;
  *w = (uint32_t)a;
  *h = (uint32_t)b;
  return 0;
}

/* The reference predictions, computed on a worker thread. */
struct refjob {
  const struct model *m;
  const struct train_data *d;
  size_t n;
  int *pred;       /* [n] */
  int failed;
  struct sm_err err;
};

static void ref_worker(void *arg) {
  struct refjob *j = arg;
  size_t img = (size_t)j->d->c * (size_t)j->d->h * (size_t)j->d->w;
  for (size_t i = 0; i < j->n; i++)
    if (train_model_forward(j->m, j->d->images + i * img, NULL, &j->pred[i],
                            &j->err)) {
      j->failed = 1;
      return;
    }
}

static void progress(size_t done, size_t total, double secs) {
  int width = 40, fill = (int)((double)done / (double)total * width);
  fprintf(stderr, "\r  [%.*s%*s] %zu/%zu frames, %.0f frames/s ", fill,
          "########################################", width - fill, "", done,
          total, secs > 0 ? (double)done / secs : 0.0);
  if (done == total)
    fputc('\n', stderr);
  fflush(stderr);
}

/* Ctrl-C: the frame loop stops after the current frame.  SA_RESETHAND
 * restores the default action, so a second Ctrl-C aborts. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* The run row's configuration: every option plus the run's own inputs, so
 * that --resume can tell the same run from another one. */
static char *run_config_json(const struct sm_conf *c, const char *model,
                             const char *data, uint32_t w, uint32_t h,
                             uint64_t frames) {
  json_t *j = sm_conf_to_json(c);
  json_object_set_new(j, "run.model", json_string(model));
  json_object_set_new(j, "run.data", json_string(data));
  json_object_set_new(j, "run.mesh_width", json_integer((json_int_t)w));
  json_object_set_new(j, "run.mesh_height", json_integer((json_int_t)h));
  json_object_set_new(j, "run.frames", json_integer((json_int_t)frames));
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  return s;
}

int cli_cmd_run(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("run", &err);
  const char *model_path = NULL, *arch = MODEL_DEFAULT_PRESET,
             *data = DEFAULT_DATA;
  uint32_t mesh_w = 0, mesh_h = 0;
  uint64_t frames = 0;
  int reference = 0, quiet = 0, resume = 0;
  const char *db_path = NULL;
  enum trace_detail detail = TRACE_SUMMARY;
  int first_kv = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout, &c);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--model") && i + 1 < argc) {
      model_path = argv[++i];
    } else if (!strcmp(a, "--arch") && i + 1 < argc) {
      arch = argv[++i];
    } else if (!strcmp(a, "--data") && i + 1 < argc) {
      data = argv[++i];
    } else if (!strcmp(a, "--mesh") && i + 1 < argc) {
      if (parse_mesh(argv[++i], &mesh_w, &mesh_h))
        return cli_usage_error("run", "--mesh '%s': expected WxH (1..%d) or auto",
                               argv[i], MODEL_MAP_MAX_SIDE);
    } else if (!strcmp(a, "--frames") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &frames) || frames == 0)
        return cli_usage_error("run", "--frames '%s': expected a count >= 1",
                               argv[i]);
    } else if (!strcmp(a, "--compare")) {
      reference = 1;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "--db") && i + 1 < argc) {
      db_path = argv[++i];
    } else if (!strcmp(a, "--detail") && i + 1 < argc) {
      if (trace_detail_parse(argv[++i], &detail))
        return cli_usage_error("run", "--detail '%s': expected one of "
                               TRACE_DETAIL_CHOICES, argv[i]);
    } else if (!strcmp(a, "--resume")) {
      resume = 1;
    } else if (strchr(a, '=') && a[0] != '-') {
      if (first_kv == argc)
        first_kv = i;
    } else {
      return cli_usage_error("run", "unknown or incomplete option '%s'", a);
    }
  }
  /* defaults, then the preset, then key=value in order */
  char preset[1024];
  if (model_preset_path(arch, preset, sizeof preset, &err) ||
      sm_conf_load_file(&c, preset, &err))
    return cli_report("run", &err);
  for (int i = first_kv; i < argc; i++)
    if (strchr(argv[i], '=') && argv[i][0] != '-' &&
        sm_conf_set(&c, argv[i], "command line", &err))
      return cli_report("run", &err);
  if (resume && !db_path)
    return cli_usage_error("run", "--resume needs --db FILE");
  char mpath[1024];
  if (!model_path) {
    if (find_model(mpath, sizeof mpath))
      return cli_usage_error("run",
                             "no --model given and %s not found in %s/models "
                             "or %s",
                             DEFAULT_MODEL, SM_SRCDIR, SM_DATADIR);
    model_path = mpath;
  }
  struct model *m = NULL;
  if (model_load(model_path, &m, &err))
    return cli_report("run", &err);
  struct train_data d;
  memset(&d, 0, sizeof d);
  /* synthetic inputs (cli/synth.c): no labels, so no accuracy */
  int not_synth = run_synth_data(data, m, frames ? (size_t)frames : 10, &d,
                                 &err);
  if (not_synth < 0 || (not_synth && train_data_load_dir(data, 1, &d, &err))) {
    model_free(m);
    return cli_report("run", &err);
  }
  int rc = CLI_EXIT_OK;
  struct run_sim *r = NULL;
  struct refjob job = {.m = m, .d = &d};
  uv_thread_t ref_thread;
  int ref_running = 0;
  int *preds = NULL;
  uint8_t *timing = NULL;
  struct trace_db *db = NULL;
  struct trace_stream *ts = NULL;
  struct run_rec *rec = NULL;
  int64_t run_id = -1, first_rec = 0;
  struct sigaction sa_old;
  int sig_installed = 0, ended = 0;
  /* one image at a time: BLAS threads would only add synchronisation */
  train_set_threads(1);
  size_t img = (size_t)d.c * (size_t)d.h * (size_t)d.w;
  if (img != (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w) {
    sm_fail(&err, SM_EINVAL, "%s: input %dx%dx%d, but %s has %dx%dx%d images",
            model_path, m->in_c, m->in_h, m->in_w, data, d.c, d.h, d.w);
    rc = cli_report("run", &err);
    goto out;
  }
  if (run_sim_new(m, &o, mesh_w, mesh_h, &r, &err)) {
    rc = cli_report("run", &err);
    goto out;
  }
  size_t n = frames && frames < d.n ? (size_t)frames : d.n;
  const struct model_map *mp = run_sim_map(r);
  if (db_path) { /* recording: the run row, or the run to resume */
    char *cfg = run_config_json(&c, model_path, data, mesh_w, mesh_h,
                                (uint64_t)n);
    char hash[17];
    int e = run_file_digest(model_path, hash, &err);
    if (!e)
      e = trace_db_open(db_path, &db, &err);
    if (!e && resume) {
      int found = trace_run_resume(db, "run", cfg, &run_id, &first_rec, &err);
      e = found < 0 ? found : 0;
      if (!found)
        e = sm_fail(&err, SM_EINVAL, "%s: no unfinished run to resume",
                    db_path);
      else if (!e)
        printf("resuming run %lld of %s at frame %lld (frames before it are "
               "simulated again without recording)\n",
               (long long)run_id, db_path, (long long)first_rec);
    } else if (!e) {
      struct trace_run_info info = {.kind = "run",
                                    .config_json = cfg,
                                    .model_path = model_path,
                                    .model_hash = hash,
                                    .detail = trace_detail_name(detail),
                                    .seed = o.sim.seed,
                                    .frames_planned = (int64_t)n};
      e = trace_run_begin(db, &info, &run_id, &err);
    }
    free(cfg);
    if (e) {
      rc = cli_report("run", &err);
      goto out;
    }
    ts = trace_stream_open(db, run_id);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sig_installed = sigaction(SIGINT, &sa, &sa_old) == 0;
  }
  printf("spikemesh run: model %s (%s, %d-bit), preset %s, %zu frames\n",
         model_path, m->arch, m->nlayers ? m->layers[0].bits : 0,
         o.preset.name[0] ? o.preset.name : arch, n);
  printf("  window %llu steps x %llu ps, SRAM %llu ps per %llu SOPs, noc %s "
         "%s routing, %s multicast\n",
         (unsigned long long)o.core.steps_per_window,
         (unsigned long long)o.core.step_ps, (unsigned long long)o.core.sop_ps,
         (unsigned long long)o.core.sop_lanes,
         o.noc.timing ? "clocked" : "async",
         noc_routing_get(o.noc.routing) ? noc_routing_get(o.noc.routing)->name
                                        : "?",
         o.noc.multicast ? "tree" : "unicast");
  if (!quiet)
    model_map_print(mp, m, stdout);
  job.n = n;
  if (reference) {
    /* the reference allocates and frees its network per image: keep those
     * blocks on the heap instead of mapping and unmapping them each time */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    job.pred = sm_xmallocarray(n, sizeof *job.pred);
    preds = sm_xmallocarray(n, sizeof *preds);
    timing = sm_xcalloc(n, 1);
    if (uv_thread_create(&ref_thread, ref_worker, &job) == 0)
      ref_running = 1;
    else
      ref_worker(&job);
  }
  int tty = !quiet && isatty(2);
  size_t correct = 0, nodecision = 0, agree = 0, ref_correct = 0;
  size_t dis_late = 0, dis_quant = 0, dis_ties = 0, frames_late = 0,
         frames_perturbed = 0, frames_tied = 0, frames_index = 0;
  double e_sop = 0, e_hop = 0, e_static = 0, lat_sum = 0;
  uint64_t sops = 0, hops = 0, packets = 0;
  double sim_secs = 0;
  uint64_t t_start = sm_now_ns(), t_last = t_start;
  size_t done = 0;
  for (size_t i = 0; i < n && !interrupted; i++) {
    const uint8_t *image = d.images + i * img;
    struct run_frame f;
    uint64_t t0 = sm_now_ns();
    /* recording hooks: frames before first_rec were recorded already */
    if (ts && (int64_t)i == first_rec)
      rec = run_rec_new(r, ts, detail);
    if (rec)
      run_rec_frame_begin(rec, (int64_t)i);
    if (run_sim_frame(r, image, &f, &err)) {
      rc = cli_report("run", &err);
      goto out;
    }
    if (rec)
      run_rec_frame_end(rec, &f, d.labels[i]);
    done = i + 1;
    sim_secs += (double)(sm_now_ns() - t0) * 1e-9;
    correct += f.pred == d.labels[i];
    nodecision += f.pred < 0;
    frames_late += f.late_spikes > 0;
    frames_perturbed += f.perturbed > 0 || f.dropped > 0;
    frames_tied += f.tied > 1;
    /* ties the lowest index decided: all of them under the index rule,
     * exact ties of the crossing time under the exact rule */
    int by_index = o.core.tie_rule == CORE_TIE_INDEX ? f.tied > 1
                                                     : f.tied_exact > 1;
    frames_index += by_index;
    e_sop += f.energy.sop_uj;
    e_hop += f.energy.hop_uj;
    e_static += f.energy.static_uj;
    lat_sum += (double)f.latency_ps;
    sops += f.sops;
    hops += f.hops;
    packets += f.packets;
    if (reference) {
      timing[i] = (uint8_t)((f.perturbed > 0 || f.dropped > 0) |
                            (by_index ? 2 : 0));
      preds[i] = f.pred;
    }
    uint64_t now = sm_now_ns();
    if (tty && (now - t_last > 200000000ull || i + 1 == n)) {
      progress(i + 1, n, (double)(now - t_start) * 1e-9);
      t_last = now;
    }
  }
  if (interrupted) {
    fprintf(stderr, "\nspikemesh run: interrupted after %zu of %zu frames%s\n",
            done, n, db ? " (recorded as 'interrupted'; --resume continues)"
                        : "");
    n = done;
    rc = CLI_EXIT_FAIL;
  }
  if (ref_running) {
    uv_thread_join(&ref_thread);
    ref_running = 0;
  }
  if (db) {
    run_rec_free(rec);
    rec = NULL;
    trace_stream_close(ts);
    ts = NULL;
    ended = 1;
    if (trace_run_end(db, run_id, interrupted ? "interrupted" : "complete",
                      &err)) {
      rc = cli_report("run", &err);
      goto out;
    }
  }
  if (n == 0)
    goto out;
  /* the run's summary (an interrupted run: of the frames done) */
  if (reference) {
    if (job.failed) {
      rc = cli_report("run", &job.err);
      goto out;
    }
    for (size_t i = 0; i < n; i++) {
      ref_correct += job.pred[i] == d.labels[i];
      if (job.pred[i] == preds[i])
        agree++;
      else if (timing[i] & 1)
        dis_late++;
      else {
        dis_quant++;
        dis_ties += (timing[i] & 2) != 0;
      }
    }
  }
  double wall = (double)(sm_now_ns() - t_start) * 1e-9;
  double dn = (double)n;
  const struct core_array *ca = run_sim_cores(r);
  printf("\nper layer, mean per frame:\n");
  printf("  %-5s %-12s %8s %9s %9s %11s %9s %9s %9s\n", "layer", "type",
         "neurons", "fired", "spikes", "SOPs in", "late in", "dropped",
         "perturbed");
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    const struct core_layer_stats *st = core_array_stats(ca, l);
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
  printf("network: %.1f packets, %.1f hops per frame\n", (double)packets / dn,
         (double)hops / dn);
  printf("timing: %zu frames with late spikes; %zu frames where arrival "
         "timing changed a spike time\n",
         frames_late, frames_perturbed);
  if (!not_synth)
    printf("inputs: %s, no labels: accuracy below is meaningless\n", data);
  double stored = stored_accuracy(m);
  printf("accuracy: %.2f%% (%zu/%zu), no decision: %zu", 100.0 * correct / dn,
         correct, n, nodecision);
  if (stored >= 0)
    printf("; the model's stored %d-bit accuracy (trainer): %.2f%% (%+.2f "
           "points)",
           m->nlayers ? m->layers[0].bits : 0, 100.0 * stored,
           100.0 * correct / dn - 100.0 * stored);
  printf("\noutput ties: %zu frames with several outputs at the decision "
         "step; %zu decided by the lowest index (core.tie_rule=%s)\n",
         frames_tied, frames_index,
         o.core.tie_rule == CORE_TIE_INDEX ? "index" : "exact");
  if (reference)
    printf("reference forward (trainer, same model): %.2f%%; agreement "
           "%.2f%% (%zu/%zu); disagreements: %zu from arrival timing, %zu "
           "from step quantization only (%zu of them output ties decided by the "
           "lowest index)\n",
           100.0 * ref_correct / dn, 100.0 * agree / dn, agree, n, dis_late,
           dis_quant, dis_ties);
  printf("latency: %.3f us mean, first input spike to decision\n",
         lat_sum / dn * 1e-6);
  printf("energy per frame: %.4f uJ = SOP %.4f uJ (%.1f pJ x %.0f SOPs) + "
         "hop %.4f uJ (%.1f pJ x %.0f hops) + static %.4f uJ (%s)\n",
         (e_sop + e_hop + e_static) / dn, e_sop / dn, o.energy.e_sop_pj,
         (double)sops / dn, e_hop / dn, o.energy.e_hop_pj, (double)hops / dn,
         e_static / dn,
         o.energy.static_mode == CORE_STATIC_POWER ? "static power x latency"
                                                   : "per frame");
  printf("speed: %.0f frames/s simulated (%.2f s of simulation, %.2f s "
         "wall)\n",
         dn / sim_secs, sim_secs, wall);
out:
  if (ref_running)
    uv_thread_join(&ref_thread);
  run_rec_free(rec);
  trace_stream_close(ts);
  if (db && run_id >= 0 && !ended)
    trace_run_end(db, run_id, "failed", NULL);
  if (db) {
    struct sm_err cerr = {0};
    if (trace_db_close(db, &cerr) && rc == CLI_EXIT_OK)
      rc = cli_report("run", &cerr);
  }
  if (sig_installed)
    sigaction(SIGINT, &sa_old, NULL);
  free(job.pred);
  free(preds);
  free(timing);
  run_sim_free(r);
  train_data_free(&d);
  model_free(m);
  return rc;
}
