/*
 * cmd_energy.c -- `spikemesh energy`: check energy claims.
 *
 *   energy theory   the paper's Eq. 11, E = E_static x Latency +
 *                   E_dynamic x Spikes, normalized to a baseline row, over a
 *                   table of (time steps, spikes) rows (the shipped
 *                   models/paper/table2.json by default).
 *   energy frame    Eq. 12, E = E_SOP x SOPs + E_Hop x Hops + E_static, from
 *                   counts given with explicit units (71M, 20pJ, 3.52uJ) and
 *                   the coefficients of a preset or of key=value overrides.
 *
 * The normalization of Eq. 11 that reproduces the paper's Table 2 is per
 * term: E_norm = E_static x L / L_base + E_dynamic x S / S_base (equal to
 * the ratio of Eq. 11 when spikes are counted in units of S_base / L_base,
 * and E_static + E_dynamic = 1 for both architectures).  The plain ratio of
 * Eq. 11 with spikes in millions gives 0.3115 for DTA-TTFS on TrueNorth, not
 * the printed 0.1987.  doc/energy.md has the derivation.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <math.h>
#include <string.h>

/* ---- theory ------------------------------------------------------------- */

static void theory_usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh energy theory [OPTIONS]\n"
          "\n"
          "Eq. 11 of the paper, E = E_static x Latency + E_dynamic x Spikes,\n"
          "normalized per term to a baseline row:\n"
          "  E_norm = E_static x L / L_base + E_dynamic x S / S_base\n"
          "for every row of a table of (time steps, spikes), for each\n"
          "architecture's (E_static, E_dynamic).  Printed values in the table\n"
          "are shown beside the computed ones.\n"
          "\n"
          "Options:\n"
          "  --table FILE        rows and architectures (JSON) [table2.json in\n"
          "                      the data directory's paper/: spikemesh --help]\n"
          "  --baseline NAME     the row to normalize to [the table's "
          "\"baseline\"]\n"
          "  --arch NAME=ES,ED   add an architecture with user coefficients\n"
          "                      (repeatable), e.g. --arch mychip=0.5,0.5\n"
          "  --printed-spikes    use the spike column as printed (3 decimals)\n"
          "                      even where the table gives unrounded values\n"
          "  --json              one JSON object per row\n");
}

