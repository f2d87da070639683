/*
 * trace-int.h -- private to traces/: helpers shared by the query and plot
 * code.
 */
#ifndef SPIKEMESH_TRACE_INT_H
#define SPIKEMESH_TRACE_INT_H

#include "traces/trace.h"

struct sqlite3;

/* Open a database read-only and check its schema version; errors name the
 * file (not a spikemesh database, another schema version). */
int trace__open_ro(const char *path, struct sqlite3 **c, struct sm_err *err);

/* The writer's connection of an open database, for the module's own tests
 * (schema checks, simulated disk full); everything else goes through the
 * functions of trace.h. */
struct sqlite3 *trace__db_conn(struct trace_db *db);

#endif /* SPIKEMESH_TRACE_INT_H */
