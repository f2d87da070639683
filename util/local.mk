# util/ -- base library: errors, allocation, configuration engine.
noinst_LIBRARIES += util/libsmutil.a
util_libsmutil_a_SOURCES = util/util.c util/util.h util/conf.c util/conf.h \
	util/pareto.c util/file.c \
	util/rng.c util/rng.h