int cli_energy_theory(int argc, char **argv) {
  char table[1024];
  const char *baseline = NULL;
  int json = 0, printed_spikes = 0, table_given = 0;
  struct core_theory_arch extra[8];
  size_t nextra = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      theory_usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--printed-spikes")) {
      printed_spikes = 1;
    } else if (i + 1 < argc && !strcmp(a, "--table")) {
      snprintf(table, sizeof table, "%s", argv[++i]);
      table_given = 1;
    } else if (i + 1 < argc && !strcmp(a, "--baseline")) {
      baseline = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--arch")) {
      const char *spec = argv[++i];
      const char *eq = strchr(spec, '='), *comma = eq ? strchr(eq, ',') : NULL;
      char es[64], ed[64];
      struct core_theory_arch *t = &extra[nextra];
      if (nextra == SM_ARRAY_LEN(extra) || !eq || !comma || eq == spec ||
          (size_t)(eq - spec) >= sizeof t->name ||
          (size_t)(comma - eq - 1) >= sizeof es || strlen(comma + 1) >= sizeof ed)
        return cli_usage_error("energy theory",
                               "--arch '%s': expected NAME=E_STATIC,E_DYNAMIC "
                               "(at most 8)",
                               spec);
      memcpy(t->name, spec, (size_t)(eq - spec));
      t->name[eq - spec] = '\0';
      memcpy(es, eq + 1, (size_t)(comma - eq - 1));
      es[comma - eq - 1] = '\0';
      strcpy(ed, comma + 1);
      if (sm_parse_double(es, &t->es) || sm_parse_double(ed, &t->ed) ||
          t->es < 0 || t->ed < 0)
        return cli_usage_error("energy theory",
                               "--arch '%s': coefficients must be numbers >= 0",
                               spec);
      nextra++;
    } else {
      return cli_usage_error("energy theory", "unknown or incomplete option '%s'",
                             a);
    }
  }

  struct sm_err err = {0};
  if (!table_given && model_paper_path("table2", table, sizeof table, &err))
    return cli_report("energy theory", &err);
  struct core_theory t;
  if (core_theory_load(table, extra, nextra, baseline, printed_spikes, &t,
                       &err))
    return cli_report("energy theory", &err);
  const struct core_theory_row *rows = t.rows, *b = &t.rows[t.base];
  if (!json) {
    printf("Eq. 11 normalized to '%s' (E_norm = Es x L/%g + Ed x S/%g)\n\n",
           b->coding, b->steps, b->spikes);
    printf("%-12s %6s %10s", "coding", "steps", "spikes/1e6");
    for (size_t a = 0; a < t.narch; a++)
      printf("  %11s %8s", t.arch[a].name, "printed");
    printf("\n");
  }
  for (size_t i = 0; i < t.nrows; i++) {
    if (json)
      printf("{\"coding\":\"%s\",\"time_steps\":%g,\"spikes_1e6\":%g",
             rows[i].coding, rows[i].steps, rows[i].spikes);
    else
      printf("%-12s %6g %10g", rows[i].coding, rows[i].steps, rows[i].spikes);
    for (size_t a = 0; a < t.narch; a++) {
      double e = core_theory_eval(&t, i, a);
      if (json) {
        printf(",\"%s\":%.6f", t.arch[a].name, e);
        if (rows[i].has_printed[a])
          printf(",\"%s_printed\":%g", t.arch[a].name, rows[i].printed[a]);
      } else if (rows[i].has_printed[a]) {
        printf("  %11.4f %8.4f", e, rows[i].printed[a]);
      } else {
        printf("  %11.4f %8s", e, "-");
      }
    }
    printf(json ? "}\n" : "\n");
  }
  core_theory_free(&t);
  return CLI_EXIT_OK;
}

/* ---- frame -------------------------------------------------------------- */

static void frame_usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh energy frame --sops N --hops N [OPTIONS] "
          "[key=value...]\n"
          "       spikemesh energy frame --db FILE[:RUN] [--per-frame] "
          "[OPTIONS]\n"
          "\n"
          "Eq. 12 of the paper for one frame:\n"
          "  E_total = E_SOP x SOPs + E_Hop x Hops + E_static\n"
          "The coefficients come from a preset (--arch), then energy.* keys\n"
          "(numbers in the unit the key names: energy.e_sop_pj=20 is 20 pJ),\n"
          "then --e-sop, --e-hop, --e-static.\n"
          "Counts take the prefixes k, M, G (71M, 45.4M, 3k; not m, which\n"
          "is milli).  Energies and the latency must carry their unit, a bare\n"
          "number other than 0 is refused: energies fJ pJ nJ uJ mJ J, the\n"
          "latency ps ns us ms s (u or the micro sign; prefixes are\n"
          "case-checked: 3MJ is refused, not read as 3 mJ).\n"
          "\n"
          "Options:\n"
          "  --sops N          synaptic operations per frame (the paper's\n"
          "                    'Spikes' in Eq. 12); --spikes is a synonym\n"
          "  --hops N          link traversals per frame\n"
          "  --latency T       frame latency with unit, e.g. 21.45us (needed\n"
          "                    and used only when energy.static_mode=power\n"
          "                    or chip)\n"
          "  --cores N         cores the mapping uses (needed and used only\n"
          "                    when energy.static_mode=chip)\n"
          "  --routers N       routers of the mesh, width x height (needed\n"
          "                    and used only when energy.static_mode=chip)\n"
          "  --arch PRESET     preset name or file [paper-22nm]\n"
          "  --e-sop E         energy per SOP with unit, e.g. 20pJ\n"
          "                    (as energy.e_sop_pj, in pJ)\n"
          "  --e-hop E         energy per hop with unit, e.g. 0.1nJ\n"
          "                    (as energy.e_hop_pj, in pJ)\n"
          "  --e-static E      static energy per frame with unit, e.g. 3.52uJ\n"
          "                    (as energy.e_static_uj, in uJ; sets\n"
          "                    energy.static_mode=per_frame)\n"
          "  --claim E         a claimed energy per frame with unit, e.g.\n"
          "                    50.36uJ: computed / claimed is printed (with\n"
          "                    --db: the run's mean recomputed per frame)\n"
          "  --db FILE[:RUN]   Eq. 12 over every frame of a recorded run (the\n"
          "                    newest run by default): mean per term, the\n"
          "                    distribution, and the sum against the recorded\n"
          "                    one.  Coefficients are the run's own unless\n"
          "                    --arch, --e-* or energy.* overrides are given\n"
          "                    (a what-if); with its own they must agree.\n"
          "                    Counts and latencies are the run's: no --sops,\n"
          "                    --hops or --latency with it.  A replay has no\n"
          "                    cores: its SOP term is n/a, its E_total hop +\n"
          "                    static, and --claim is refused for it\n"
          "  --per-frame       with --db: one line per frame\n"
          "  --json            print one JSON object\n"
          "\n"
          "E_static by energy.static_mode: per_frame, energy.e_static_uj; power,\n"
          "energy.p_static_mw x latency; chip, (cores x energy.p_core_mw +\n"
          "routers x energy.p_router_mw) x latency (with --db: the run's own\n"
          "cores and mesh, run.cores and run.mesh_width x run.mesh_height of\n"
          "its configuration).  key=value takes energy.* and preset.* only.\n");
}

