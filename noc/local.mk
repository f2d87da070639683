# noc/ -- the mesh network-on-chip: routers, links, synthetic traffic.
noinst_LIBRARIES += noc/libsmnoc.a
noc_libsmnoc_a_SOURCES = noc/noc.h noc/noc-int.h noc/mesh.c noc/route.c \
	noc/alloc.c noc/stats.c noc/traffic.c
