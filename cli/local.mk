# cli/ -- the spikemesh program: subcommands and the assembly of a run.
noinst_LIBRARIES += cli/libsmrun.a
cli_libsmrun_a_SOURCES = cli/run.c cli/run.h cli/options.c cli/options.h \
	cli/synth.c cli/synth.h
# the sweep and the rows a run records (used by tests/check_sweep too)
cli_libsmrun_a_SOURCES += cli/sweep.c cli/sweep.h cli/record.c cli/record.h
bin_PROGRAMS += spikemesh
spikemesh_SOURCES = cli/main.c cli/cli.h \
	cli/cmd_bench.c cli/cmd_config.c cli/bench_kernel.c \
	cli/cmd_noc.c cli/bench_noc.c cli/cmd_train.c cli/bench_train.c cli/cmd_run.c cli/cmd_sweep.c \
	cli/cmd_replay.c cli/cmd_db.c cli/cmd_trace.c cli/bench_recorder.c cli/cmd_energy.c \
	cli/cmd_synth.c cli/bench_vgg.c cli/cmd_plot.c
spikemesh_LDADD = cli/libsmrun.a traces/libsmtraces.a trainer/libsmtrainer.a models/libsmmodels.a core/libsmcore.a noc/libsmnoc.a sim/libsmsim.a util/libsmutil.a $(SM_LIBS_EXT)
