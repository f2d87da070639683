# tests/ -- one Check program per module.
TESTS += tests/check_util tests/check_sim tests/check_traces tests/check_noc
check_PROGRAMS += tests/check_util tests/check_sim tests/check_traces tests/check_noc
tests_check_util_SOURCES = tests/check_util.c
tests_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_util_LDADD = util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_sim_SOURCES = tests/check_sim.c
tests_check_sim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sim_LDADD = sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
TESTS += tests/check_core tests/check_map
check_PROGRAMS += tests/check_core tests/check_map
tests_check_core_SOURCES = tests/check_core.c
tests_check_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_core_LDADD = core/libsmcore.a sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_map_SOURCES = tests/check_map.c
tests_check_map_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_map_LDADD = models/libsmmodels.a core/libsmcore.a sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
# Placements by name (models/place.c), checked against the mapper's own.
TESTS += tests/check_place
check_PROGRAMS += tests/check_place
tests_check_place_SOURCES = tests/check_place.c
tests_check_place_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_place_LDADD = models/libsmmodels.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_check_noc_SOURCES = tests/check_noc.c
tests_check_noc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_noc_LDADD = noc/libsmnoc.a sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)
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
TESTS += tests/check_run
check_PROGRAMS += tests/check_run
tests_check_run_SOURCES = tests/check_run.c tests/testmodel.c tests/testmodel.h
tests_check_run_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
# everything below cli/, in link order
RUN_LIBS = run/libsmrun.a traces/libsmtraces.a trainer/libsmtrainer.a \
	models/libsmmodels.a core/libsmcore.a noc/libsmnoc.a sim/libsmsim.a \
	util/libsmutil.a
tests_check_run_LDADD = $(RUN_LIBS) $(CHECK_LIBS) $(SM_LIBS_EXT)
# The shipped model on the real test set (skips, exit 77, without it).
TESTS += tests/check_agree
check_PROGRAMS += tests/check_agree
tests_check_agree_SOURCES = tests/check_agree.c
tests_check_agree_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_agree_LDADD = $(tests_check_run_LDADD)
tests_check_traces_SOURCES = tests/check_traces.c
tests_check_traces_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_traces_LDADD = traces/libsmtraces.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)

# Shell tests run the built program from the build directory.
TESTS += tests/cli_basics.sh tests/docs_config.sh tests/cli_energy.sh tests/run_models.sh tests/recorder.sh tests/faults.sh tests/plot.sh
EXTRA_DIST += tests/cli_basics.sh tests/docs_config.sh tests/cli_energy.sh tests/run_models.sh tests/recorder.sh tests/faults.sh tests/plot.sh
TESTS += tests/sweep.sh tests/shipped_models.sh tests/inputs.sh
EXTRA_DIST += tests/shipped_models.sh tests/inputs.sh
EXTRA_DIST += tests/sweep.sh
# SPIKEMESH_DATA would move the data directory of the program under test;
# tests/install.sh installs with $(MAKE) and looks where the files went.
AM_TESTS_ENVIRONMENT = srcdir='$(abs_top_srcdir)'; export srcdir; \
	unset SPIKEMESH_DATA; MAKE='$(MAKE)'; export MAKE; \
	sm_prefix='$(prefix)' sm_bindir='$(bindir)' sm_pkgdatadir='$(pkgdatadir)' \
	sm_docdir='$(docdir)' sm_mandir='$(mandir)'; \
	export sm_prefix sm_bindir sm_pkgdatadir sm_docdir sm_mandir;

