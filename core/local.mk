# core/ -- neuromorphic cores: neurons, SRAM, SOPs, energy arithmetic.
noinst_LIBRARIES += core/libsmcore.a
core_libsmcore_a_SOURCES = core/core.h core/core-int.h core/core.c core/energy.c
