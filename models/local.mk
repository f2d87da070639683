# models/ -- the model file (load, validate, save), shipped models, the
# mapper and architecture presets.
noinst_LIBRARIES += models/libsmmodels.a
models_libsmmodels_a_SOURCES = models/model.h models/model.c models/map.h \
	models/synth.h models/synth.c \
	models/map.c
EXTRA_DIST += models/fmnist-cnn.json
# `spikemesh run` without --model finds it here when installed
dist_pkgdata_DATA = models/fmnist-mlp.json
archdir = $(pkgdatadir)/arch
dist_arch_DATA = models/arch/paper-22nm.json models/arch/manycore-14nm.json
# the paper's tables (model_paper_path: `energy theory` reads table2)
paperdir = $(pkgdatadir)/paper
dist_paper_DATA = models/paper/table2.json
