# models/ -- model files, the mapper, architecture presets.
noinst_LIBRARIES += models/libsmmodels.a
models_libsmmodels_a_SOURCES = models/model.h models/map.h models/map.c
archdir = $(pkgdatadir)/arch
dist_arch_DATA = models/arch/paper-22nm.json models/arch/manycore-14nm.json