# Fuzz harnesses, built as plain programs that replay saved inputs
# (tests/data/fuzz/<harness>/ and the shipped files); scripts/fuzz.sh
# builds the same harnesses with libFuzzer.
FUZZ_LIBS = $(RUN_LIBS) $(SM_LIBS_EXT)
check_PROGRAMS += tests/fuzz/fuzz_conf tests/fuzz/fuzz_kv \
	tests/fuzz/fuzz_model tests/fuzz/fuzz_idx tests/fuzz/fuzz_trace tests/fuzz/fuzz_grid
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_conf.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_kv_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_kv.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_kv_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_model_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_model.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_model_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_idx_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_idx.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_idx_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_trace_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_trace.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_trace_LDADD = $(FUZZ_LIBS)
TESTS += tests/fuzz_regress.sh
EXTRA_DIST += tests/fuzz_regress.sh scripts/fuzz.sh tests/data/fuzz
TESTS += tests/check_synth tests/cli_synth.sh
check_PROGRAMS += tests/check_synth
EXTRA_DIST += tests/cli_synth.sh
tests_check_synth_SOURCES = tests/check_synth.c
tests_check_synth_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_synth_LDADD = $(RUN_LIBS) $(CHECK_LIBS) $(SM_LIBS_EXT)
tests_fuzz_fuzz_grid_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_grid.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_grid_LDADD = $(FUZZ_LIBS)
# The trainer's architecture strings, and a trace file replayed through a
# small mesh (a spike trace through the in-memory test model).
check_PROGRAMS += tests/fuzz/fuzz_arch tests/fuzz/fuzz_replay
tests_fuzz_fuzz_arch_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_arch.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_arch_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_replay_SOURCES = tests/fuzz/driver.c tests/fuzz/fuzz_replay.c \
	tests/fuzz/fuzz.h tests/testmodel.c tests/testmodel.h
tests_fuzz_fuzz_replay_LDADD = $(FUZZ_LIBS)

# The sweep: grid files, parallel points, skip and resume (cli/sweep.c).
TESTS += tests/check_sweep
check_PROGRAMS += tests/check_sweep
tests_check_sweep_SOURCES = tests/check_sweep.c tests/testmodel.c tests/testmodel.h
tests_check_sweep_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sweep_LDADD = $(RUN_LIBS) $(CHECK_LIBS) $(SM_LIBS_EXT)

# The digest set: recorded runs whose digests hold behaviour still while
# code moves (tests/data/digests.txt; tests/digests.sh --print re-records).
TESTS += tests/digests.sh
EXTRA_DIST += tests/digests.sh tests/data/digests.txt

# make install carries every shipped file, and the installed program reads
# its own copy, never the source or build tree (models/map.h).
TESTS += tests/install.sh
EXTRA_DIST += tests/install.sh

# Hostile inputs and shared files: outputs that are links, FIFOs or
# devices, two writers of one run, other programs' databases, locks.
TESTS += tests/hostile.sh
EXTRA_DIST += tests/hostile.sh

# The mapping file: spikemesh map, run --mapping, the mapping table.
TESTS += tests/mapfile.sh
EXTRA_DIST += tests/mapfile.sh
TESTS += tests/check_mapfile
check_PROGRAMS += tests/check_mapfile
tests_check_mapfile_SOURCES = tests/check_mapfile.c tests/testmodel.c tests/testmodel.h
tests_check_mapfile_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_mapfile_LDADD = models/libsmmodels.a sim/libsmsim.a util/libsmutil.a $(CHECK_LIBS) $(SM_LIBS_EXT)

# Any layer at any core size: the shipped models fire alike at 64..4096
# neurons per core (tests/check_coresize.c), and from the command line with
# their databases checked (tests/coresize.sh).
TESTS += tests/check_coresize tests/coresize.sh
check_PROGRAMS += tests/check_coresize
EXTRA_DIST += tests/coresize.sh
tests_check_coresize_SOURCES = tests/check_coresize.c
tests_check_coresize_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_coresize_LDADD = $(RUN_LIBS) $(CHECK_LIBS) $(SM_LIBS_EXT)
# One way to set the mesh (noc.width/noc.height, --mesh, run.mesh) in every
# command, the keys each command refuses, the direction tables; static
# energy that scales with the chip (energy.static_mode=chip).
TESTS += tests/mesh.sh tests/chip_energy.sh tests/placement.sh
EXTRA_DIST += tests/mesh.sh tests/chip_energy.sh tests/placement.sh
# Frames independent of each other: frame k of a run records the rows of
# frame k's image run alone (tests/check_frames.c).
TESTS += tests/check_frames
check_PROGRAMS += tests/check_frames
tests_check_frames_SOURCES = tests/check_frames.c
tests_check_frames_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_frames_LDADD = $(RUN_LIBS) $(CHECK_LIBS) $(SM_LIBS_EXT)
# run --jobs N: the same database, figures and resume for every N
# (tests/jobs.sh).
TESTS += tests/jobs.sh
EXTRA_DIST += tests/jobs.sh
# bench scale: refusals and figures consistent with each other.
TESTS += tests/bench_scale.sh
EXTRA_DIST += tests/bench_scale.sh
