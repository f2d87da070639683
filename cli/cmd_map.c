/*
 * cmd_map.c -- `spikemesh map`: map a model onto a mesh of cores as `run`
 * does, without running it, and show where everything went: the
 * per-layer table, a picture of the mesh (each node shows the layer of its
 * core), the totals; --out writes the mapping file that `run --mapping`
 * reads (models/mapfile.h, doc/mapping.md).  --mapping checks and shows a
 * mapping file instead (a hand-edited one is refused naming the group and
 * the rule); with --out it is written back, byte for byte the same when
 * nothing in it was derived wrongly.
 *
 * This file parses the arguments and prints; models/ maps.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh map [OPTIONS] [key=value...]\n"
          "\n"
          "Maps a model onto a mesh of neuromorphic cores as 'spikemesh run'\n"
          "does (the same preset, --mesh and mapping keys), without\n"
          "running it.  Prints the per-layer table, a picture of the mesh\n"
          "(each node shows the layer of its core: 0-9, then a-z, A-Z; '.' a\n"
          "free node), the cores and SRAM in total, and with --out writes the\n"
          "mapping file that 'spikemesh run --mapping' reads (doc/mapping.md).\n"
          "\n"
          "Options:\n"
          "  --model FILE      model file [" MODEL_DEFAULT_MODEL " in the data "
          "directory]\n"
          "  --arch PRESET|FILE  architecture preset name or JSON file [%s]\n"
          "  --mesh WxH|auto   mesh size; auto = smallest square that fits "
          "[auto]\n"
          "  --mapping FILE    check and show this mapping file instead of\n"
          "                    mapping (as run --mapping reads it: of this\n"
          "                    model and these cores; map.* keys are refused\n"
          "                    with it)\n"
          "  --out FILE        write the mapping file (JSON; replaced whole, a\n"
          "                    failed write leaves it as it was)\n"
          "  --quiet           print nothing but errors\n"
          "\n"
          "A PRESET name is arch/PRESET.json in the data directory, which\n"
          "'spikemesh --help' names (SPIKEMESH_DATA overrides it).\n"
          "\n"
          "Exit status: 0 mapped; 2 bad usage, a model, mesh or mapping file\n"
          "that does not fit (the message names the layer or the group and\n"
          "the rule), or an --out that is a directory; 1 an output that\n"
          "cannot be written.\n"
          "\n"
          "key=value overrides apply after the preset.  The keys that shape\n"
          "a mapping, the only ones taken here (--mesh WxH is the same as\n"
          "noc.width=W noc.height=H; both 0 = auto):\n",
          MODEL_DEFAULT_PRESET);
  cli_common_help(&(struct cli_common){.keys = run_keys_map}, c, out);
}

/* The symbol of mapping layer l in the picture. */
static char layer_symbol(uint32_t l) {
  static const char sym[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return l < sizeof sym - 1 ? sym[l] : '#';
}

static const char *layer_name(const struct model_map *mp,
                              const struct model *m, uint32_t l, char *buf,
                              size_t len) {
  const struct model_map_layer *L = &mp->layers[l];
  const char *t = L->model_layer < 0                              ? "input"
                  : m->layers[L->model_layer].type == MODEL_CONV ? "conv"
                                                                 : "dense";
  if (L->pool > 1)
    snprintf(buf, len, "%s+pool%d", t, L->pool);
  else
    snprintf(buf, len, "%s", t);
  return buf;
}

/* The mesh, one character per node: x across, y down (node = y * width +
 * x); a column header of x (tens over units when wider than 10). */
static void print_picture(const struct model_map *mp, const struct model *m,
                          FILE *out) {
  uint32_t w = mp->width, h = mp->height;
  fprintf(out, "\nmesh %ux%u (x across, y down, node = y * %u + x): the layer "
          "of each node's core, '.' free\n", w, h, w);
  if (w > 10) {
    fprintf(out, "%8s", "");
    for (uint32_t x = 0; x < w; x++)
      fputc('0' + (int)(x / 10), out);
    fputc('\n', out);
  }
  fprintf(out, "%8s", "x ");
  for (uint32_t x = 0; x < w; x++)
    fputc('0' + (int)(x % 10), out);
  fputc('\n', out);
  for (uint32_t y = 0; y < h; y++) {
    fprintf(out, "%4s%3u ", y ? "" : "y", y);
    for (uint32_t x = 0; x < w; x++) {
      uint32_t g = mp->node_group[y * w + x];
      fputc(g == UINT32_MAX ? '.' : layer_symbol(mp->groups[g].layer), out);
    }
    fputc('\n', out);
  }
  /* the legend, wrapped (layers past the 62nd share '#') */
  fprintf(out, "legend:");
  size_t col = 7;
  for (uint32_t l = 0; l <= mp->nlayers; l++) {
    char name[32], item[96];
    if (l == mp->nlayers) {
      snprintf(item, sizeof item, " . = free");
    } else {
      uint32_t n = mp->layers[l].ngroups;
      snprintf(item, sizeof item, " %c = layer %u %s (%u core%s),",
               layer_symbol(l), l, layer_name(mp, m, l, name, sizeof name), n,
               n == 1 ? "" : "s");
    }
    if (col + strlen(item) > 76) {
      fprintf(out, "\n       ");
      col = 7;
    }
    fputs(item, out);
    col += strlen(item);
  }
  fputc('\n', out);
}

static void print_totals(const struct model_map *mp,
                         const struct model_map_params *p, FILE *out) {
  uint64_t sram = 0, most = 0, neurons = 0;
  for (uint32_t g = 0; g < mp->ngroups; g++) {
    sram += mp->groups[g].sram_bytes;
    neurons += mp->groups[g].neurons;
    if (mp->groups[g].sram_bytes > most)
      most = mp->groups[g].sram_bytes;
  }
  uint32_t nodes = mp->width * mp->height;
  fprintf(out, "\ntotal: %u cores on %u nodes (%u free), %llu neurons, "
          "%llu bytes of SRAM; the fullest core uses %llu of its %llu bytes "
          "(%.1f%%)\n",
          mp->ngroups, nodes, nodes - mp->ngroups,
          (unsigned long long)neurons, (unsigned long long)sram,
          (unsigned long long)most, (unsigned long long)p->sram_bytes,
          p->sram_bytes ? 100.0 * (double)most / (double)p->sram_bytes : 0.0);
}

struct map_args {
  struct cli_common cm;
  const char *model, *mapping, *out;
  int quiet;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct map_args *a,
                      struct sm_conf *c) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "map", CLI_F_ARCH | CLI_F_MESH | CLI_F_KV);
  a->cm.keys = run_keys_map;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    if (cli_is_help(s)) {
      usage(stdout, c);
      return 1;
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--mapping") && i + 1 < argc) {
      a->mapping = argv[++i];
    } else if (!strcmp(s, "--out") && i + 1 < argc) {
      a->out = argv[++i];
    } else if (!strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else {
      cli_usage_error("map", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  for (int i = a->cm.first_kv; a->cm.first_kv && i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (!eq || argv[i][0] == '-')
      continue;
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
    if (a->mapping && !strncmp(key, "map.", 4)) {
      cli_usage_error("map", "'%s': with --mapping the mapping is the file's; "
                      "map.* keys do not apply", argv[i]);
      return -1;
    }
  }
  return 0;
}

/* Expected hops (model_map_expected_hops: every output spiking once, each
 * destination group paid its Manhattan distance) of this mapping and, for
 * a mapping made here, of every placement on the same mesh. */
static void print_placements(const struct model_map *map,
                             const struct model *m,
                             const struct model_map_params *mp, int from_file,
                             FILE *out) {
  uint64_t here = model_map_expected_hops(map, m);
  fprintf(out,
          "expected hops per frame if every neuron spiked once (each "
          "destination core paid its XY distance, no multicast sharing): "
          "%llu\n",
          (unsigned long long)here);
  if (from_file)
    return;
  fprintf(out, "placements on this %ux%u mesh (map.placement; greedy with "
               "map.seed=%llu):\n",
          map->width, map->height, (unsigned long long)mp->seed);
  for (int k = MODEL_PLACE_ROWMAJOR; k <= MODEL_PLACE_GREEDY; k++) {
    if (k == mp->placement) { /* this mapping: priced above */
      fprintf(out, "  %-9s %12llu expected hops  <- this mapping\n",
              model_mapfile_placement_name(k), (unsigned long long)here);
      continue;
    }
    struct model_map_params q = *mp;
    q.placement = k;
    q.width = map->width;
    q.height = map->height;
    struct model_map *alt = NULL;
    struct sm_err e = {0};
    if (model_map_build(m, &q, &alt, &e)) {
      fprintf(out, "  %-9s (not mapped: %s)\n", model_mapfile_placement_name(k),
              e.msg);
      continue;
    }
    uint64_t h = model_map_expected_hops(alt, m);
    fprintf(out, "  %-9s %12llu expected hops\n",
            model_mapfile_placement_name(k), (unsigned long long)h);
    model_map_free(alt);
  }
}

int cli_cmd_map(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("map", &err);
  struct map_args a;
  int p = parse_args(argc, argv, &a, &c);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  uint32_t mesh_w, mesh_h;
  if (cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      run_options_mesh(&o, &mesh_w, &mesh_h, &err))
    return cli_report("map", &err);
  char mpath[1024];
  if (!a.model) {
    if (cli_default_model(mpath, sizeof mpath, &err))
      return cli_report("map", &err);
    a.model = mpath;
  }
  struct model *m = NULL;
  if (model_load(a.model, &m, &err))
    return cli_report("map", &err);
  struct model_map_params mp = run_map_params(&o, mesh_w, mesh_h);
  struct model_map *map = NULL;
  struct model_mapfile_info info = {0};
  int rc = a.mapping
               ? model_mapfile_load(a.mapping, m, &mp, &map, &info, &err)
               : model_map_build(m, &mp, &map, &err);
  if (rc) {
    rc = cli_report("map", &err);
    goto out;
  }
  const char *place =
      a.mapping ? info.placement : model_mapfile_placement_name(mp.placement);
  if (!a.quiet) {
    printf("spikemesh map: model %s (%s), preset %s; cores of %llu neurons "
           "and %llu bytes of SRAM, %llu-bit weights; placement %s%s%s\n",
           a.model, m->arch, o.preset.name[0] ? o.preset.name : a.cm.arch,
           (unsigned long long)mp.neurons_per_core,
           (unsigned long long)mp.sram_bytes,
           (unsigned long long)mp.weight_bits, place,
           a.mapping ? ", from " : "", a.mapping ? a.mapping : "");
    model_map_print(map, m, stdout);
    print_picture(map, m, stdout);
    print_totals(map, &mp, stdout);
    print_placements(map, m, &mp, a.mapping != NULL, stdout);
  }
  if (a.out) {
    if (model_mapfile_write(a.out, map, m, &mp, place, &err)) {
      rc = cli_report("map", &err);
      goto out;
    }
    if (!a.quiet)
      printf("wrote %s\n", a.out);
  }
  rc = CLI_EXIT_OK;
out:
  model_map_free(map);
  model_free(m);
  return rc;
}