static const char *static_mode_name(int mode) {
  return mode == CORE_STATIC_CHIP    ? "chip"
         : mode == CORE_STATIC_POWER ? "power"
                                     : "per_frame";
}

/* "FILE" or "FILE:RUN" -> path and run (-1: none given). */
static void split_db_spec(const char *spec, char *path, size_t len,
                          int64_t *run) {
  *run = -1;
  snprintf(path, len, "%s", spec);
  char *colon = strrchr(path, ':');
  if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
    *colon = '\0';
    sm_parse_i64(colon + 1, run);
  }
}

/* A replay has no cores: its SOP count and SOP term are "n/a" (none),
 * never 0. */
static void print_per_frame(const struct run_energy_db *d) {
  printf("%8s %12s %10s %12s %12s %12s %12s %12s\n", "frame", "SOPs", "hops",
         "latency_us", "sop_uj", "hop_uj", "static_uj", "total_uj");
  for (size_t i = 0; i < d->n; i++) {
    const struct trace_frame_row *f = &d->f[i];
    const struct core_energy *e = &d->e[i];
    char sops[24] = "n/a", sop[24] = "n/a";
    if (!d->no_sops) {
      snprintf(sops, sizeof sops, "%lld", (long long)f->sops);
      snprintf(sop, sizeof sop, "%.4f", e->sop_uj);
    }
    printf("%8lld %12s %10lld %12.3f %12s %12.4f %12.4f %12.4f\n",
           (long long)f->frame, sops, (long long)f->hops,
           (double)f->latency * 1e-6, sop, e->hop_uj, e->static_uj,
           e->total_uj);
  }
}

