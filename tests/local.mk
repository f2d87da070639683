# tests/ -- one Check program per module.
TESTS += tests/check_util tests/check_sim
check_PROGRAMS += tests/check_util tests/check_sim
tests_check_util_SOURCES = tests/check_util.c
tests_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_util_LDADD = util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_sim_SOURCES = tests/check_sim.c
tests_check_sim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sim_LDADD = sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
TESTS += tests/check_train tests/check_model
check_PROGRAMS += tests/check_train tests/check_model
tests_check_train_SOURCES = tests/check_train.c
tests_check_train_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_train_LDADD = trainer/libsmtrainer.a models/libsmmodels.a \
	util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_model_SOURCES = tests/check_model.c
tests_check_model_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_model_LDADD = models/libsmmodels.a util/libsmutil.a $(CHECK_LIBS) \
	$(SM_LIBS_EXT)
