# traces/ -- the SQLite recorder, spike traces, replay, plots.
noinst_LIBRARIES += traces/libsmtraces.a
traces_libsmtraces_a_SOURCES = traces/trace.h traces/recorder.c \
	traces/query.c traces/check.c traces/tracefile.c \
	traces/trace-int.h traces/plot-int.h traces/plot.c traces/plot_data.c \
	traces/plot_gp.c
