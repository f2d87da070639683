# models/ -- the model file (load, validate, save), shipped models, the
# mapper and architecture presets.
noinst_LIBRARIES += models/libsmmodels.a
models_libsmmodels_a_SOURCES = models/model.h models/model.c models/map.h \
	models/synth.h models/synth.c \
	models/map.c models/mapfile.h models/mapfile.c models/place.h models/place.c
# The data directory (model_data_dir in map.c): the shipped models, where
# `spikemesh run` without --model finds the MLP ...
dist_pkgdata_DATA = models/fmnist-mlp.json models/fmnist-cnn.json
# ... every architecture preset (--arch NAME, spikemesh noc NAME) ...
archdir = $(pkgdatadir)/arch
dist_arch_DATA = models/arch/paper-22nm.json models/arch/paper-22nm-chip.json \
	models/arch/manycore-14nm.json \
	models/arch/noc-clocked.json
# ... and the paper's tables (model_paper_path: `energy theory` reads table2)
paperdir = $(pkgdatadir)/paper
dist_paper_DATA = models/paper/table2.json
