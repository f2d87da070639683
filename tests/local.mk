# tests/ -- one Check program per module.
TESTS += tests/check_util tests/check_sim tests/check_traces
check_PROGRAMS += tests/check_util tests/check_sim tests/check_traces
tests_check_util_SOURCES = tests/check_util.c
tests_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_util_LDADD = util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_sim_SOURCES = tests/check_sim.c
tests_check_sim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sim_LDADD = sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_traces_SOURCES = tests/check_traces.c
tests_check_traces_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_traces_LDADD = traces/libsmtraces.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)

# Shell tests run the built program from the build directory.
TESTS += tests/cli_basics.sh tests/docs_config.sh
EXTRA_DIST += tests/cli_basics.sh tests/docs_config.sh
AM_TESTS_ENVIRONMENT = srcdir='$(abs_top_srcdir)'; export srcdir;
