# tests/ -- one Check program per module.
TESTS += tests/check_util tests/check_sim tests/check_noc
check_PROGRAMS += tests/check_util tests/check_sim tests/check_noc
tests_check_util_SOURCES = tests/check_util.c
tests_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_util_LDADD = util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_sim_SOURCES = tests/check_sim.c
tests_check_sim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sim_LDADD = sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_noc_SOURCES = tests/check_noc.c
tests_check_noc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_noc_LDADD = noc/libsmnoc.a sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