/* claim_uj < 0: none; else compared with the mean recomputed per frame. */
static void print_db_energy(const char *path, int json, double claim_uj,
                            const struct run_energy_db *d) {
  size_t n = d->n;
  const struct core_energy_conf *ec = &d->ec;
  double mean = d->s_total / (double)n;
  char sop[32] = "null";
  if (!d->no_sops)
    snprintf(sop, sizeof sop, "%.6f", d->s_sop / n);
  if (json) {
    printf("{\"db\":\"%s\",\"run\":%lld,\"kind\":\"%s\",\"frames\":%zu,"
           "\"e_sop_pj\":%g,\"e_hop_pj\":%g,\"mean_sop_uj\":%s,"
           "\"mean_hop_uj\":%.6f,\"mean_static_uj\":%.6f,"
           "\"mean_total_uj\":%.6f,\"min_uj\":%.6f,\"p50_uj\":%.6f,"
           "\"p99_uj\":%.6f,\"max_uj\":%.6f,\"sum_uj\":%.6f,"
           "\"recorded_sum_uj\":%.6f,\"max_frame_diff_uj\":%.3g,"
           "\"coefficients\":\"%s\",\"static_mode\":\"%s\"",
           path, (long long)d->run, d->kind, n, ec->e_sop_pj, ec->e_hop_pj,
           sop, d->s_hop / n, d->s_static / n, mean, d->min, d->p50, d->p99,
           d->max, d->s_total, d->rec_total, d->maxdiff,
           d->own ? "run" : "given", static_mode_name(ec->static_mode));
    if (ec->static_mode == CORE_STATIC_CHIP)
      printf(",\"cores\":%u,\"routers\":%u,\"p_core_mw\":%g,"
             "\"p_router_mw\":%g",
             d->chip.cores, d->chip.routers, ec->p_core_mw, ec->p_router_mw);
    if (claim_uj >= 0)
      printf(",\"claim_uj\":%.6f,\"ratio\":%.6f", claim_uj, mean / claim_uj);
    printf("}\n");
    return;
  }
  printf("Eq. 12 over run %lld of %s: %zu frames, %s coefficients "
         "(E_SOP %g pJ, E_Hop %g pJ)\n",
         (long long)d->run, path, n, d->own ? "the run's" : "the given",
         ec->e_sop_pj, ec->e_hop_pj);
  if (ec->static_mode == CORE_STATIC_CHIP)
    printf("  static: chip, (%u cores x %g mW + %u routers x %g mW) = %g mW x "
           "each frame's latency\n",
           d->chip.cores, ec->p_core_mw, d->chip.routers, ec->p_router_mw,
           core_chip_static_mw(ec, &d->chip));
  else if (ec->static_mode == CORE_STATIC_POWER)
    printf("  static: power, %g mW x each frame's latency\n", ec->p_static_mw);
  else
    printf("  static: per frame, %g uJ\n", ec->e_static_uj);
  if (d->no_sops) {
    printf("  a replay: no cores, so no SOPs; E_total is hop + static only\n");
    snprintf(sop, sizeof sop, "n/a");
  } else {
    snprintf(sop, sizeof sop, "%.4f", d->s_sop / n);
  }
  printf("  mean per frame: SOP %s + hop %.4f + static %.4f = %.4f uJ\n", sop,
         d->s_hop / n, d->s_static / n, mean);
  printf("  distribution of E_total: min %.4f, p50 %.4f, p99 %.4f, max "
         "%.4f uJ\n",
         d->min, d->p50, d->p99, d->max);
  printf("  sum over frames: %.6f uJ recomputed, %.6f uJ recorded (largest "
         "frame difference %.3g uJ)\n",
         d->s_total, d->rec_total, d->maxdiff);
  if (claim_uj >= 0)
    printf("  claimed per frame: %.4f uJ  (computed / claimed = %.4g, "
           "computed: the mean per frame)\n",
           claim_uj, mean / claim_uj);
}

/* Eq. 12 over the frames of a recorded run: per frame, mean and
 * distribution.  With the run's own coefficients (own != 0) the recomputed
 * terms must equal the recorded ones; otherwise it is a what-if under other
 * coefficients and both sums are shown. */
