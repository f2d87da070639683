# cli/ -- the spikemesh program: argument parsing and printing.
bin_PROGRAMS += spikemesh
spikemesh_SOURCES = cli/main.c cli/cli.h cli/common.c \
	cli/cmd_bench.c cli/cmd_config.c cli/bench_kernel.c \
	cli/cmd_noc.c cli/bench_noc.c cli/cmd_train.c cli/bench_train.c cli/cmd_run.c cli/cmd_sweep.c \
	cli/cmd_replay.c cli/cmd_db.c cli/cmd_trace.c cli/bench_recorder.c cli/cmd_energy.c \
	cli/cmd_synth.c cli/bench_vgg.c cli/bench_scale.c cli/bench_lookahead.c cli/cmd_plot.c cli/cmd_map.c
spikemesh_LDADD = run/libsmrun.a traces/libsmtraces.a trainer/libsmtrainer.a models/libsmmodels.a core/libsmcore.a noc/libsmnoc.a sim/libsmsim.a util/libsmutil.a $(SM_LIBS_EXT)
