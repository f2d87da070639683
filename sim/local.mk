# sim/ -- the event kernel.
noinst_LIBRARIES += sim/libsmsim.a
sim_libsmsim_a_SOURCES = sim/sim.h sim/sim-int.h sim/pq-impl.h sim/kernel.c sim/pq.c sim/rng.c