static int energy_from_db(const char *spec, struct run_options *o, int own,
                          int per_frame, int json, double claim_uj) {
  struct sm_err err = {0};
  char path[1024];
  int64_t run;
  split_db_spec(spec, path, sizeof path, &run);
  struct run_energy_db d;
  if (run_energy_db(path, run, own, &o->energy, &d, &err))
    return cli_report("energy frame", &err);
  if (d.no_sops && claim_uj >= 0) {
    run_energy_db_free(&d);
    return cli_usage_error("energy frame",
                           "--claim: run %lld of %s is a replay: without "
                           "cores it has no SOP term, so its energy is no "
                           "frame total to compare a claim with",
                           (long long)d.run, path);
  }
  if (per_frame && !json)
    print_per_frame(&d);
  print_db_energy(path, json, claim_uj, &d);
  run_energy_db_free(&d);
  if (own && !d.agree) {
    fprintf(stderr,
            "spikemesh energy frame: error: %s run %lld: the recorded energy "
            "terms differ from Eq. 12 on the recorded counts (by up to %.3g "
            "uJ in a frame)\n",
            path, (long long)d.run, d.maxdiff);
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

/* The arguments of `energy frame`; quantities < 0: not given. */
struct frame_args {
  struct cli_common cm;
  double sops, hops;       /* per frame */
  double cores, routers;   /* the chip (chip mode) */
  double latency_s, claim_j, e_sop, e_hop, e_static; /* s, J */
  int json, per_frame;
  int arch_given, energy_given; /* --arch, an energy.* key (what-if) */
};

/* --sops N, --e-hop E, ...: 1 taken, 0 not one of them, -1 a usage error
 * (reported).  Counts take k, M, G; energies and the latency need their
 * unit (a bare 0 is 0 in any). */
static int quantity_arg(struct frame_args *a, int argc, char **argv, int *i) {
  static const char *const units[] = {"fJ, pJ, nJ, uJ, mJ or J",
                                      "ps, ns, us, ms or s"};
  const struct {
    const char *opt, *unit, *eg, *key, *key_unit;
    double *v;
  } q[] = {{"--sops", "", "71M", NULL, NULL, &a->sops},
           {"--spikes", "", "71M", NULL, NULL, &a->sops},
           {"--hops", "", "45.4M", NULL, NULL, &a->hops},
           {"--cores", "", "22", NULL, NULL, &a->cores},
           {"--routers", "", "36", NULL, NULL, &a->routers},
           {"--latency", "s", "21.45us", NULL, NULL, &a->latency_s},
           {"--e-sop", "J", "20pJ", "energy.e_sop_pj", "pJ", &a->e_sop},
           {"--e-hop", "J", "0.1nJ", "energy.e_hop_pj", "pJ", &a->e_hop},
           {"--e-static", "J", "3.52uJ", "energy.e_static_uj", "uJ",
            &a->e_static},
           {"--claim", "J", "50.36uJ", NULL, NULL, &a->claim_j}};
  const char *s = argv[*i];
  for (size_t k = 0; k < SM_ARRAY_LEN(q); k++) {
    if (strcmp(s, q[k].opt))
      continue;
    if (*i + 1 >= argc) {
      cli_usage_error("energy frame", "%s needs a value", s);
      return -1;
    }
    const char *v = argv[++*i], *u = units[q[k].unit[0] == 's'];
    int r = sm_parse_scaled(v, q[k].unit, q[k].v);
    if ((r == 0 || (r == 1 && *q[k].v == 0)) && *q[k].v >= 0)
      return 1;
    if (!q[k].unit[0])
      cli_usage_error("energy frame",
                      "%s '%s': expected a count >= 0, optionally with k, M "
                      "or G (e.g. %s)%s",
                      s, v, q[k].eg,
                      strchr(v, 'm') ? "; a count takes no 'm' (milli)" : "");
    else if (r == 1 && q[k].key)
      cli_usage_error("energy frame",
                      "%s '%s': no unit: give one of %s (e.g. %s), or use "
                      "%s=%s, which is in %s",
                      s, v, u, q[k].eg, q[k].key, v, q[k].key_unit);
    else if (r == 1)
      cli_usage_error("energy frame", "%s '%s': no unit: give one of %s "
                      "(e.g. %s)", s, v, u, q[k].eg);
    else
      cli_usage_error("energy frame",
                      "%s '%s': expected a number >= 0 with a unit: %s "
                      "(e.g. %s)",
                      s, v, u, q[k].eg);
    return -1;
  }
  return 0;
}

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_frame_args(int argc, char **argv, struct frame_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "energy frame", CLI_F_ARCH | CLI_F_DB | CLI_F_KV);
  a->cm.keys = run_keys_energy;
  a->sops = a->hops = a->claim_j = a->latency_s = -1;
  a->cores = a->routers = -1;
  a->e_sop = a->e_hop = a->e_static = -1;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--arch"))
      a->arch_given = 1;
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (!t)
      t = quantity_arg(a, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    if (cli_is_help(s)) {
      frame_usage(stdout);
      return 1;
    } else if (!strcmp(s, "--json")) {
      a->json = 1;
    } else if (!strcmp(s, "--per-frame")) {
      a->per_frame = 1;
    } else {
      cli_usage_error("energy frame", "unknown option '%s'", s);
      return -1;
    }
  }
  for (int i = a->cm.first_kv; a->cm.first_kv && i < argc; i++)
    if (strchr(argv[i], '=') && argv[i][0] != '-' &&
        !strncmp(argv[i], "energy.", 7))
      a->energy_given = 1;
  if (a->claim_j == 0) {
    cli_usage_error("energy frame", "--claim 0: a claim of 0 has no ratio");
    return -1;
  }
  return 0;
}

/* --e-sop, --e-hop, --e-static over the preset and key=value. */
static void apply_coefficients(const struct frame_args *a,
                               struct core_energy_conf *ec) {
  if (a->e_sop >= 0)
    ec->e_sop_pj = a->e_sop * 1e12;
  if (a->e_hop >= 0)
    ec->e_hop_pj = a->e_hop * 1e12;
  if (a->e_static >= 0) {
    ec->e_static_uj = a->e_static * 1e6;
    ec->static_mode = CORE_STATIC_PER_FRAME;
  }
}

static void print_frame(const struct frame_args *a, const char *preset,
                        const struct core_energy_conf *ec,
                        const struct core_chip *chip,
                        const struct core_energy *e) {
  double claim_uj = a->claim_j * 1e6;
  if (a->json) {
    printf("{\"sops\":%.0f,\"hops\":%.0f,\"e_sop_pj\":%g,\"e_hop_pj\":%g,"
           "\"sop_uj\":%.6f,\"hop_uj\":%.6f,\"static_uj\":%.6f,"
           "\"total_uj\":%.6f",
           a->sops, a->hops, ec->e_sop_pj, ec->e_hop_pj, e->sop_uj, e->hop_uj,
           e->static_uj, e->total_uj);
    if (a->claim_j >= 0)
      printf(",\"claim_uj\":%.6f,\"ratio\":%.6f", claim_uj,
             e->total_uj / claim_uj);
    printf("}\n");
    return;
  }
  printf("Eq. 12 with %s:\n", preset);
  printf("  E_SOP    x SOPs  = %8g pJ x %-12.6g = %14.4f uJ  (%5.1f%%)\n",
         ec->e_sop_pj, a->sops, e->sop_uj, 100 * e->sop_uj / e->total_uj);
  printf("  E_Hop    x Hops  = %8g pJ x %-12.6g = %14.4f uJ  (%5.1f%%)\n",
         ec->e_hop_pj, a->hops, e->hop_uj, 100 * e->hop_uj / e->total_uj);
  if (ec->static_mode == CORE_STATIC_POWER)
    printf("  P_static x latency = %g mW x %g us     = %14.4f uJ  (%5.1f%%)\n",
           ec->p_static_mw, a->latency_s * 1e6, e->static_uj,
           100 * e->static_uj / e->total_uj);
  else if (ec->static_mode == CORE_STATIC_CHIP) {
    char w[96];
    snprintf(w, sizeof w, "  P_chip   x latency = %g mW x %g us",
             core_chip_static_mw(ec, chip), a->latency_s * 1e6);
    printf("  P_chip = %u cores x %g mW + %u routers x %g mW\n", chip->cores,
           ec->p_core_mw, chip->routers, ec->p_router_mw);
    printf("%-45s= %14.4f uJ  (%5.1f%%)\n", w, e->static_uj,
           100 * e->static_uj / e->total_uj);
  } else
    printf("  E_static (per frame)                       = %14.4f uJ  (%5.1f%%)\n",
           e->static_uj, 100 * e->static_uj / e->total_uj);
  printf("  E_total                                    = %14.4f uJ\n",
         e->total_uj);
  if (a->claim_j >= 0)
    printf("  claimed                                    = %14.4f uJ  "
           "(computed / claimed = %.4g)\n",
           claim_uj, e->total_uj / claim_uj);
}

int cli_energy_frame(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("energy frame", &err);
  struct frame_args a;
  int p = parse_frame_args(argc, argv, &a);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  char preset[1024];
  if (cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      model_preset_path(a.cm.arch, preset, sizeof preset, &err))
    return cli_report("energy frame", &err);
  apply_coefficients(&a, &o.energy);
  if (a.cm.db) {
    if (a.sops >= 0 || a.hops >= 0 || a.latency_s >= 0 || a.cores >= 0 ||
        a.routers >= 0)
      return cli_usage_error("energy frame",
                             "--db takes the counts and latencies from the "
                             "run, and its cores and mesh: no --sops, "
                             "--hops, --latency, --cores or --routers with "
                             "it");
    int given = a.arch_given || a.energy_given || a.e_sop >= 0 ||
                a.e_hop >= 0 || a.e_static >= 0;
    return energy_from_db(a.cm.db, &o, !given, a.per_frame, a.json,
                          a.claim_j < 0 ? -1 : a.claim_j * 1e6);
  }
  if (a.sops < 0 || a.hops < 0)
    return cli_usage_error("energy frame", "--sops and --hops are required");
  if (o.energy.static_mode != CORE_STATIC_PER_FRAME && a.latency_s <= 0)
    return cli_usage_error("energy frame",
                           "energy.static_mode=%s needs --latency",
                           o.energy.static_mode == CORE_STATIC_CHIP ? "chip"
                                                                    : "power");
  if (o.energy.static_mode == CORE_STATIC_CHIP &&
      (a.cores < 0 || a.routers < 0))
    return cli_usage_error("energy frame", "energy.static_mode=chip needs "
                           "--cores N (the cores the mapping uses) and "
                           "--routers N (the mesh's width x height)");
  if (a.cores > 4294967295.0 || a.routers > 4294967295.0 ||
      a.cores != floor(a.cores) || a.routers != floor(a.routers))
    return cli_usage_error("energy frame", "--cores and --routers: expected "
                           "whole counts below 2^32");
  struct core_chip chip = {a.cores > 0 ? (uint32_t)a.cores : 0,
                           a.routers > 0 ? (uint32_t)a.routers : 0};
  if (a.sops > 1.8e19 || a.hops > 1.8e19)
    return cli_usage_error("energy frame", "counts above 1.8e19 do not fit");
  struct core_energy e;
  core_energy_frame(&o.energy, (uint64_t)llround(a.sops),
                    (uint64_t)llround(a.hops),
                    (sim_time_t)(a.latency_s > 0 ? llround(a.latency_s * 1e12)
                                                 : 0),
                    &chip, &e);
  print_frame(&a, preset, &o.energy, &chip, &e);
  return CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out, "Usage: spikemesh energy WHAT [OPTIONS]\n\n"
               "  theory   Eq. 11 normalized energies (the paper's Table 2)\n"
               "  frame    Eq. 12 per-frame energy from counts and a preset\n"
               "\nRun 'spikemesh energy WHAT --help' for its options.\n");
}

int cli_cmd_energy(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (cli_is_help(argv[1])) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "theory"))
    return cli_energy_theory(argc - 1, argv + 1);
  if (!strcmp(argv[1], "frame"))
    return cli_energy_frame(argc - 1, argv + 1);
  return cli_usage_error("energy", "unknown subcommand '%s'", argv[1]);
}
