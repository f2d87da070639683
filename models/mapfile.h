/*
 * mapfile.h -- the mapping file: where every group of a mapping goes, as
 * a JSON file that `spikemesh map --out` writes and `spikemesh run
 * --mapping` reads back (format, field by field: doc/mapping.md).
 *
 * Part of the models/ module (prefix model_).  The file says which model
 * it maps (its layers' shapes), for which cores (neurons and SRAM per
 * core, weight bits) and mesh, and for each group: its layer, channel
 * range, spatial tile, the input halo its receptive fields read, its core
 * and node (x, y), neurons and SRAM bytes.  Reading checks the file
 * against the model and the hardware, hands the groups to
 * model_map_assemble() (which checks the mapping rules: capacity, one group
 * per node, every neuron covered once, nodes inside the mesh), then checks
 * every derived field of the file (neurons, SRAM bytes, halo, totals)
 * against what the assembled mapping says, so a file never says something
 * the run does not do.  Writing the mapping read gives the same bytes.
 */
#ifndef SPIKEMESH_MODELS_MAPFILE_H
#define SPIKEMESH_MODELS_MAPFILE_H

#include <stdint.h>

#include "models/map.h"
#include "models/model.h"
#include "util/util.h"

#define MODEL_MAPFILE_FORMAT "spikemesh-mapping"
#define MODEL_MAPFILE_VERSION 1
/* Largest mapping file read (SM_ELIMIT beyond): a 64x64 mesh's file is
 * about 1 MB (4096 lines of at most ~260 bytes). */
#define MODEL_MAPFILE_MAX_BYTES ((size_t)16 << 20)

/* What a file says besides its groups (model_mapfile_load fills it). */
struct model_mapfile_info {
  char placement[64];  /* its "placement": the placement that made it, as
                          written; not checked (a hand-edited file may name
                          its own) */
  char model_name[128]; /* its model's name and architecture string, as */
  char model_arch[256]; /* written (the shapes are what is checked) */
};

/* The name of placement p (enum model_placement), as map.placement
 * spells it. */
const char *model_mapfile_placement_name(int p);

/* The text of the mapping file of mp, a mapping of m onto cores of p
 * (p->neurons_per_core, sram_bytes, weight_bits), naming `placement`
 * (NULL: model_mapfile_placement_name(p->placement)).  Caller frees. */
char *model_mapfile_text(const struct model_map *mp, const struct model *m,
                         const struct model_map_params *p,
                         const char *placement);
/* Write that text to path (sm_write_begin: a failed write leaves the file
 * as it was).  Errors name the path. */
int model_mapfile_write(const char *path, const struct model_map *mp,
                        const struct model *m,
                        const struct model_map_params *p,
                        const char *placement, struct sm_err *err);

/* Read a mapping file for model m on the hardware of p and assemble its
 * mapping.  The file's core section must equal p's neurons_per_core,
 * sram_bytes and weight_bits; its mesh is used, and must equal
 * p->width x p->height unless those are 0 x 0 (auto); p->placement and
 * p->sram_fit play no part.  Refusals name the file and, for a group, its
 * index and the field or rule: SM_EFORMAT (not JSON, a missing key, a
 * wrong format name), SM_EVERSION, SM_ENOKEY (an unknown key, with the
 * valid ones), SM_ETYPE (a field of the wrong type), SM_ERANGE (a value out
 * of its range), SM_EINVAL (a model or hardware that does not match, a
 * derived field that disagrees with the mapping), SM_ELIMIT (a file over
 * MODEL_MAPFILE_MAX_BYTES, more groups than the largest mesh has nodes),
 * and model_map_assemble's refusals (SM_ENOFIT, SM_EINVAL).  info may be
 * NULL. */
int model_mapfile_load(const char *path, const struct model *m,
                       const struct model_map_params *p,
                       struct model_map **out, struct model_mapfile_info *info,
                       struct sm_err *err);
/* The same from memory (text of len bytes; source names it in messages). */
int model_mapfile_parse(const char *text, size_t len, const char *source,
                        const struct model *m,
                        const struct model_map_params *p,
                        struct model_map **out,
                        struct model_mapfile_info *info, struct sm_err *err);

#endif /* SPIKEMESH_MODELS_MAPFILE_H */
