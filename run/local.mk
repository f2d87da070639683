# run/ -- the assembly of a simulation: run options, wiring, the frame
# loop, the recording adapter, replay traces, the sweep engine, the
# synthetic-traffic sweep of the mesh, Eq. 12 over a recorded run, the
# measurements of the benchmarks.
noinst_LIBRARIES += run/libsmrun.a
run_libsmrun_a_SOURCES = run/run.h run/options.c run/data.c run/sim.c \
	run/loop.c run/compare.c \
	run/record.c run/replay.c run/grid.c run/sweep.c \
	run/noc.c run/energy.c run/bench.c
