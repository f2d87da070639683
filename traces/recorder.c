/*
 * recorder.c -- the SQLite recorder behind traces/trace.h.
 *
 * Producers (streams) copy rows into 4096-row batches.  A unit -- the rows
 * of one or more whole frames of one stream -- is a chain of batches handed
 * to the writer in one step at trace_frame_end(), so units of different
 * streams never interleave inside a transaction.  The writer thread (libuv)
 * takes everything queued, inserts it with prepared statements inside one
 * transaction, and commits after a unit once 50,000 rows have gone in, or
 * when the queue runs dry, or 250 ms after the last commit.  Commits fall
 * only between units: a frame's rows commit together.
 *
 * Memory: at most TRACE_QUEUE_BATCHES batches may wait in the queue; a
 * producer that would exceed that waits for the writer (it never drops a
 * row).  A single unit larger than the budget is still accepted whole, so
 * one huge frame at spike detail costs its own size in memory once.
 *
 * On a write error (disk full, read-only file) the writer rolls back the
 * open transaction, records the first error, and keeps draining the queue
 * so producers never block; everything committed before stays.  The run's
 * frames_done still counts whole committed frames.
 *
 * Rejected: one transaction per frame (a commit costs a WAL sync: measured
 * about 40x slower for small frames); a writer per stream (SQLite allows one
 * writer per database at a time, so they would queue on the file lock).
 */
#include "traces/trace-int.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define TRACE_BATCH 4096
#define TRACE_QUEUE_BATCHES 64
#define TRACE_COMMIT_ROWS 50000
#define TRACE_COMMIT_NS 250000000ull
#define TRACE_MULTI 32 /* rows per multi-row INSERT */
/* A stream hands its whole frames over once its batch is half full, it
 * spans several batches, or this long after its last hand-over: small
 * frames share a unit instead of waking the writer (and committing) once
 * per frame, which cost 25% of a run at summary detail. */
#define TRACE_HAND_NS 20000000ull

enum msg_type {
  M_FRAME,
  M_LAYER,
  M_LINK,
  M_PORT,
  M_CORE,
  M_SPIKE,
  M_PACKET,
  M_NOC,
  M_LAYERDEF,
  M_MAPPING,
  M_FRAME_END,
  M_NTYPES
};

/* A row in transit: the run id, up to 10 integers and 6 reals, or (a
 * mapping row, msg_sql's ni > 10) up to 18 integers. */
#define MSG_WIDE 18
struct msg {
  uint32_t type;
  int64_t run;
  union {
    struct {
      int64_t v[10];
      double d[6];
    };
    int64_t w[MSG_WIDE];
  };
};

struct batch {
  struct batch *next;
  uint32_t n;
  int unit_end; /* the last batch of a unit */
  struct msg m[TRACE_BATCH];
};

/* The INSERT for each row type, with the count of integer and real
 * parameters bound after the run id, in order. */
static const struct {
  const char *sql;
  int ni, nd;
} msg_sql[M_NTYPES] = {
    [M_FRAME] = {"INSERT INTO frames(run_id, frame, label, prediction, "
                 "input_spikes, spikes, sops, hops, late_spikes, t_start_ps, "
                 "latency_ps, e_sop_pj, e_hop_pj, e_static_pj, e_total_pj) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 10, 4},
    [M_LAYER] = {"INSERT INTO layer_frames(run_id, frame, layer, neurons, "
                 "spikes, sops, hops, late_spikes, window_start_spikes, "
                 "fired) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 9, 0},
    [M_LINK] = {"INSERT INTO links(run_id, frame, node, dir, flits, busy_ps, "
                "utilization) VALUES (?,?,?,?,?,?,?)",
                5, 1},
    [M_PORT] = {"INSERT INTO ports(run_id, frame, node, port, flits, "
                "blocked_ps, peak_occupancy, mean_occupancy) "
                "VALUES (?,?,?,?,?,?,?,?)",
                6, 1},
    [M_CORE] = {"INSERT INTO cores(run_id, frame, core, node, layer, neurons, "
                "spikes, sops, late_spikes) VALUES (?,?,?,?,?,?,?,?,?)",
                8, 0},
    [M_SPIKE] = {"INSERT INTO spikes(run_id, frame, layer, neuron, core, "
                 "time_ps, step) VALUES (?,?,?,?,?,?,?)",
                 6, 0},
    [M_PACKET] = {"INSERT INTO packets(run_id, frame, src, dst, t_send_ps, "
                  "t_inject_ps, t_eject_ps, hops, blocked_ps) "
                  "VALUES (?,?,?,?,?,?,?,?,?)",
                  8, 0},
    [M_NOC] = {"INSERT INTO noc_points(run_id, packets, saturated, offered, "
               "accepted, latency_mean, latency_p50, latency_p99, "
               "latency_max) VALUES (?,?,?,?,?,?,?,?,?)",
               2, 6},
    [M_LAYERDEF] = {"INSERT OR IGNORE INTO layers(run_id, layer, type, "
                    "channels, height, width, pool, neurons, outputs) VALUES "
                    "(?,?,CASE ? WHEN 0 THEN 'input' WHEN 1 THEN 'conv' ELSE "
                    "'dense' END,?,?,?,?,?,?)",
                    8, 0},
    [M_MAPPING] = {"INSERT OR IGNORE INTO mapping(run_id, grp, layer, c0, c1, "
                   "y0, y1, x0, x1, iy0, iy1, ix0, ix1, core, node, x, y, "
                   "neurons, sram_bytes) VALUES "
                   "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   18, 0},
    [M_FRAME_END] = {"UPDATE runs SET frames_done = ?2 + 1 WHERE run_id = ?1 "
                     "AND frames_done < ?2 + 1",
                     1, 0},
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE IF NOT EXISTS runs(\n"
    "  run_id INTEGER PRIMARY KEY,\n"
    "  kind TEXT NOT NULL,\n"
    "  status TEXT NOT NULL,\n"
    "  config TEXT NOT NULL,\n"
    "  model_path TEXT, model_hash TEXT, point_key TEXT, detail TEXT,\n"
    "  version TEXT NOT NULL, seed INTEGER NOT NULL,\n"
    "  frames_planned INTEGER NOT NULL, frames_done INTEGER NOT NULL,\n"
    "  started_at TEXT NOT NULL, ended_at TEXT,\n"
    "  mesh_width INTEGER, mesh_height INTEGER);\n"
    "CREATE TABLE IF NOT EXISTS frames(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL,\n"
    "  label INTEGER, prediction INTEGER,\n"
    "  input_spikes INTEGER, spikes INTEGER, sops INTEGER, hops INTEGER,\n"
    "  late_spikes INTEGER, t_start_ps INTEGER, latency_ps INTEGER,\n"
    "  e_sop_pj REAL, e_hop_pj REAL, e_static_pj REAL, e_total_pj REAL,\n"
    "  PRIMARY KEY(run_id, frame)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS layer_frames(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, layer INTEGER NOT NULL,\n"
    "  neurons INTEGER, spikes INTEGER, sops INTEGER, hops INTEGER,\n"
    "  late_spikes INTEGER, window_start_spikes INTEGER, fired INTEGER,\n"
    "  PRIMARY KEY(run_id, frame, layer)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS layers(\n"
    "  run_id INTEGER NOT NULL, layer INTEGER NOT NULL, type TEXT,\n"
    "  channels INTEGER, height INTEGER, width INTEGER, pool INTEGER,\n"
    "  neurons INTEGER, outputs INTEGER,\n"
    "  PRIMARY KEY(run_id, layer)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS links(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, node INTEGER NOT NULL,\n"
    "  dir INTEGER NOT NULL, flits INTEGER, busy_ps INTEGER, utilization REAL,\n"
    "  PRIMARY KEY(run_id, frame, node, dir)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS ports(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, node INTEGER NOT NULL,\n"
    "  port INTEGER NOT NULL, flits INTEGER, blocked_ps INTEGER,\n"
    "  peak_occupancy INTEGER, mean_occupancy REAL,\n"
    "  PRIMARY KEY(run_id, frame, node, port)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS cores(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, core INTEGER NOT NULL,\n"
    "  node INTEGER, layer INTEGER, neurons INTEGER, spikes INTEGER,\n"
    "  sops INTEGER, late_spikes INTEGER,\n"
    "  PRIMARY KEY(run_id, frame, core)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS spikes(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, layer INTEGER,\n"
    "  neuron INTEGER, core INTEGER, time_ps INTEGER, step INTEGER);\n"

    "CREATE TABLE IF NOT EXISTS packets(\n"
    "  run_id INTEGER NOT NULL, frame INTEGER NOT NULL, src INTEGER,\n"
    "  dst INTEGER, t_send_ps INTEGER, t_inject_ps INTEGER,\n"
    "  t_eject_ps INTEGER, hops INTEGER, blocked_ps INTEGER);\n"

    "CREATE TABLE IF NOT EXISTS noc_points(\n"
    "  run_id INTEGER NOT NULL, packets INTEGER, saturated INTEGER,\n"
    "  offered REAL, accepted REAL, latency_mean REAL, latency_p50 REAL,\n"
    "  latency_p99 REAL, latency_max REAL);\n"
    /* version 4: the process recording a run (one row while it records) */
    "CREATE TABLE IF NOT EXISTS claims(\n"
    "  run_id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,\n"
    "  host TEXT NOT NULL, since TEXT NOT NULL);\n"
    /* version 5: where each group of the mapping went (once per run) */
    "CREATE TABLE IF NOT EXISTS mapping(\n"
    "  run_id INTEGER NOT NULL, grp INTEGER NOT NULL, layer INTEGER,\n"
    "  c0 INTEGER, c1 INTEGER, y0 INTEGER, y1 INTEGER, x0 INTEGER,\n"
    "  x1 INTEGER, iy0 INTEGER, iy1 INTEGER, ix0 INTEGER, ix1 INTEGER,\n"
    "  core INTEGER, node INTEGER, x INTEGER, y INTEGER, neurons INTEGER,\n"
    "  sram_bytes INTEGER, PRIMARY KEY(run_id, grp)) WITHOUT ROWID;\n"

    /* version 5: the direction codes of links.dir and ports.port by name
     * (enum noc_dir).  Tables, not views: SQLite's integrity_check turns
     * partial, skipping its unused-page check, when a view heads the
     * schema hash (seen with 3.40), and db check relies on that check. */
    "CREATE TABLE IF NOT EXISTS link_dirs(code INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL, dx INTEGER, dy INTEGER, meaning TEXT);\n"
    "INSERT OR IGNORE INTO link_dirs VALUES\n"
    "  (0, 'N', 0, -1, 'output to the north neighbour (y - 1)'),\n"
    "  (1, 'E', 1, 0, 'output to the east neighbour (x + 1)'),\n"
    "  (2, 'S', 0, 1, 'output to the south neighbour (y + 1)'),\n"
    "  (3, 'W', -1, 0, 'output to the west neighbour (x - 1)'),\n"
    "  (4, 'L', 0, 0, 'local output: ejection to the node''s core');\n"
    "CREATE TABLE IF NOT EXISTS port_dirs(code INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL, dx INTEGER, dy INTEGER, meaning TEXT);\n"
    "INSERT OR IGNORE INTO port_dirs VALUES\n"
    "  (0, 'N', 0, -1, 'input from the north neighbour (y - 1)'),\n"
    "  (1, 'E', 1, 0, 'input from the east neighbour (x + 1)'),\n"
    "  (2, 'S', 0, 1, 'input from the south neighbour (y + 1)'),\n"
    "  (3, 'W', -1, 0, 'input from the west neighbour (x - 1)'),\n"
    "  (4, 'L', 0, 0, 'local input: injection from the node''s core');\n";

struct trace_db {
  sqlite3 *conn;
  char *path;
  sqlite3_stmt *ins[M_NTYPES];
  sqlite3_stmt *multi[M_NTYPES]; /* TRACE_MULTI rows per statement */
  uv_thread_t thread;
  uv_mutex_t lock;      /* guards everything below */
  uv_cond_t work;       /* queue non-empty or stop */
  uv_cond_t space;      /* batches freed or committed */
  struct batch *qhead, *qtail; /* handed-over batches, in order */
  size_t queued;        /* batches in the queue or being written */
  struct batch *free_list;
  uint64_t units_in, units_done; /* units handed over / committed */
  int stop;
  int error;            /* first writer error (SM_E*) */
  char errmsg[1024];
  uint64_t rows;        /* rows inserted */
  uv_mutex_t conn_lock; /* the connection: writer vs synchronous calls */
};

struct trace_stream {
  struct trace_db *db;
  int64_t run;
  struct batch *head, *tail; /* the pending unit: whole frames so far */
  uint64_t last_hand;        /* ns (monotonic): the last hand-over */
};

/* ---- helpers ------------------------------------------------------------ */

static const char *const detail_names[] = {"summary", "layer", "link", "spike",
                                           "packet"};

int trace_detail_parse(const char *s, enum trace_detail *out) {
  for (int i = 0; i < (int)SM_ARRAY_LEN(detail_names); i++)
    if (!strcmp(s, detail_names[i])) {
      *out = (enum trace_detail)i;
      return 0;
    }
  return SM_EINVAL;
}

const char *trace_detail_name(enum trace_detail d) {
  return (unsigned)d < SM_ARRAY_LEN(detail_names) ? detail_names[d] : "?";
}

static void now_text(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* How long a connection waits for another process's lock, ms: ten
 * minutes, or SPIKEMESH_DB_TIMEOUT seconds (0.1 .. 86400). */
static int busy_ms(void) {
  const char *v = getenv("SPIKEMESH_DB_TIMEOUT");
  double secs;
  if (v && !sm_parse_double(v, &secs) && secs >= 0.1 && secs <= 86400)
    return (int)(secs * 1000);
  return TRACE_BUSY_DEFAULT_S * 1000;
}

/* The words after a "database is locked" error. */
static void busy_hint(char *buf, size_t len) {
  snprintf(buf, len, " (another process held the database locked for more "
           "than %g s, the longest the recorder waits; SPIKEMESH_DB_TIMEOUT "
           "sets it in seconds)", busy_ms() / 1000.0);
}

static int db_fail(struct trace_db *db, struct sm_err *err, const char *what) {
  int rc = sqlite3_errcode(db->conn);
  int code = SM_EIO;
  char hint[200] = "";
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    code = SM_EBUSY;
    busy_hint(hint, sizeof hint);
  } else if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
    code = SM_EFORMAT;
  }
  return sm_fail(err, code, "%s: %s: %s%s", db->path, what,
                 sqlite3_errmsg(db->conn), hint);
}

static int exec(struct trace_db *db, const char *sql, struct sm_err *err) {
  char *msg = NULL;
  if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return db_fail(db, err, "SQL");
  }
  return 0;
}

/* ---- writer thread -------------------------------------------------------- */

/* Bind n messages of one type into st, from parameter 1 on. */
static void bind_msgs(sqlite3_stmt *st, const struct msg *m, uint32_t n) {
  int ni = msg_sql[m->type].ni, nd = msg_sql[m->type].nd, p = 1;
  for (uint32_t k = 0; k < n; k++, m++) {
    const int64_t *iv = ni > 10 ? m->w : m->v;
    sqlite3_bind_int64(st, p++, m->run);
    for (int i = 0; i < ni; i++, p++)
      if (iv[i] == TRACE_NULL)
        sqlite3_bind_null(st, p);
      else
        sqlite3_bind_int64(st, p, iv[i]);
    for (int i = 0; i < nd; i++)
      sqlite3_bind_double(st, p++, m->d[i]);
  }
}

/* Write the messages [0, n) of a batch: runs of TRACE_MULTI rows of one
 * type go through the multi-row INSERT (one statement step for all of
 * them: the per-statement cost is most of an insert's), the rest one by
 * one. */
static int write_msgs(struct trace_db *db, const struct msg *m, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint32_t t = m[i].type, k = 1;
    sqlite3_stmt *st = db->ins[t];
    if (db->multi[t] && i + TRACE_MULTI <= n) {
      while (k < TRACE_MULTI && m[i + k].type == t)
        k++;
      if (k == TRACE_MULTI)
        st = db->multi[t];
      else
        k = 1;
    }
    bind_msgs(st, &m[i], k);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
      return rc;
    i += k;
  }
  return 0;
}

static void writer_error(struct trace_db *db, const char *what) {
  int rc = sqlite3_errcode(db->conn);
  int busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  char hint[200] = "";
  if (busy)
    busy_hint(hint, sizeof hint);
  uv_mutex_lock(&db->lock);
  if (!db->error) {
    db->error = busy ? SM_EBUSY : SM_EIO;
    snprintf(db->errmsg, sizeof db->errmsg, "%s: %s: %s%s; the frames "
             "after the last commit were not recorded", db->path, what,
             sqlite3_errmsg(db->conn), hint);
  }
  uv_mutex_unlock(&db->lock);
}

static void writer_main(void *arg) {
  struct trace_db *db = arg;
  int in_txn = 0, failed = 0;
  uint64_t rows_since = 0, last_commit = sm_now_ns();
  uv_mutex_lock(&db->lock);
  for (;;) {
    while (!db->qhead && !db->stop)
      uv_cond_wait(&db->work, &db->lock);
    if (!db->qhead && db->stop)
      break;
    struct batch *list = db->qhead;
    db->qhead = db->qtail = NULL;
    uv_mutex_unlock(&db->lock);

    uv_mutex_lock(&db->conn_lock);
    uint64_t units = 0, committed_units = 0;
    struct batch *done_head = NULL, **done_tail = &done_head;
    size_t nbatches = 0;
    for (struct batch *b = list, *next; b; b = next) {
      next = b->next;
      if (!failed) {
        if (!in_txn) {
          /* IMMEDIATE: the write lock is taken (or waited for) here,
           * never by upgrading a read in the middle of the transaction */
          if (sqlite3_exec(db->conn, "BEGIN IMMEDIATE", NULL, NULL,
                           NULL) != SQLITE_OK) {
            writer_error(db, "begin transaction");
            failed = 1;
          }
          in_txn = !failed;
        }
        if (write_msgs(db, b->m, b->n)) {
          writer_error(db, "insert");
          failed = 1;
        }
        rows_since += b->n;
        if (failed && in_txn) {
          sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
          in_txn = 0;
        }
      }
      if (b->unit_end) {
        units++;
        int commit = rows_since >= TRACE_COMMIT_ROWS || !next ||
                     sm_now_ns() - last_commit > TRACE_COMMIT_NS;
        if (in_txn && commit) {
          if (sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            writer_error(db, "commit");
            sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
            failed = 1;
          }
          in_txn = 0;
          rows_since = 0;
          last_commit = sm_now_ns();
        }
        if (!in_txn)
          committed_units = units;
      }
      *done_tail = b;
      done_tail = &b->next;
      nbatches++;
    }
    uv_mutex_unlock(&db->conn_lock);

    uv_mutex_lock(&db->lock);
    for (struct batch *b = done_head; b; b = b->next)
      db->rows += b->n;
    *done_tail = db->free_list;
    db->free_list = done_head;
    db->queued -= nbatches;
    /* A unit counts as done once committed, or once dropped after an
     * error (so that flushes and producers never wait forever). */
    db->units_done += failed ? units : committed_units;
    uv_cond_broadcast(&db->space);
  }
  uv_mutex_unlock(&db->lock);
  if (in_txn) {
    uv_mutex_lock(&db->conn_lock);
    sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
    uv_mutex_unlock(&db->conn_lock);
  }
}

/* ---- open / close ------------------------------------------------------- */

/* "INSERT INTO t(cols) VALUES (?,..),(?,..)..." with TRACE_MULTI tuples,
 * built from the one-row statement; NULL for statements that are not
 * plain inserts. */
static char *multi_sql(int type) {
  const char *one = msg_sql[type].sql;
  const char *v = strstr(one, "VALUES ");
  if (strncmp(one, "INSERT", 6) || !v)
    return NULL;
  const char *tuple = v + 7;
  size_t head = (size_t)(tuple - one), tl = strlen(tuple);
  char *sql = sm_xmalloc(head + TRACE_MULTI * (tl + 1) + 1);
  memcpy(sql, one, head);
  char *p = sql + head;
  for (int k = 0; k < TRACE_MULTI; k++) {
    if (k)
      *p++ = ',';
    memcpy(p, tuple, tl);
    p += tl;
  }
  *p = '\0';
  return sql;
}

/* What the file holds, read before anything is written to it: 0 and
 * *version = 0 for a file with no tables (new or empty: ours to fill), the
 * schema version of a spikemesh database, or SM_EFORMAT for a file that is
 * not SQLite or holds another program's tables (it is left as it was). */
static int identify(struct trace_db *db, int *version, struct sm_err *err) {
  *version = 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT name FROM sqlite_master WHERE name NOT LIKE "
                         "'sqlite!_%' ESCAPE '!' ORDER BY type DESC, name",
                         -1, &st, NULL) != SQLITE_OK) {
    int rc = sqlite3_errcode(db->conn);
    if (rc == SQLITE_NOTADB)
      return sm_fail(err, SM_EFORMAT, "%s: not a spikemesh database (not a "
                     "SQLite file at all); it was left as it is: record into "
                     "a new file", db->path);
    return db_fail(db, err, "reading the schema");
  }
  char names[256] = "";
  int n = 0, meta = 0, rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    if (!name)
      continue;
    meta |= !strcmp(name, "meta");
    size_t l = strlen(names);
    if (n < 6 && l + strlen(name) + 3 < sizeof names)
      snprintf(names + l, sizeof names - l, "%s%s", n ? ", " : "", name);
    else if (n == 6 && l + 5 < sizeof names)
      snprintf(names + l, sizeof names - l, ", ...");
    n++;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return rc == SQLITE_NOTADB
               ? sm_fail(err, SM_EFORMAT, "%s: not a spikemesh database (not "
                         "a SQLite file at all); it was left as it is: record "
                         "into a new file", db->path)
               : db_fail(db, err, "reading the schema");
  if (!n)
    return 0;
  int v = -1;
  if (meta && sqlite3_prepare_v2(db->conn, "SELECT value FROM meta WHERE "
                                 "key='schema_version'", -1, &st,
                                 NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
      v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  if (v <= 0)
    return sm_fail(err, SM_EFORMAT, "%s: not a spikemesh database (it holds "
                   "another program's tables: %s); it was left as it is: "
                   "record into a new file or a spikemesh database",
                   db->path, names);
  *version = v;
  return 0;
}

static int check_version(struct trace_db *db, int version,
                         struct sm_err *err) {
  if (version && (version < TRACE_SCHEMA_OLDEST ||
                  version > TRACE_SCHEMA_VERSION))
    return sm_fail(err, SM_EVERSION, "%s: database schema version %d, this "
                   "spikemesh reads version %d (and upgrades %d)", db->path,
                   version, TRACE_SCHEMA_VERSION, TRACE_SCHEMA_OLDEST);
  return 0;
}

/* After the tables exist (in the schema transaction): the version row of a
 * new file, or the upgrade of a version 3 or 4 file (version 4 adds the
 * claims table, version 5 the mapping and direction tables; schema_sql
 * creates them all). */
static int set_version(struct trace_db *db, int version, struct sm_err *err) {
  char sql[160];
  if (version == 0)
    snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES "
             "('schema_version', '%d')", TRACE_SCHEMA_VERSION);
  else if (version != TRACE_SCHEMA_VERSION)
    snprintf(sql, sizeof sql, "UPDATE meta SET value='%d' WHERE "
             "key='schema_version'", TRACE_SCHEMA_VERSION);
  else
    return 0;
  return exec(db, sql, err);
}

int trace_db_open(const char *path, struct trace_db **out, struct sm_err *err) {
  *out = NULL;
  /* SQLite takes "" (and ":memory:") for a database that is never written
   * to disk: a run recorded there would be lost without a word */
  if (!*path || !strcmp(path, ":memory:"))
    return sm_fail(err, SM_EINVAL, "database file name '%s': expected a file "
                   "(\"\" and \":memory:\" would record nothing)", path);
  /* a device or FIFO is no database: SQLite would create PATH-wal and
   * PATH-shm beside it (in /dev) and write pages into the device */
  struct stat sb;
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
    return sm_fail(err, SM_EINVAL, "%s: not a regular file (%s); a database "
                   "needs a file of its own", path,
                   S_ISDIR(sb.st_mode)    ? "a directory"
                   : S_ISCHR(sb.st_mode)  ? "a character device"
                   : S_ISBLK(sb.st_mode)  ? "a block device"
                   : S_ISFIFO(sb.st_mode) ? "a FIFO"
                                          : "not a file");
  struct trace_db *db = sm_xcalloc(1, sizeof *db);
  db->path = sm_xstrdup(path);
  int rc = sqlite3_open_v2(path, &db->conn,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_FULLMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    if (!db->conn)
      sm_oom(sizeof(void *));
    sm_fail(err, SM_EIO, "%s: cannot open database: %s", path,
            sqlite3_errmsg(db->conn));
    sqlite3_close(db->conn);
    free(db->path);
    free(db);
    return SM_EIO;
  }
  sqlite3_busy_timeout(db->conn, busy_ms());
  /* nothing is written before the file is known to be ours */
  int version = 0;
  int e = identify(db, &version, err);
  if (!e)
    e = check_version(db, version, err);
  /* 16 KiB pages (takes effect on a new file only): fewer page writes per
   * row for the long append-only tables */
  if (!e)
    e = exec(db, "PRAGMA page_size=16384", err);
  if (!e)
    e = exec(db, "PRAGMA journal_mode=WAL", err);
  if (!e)
    e = exec(db, "PRAGMA synchronous=NORMAL", err);
  /* a 64 MiB page cache and checkpoints every 40 MiB of WAL rather than
   * every 4: fewer fsyncs and page writes while inserting */
  if (!e)
    e = exec(db, "PRAGMA cache_size=-65536", err);
  if (!e)
    e = exec(db, "PRAGMA wal_autocheckpoint=10000", err);
  if (!e)
    e = exec(db, "BEGIN IMMEDIATE", err);
  if (!e) {
    /* another process may have created the schema since identify() */
    int v2 = 0;
    e = identify(db, &v2, err);
    if (!e)
      e = check_version(db, v2, err);
    if (!e)
      e = exec(db, schema_sql, err);
    if (!e)
      e = set_version(db, v2, err);
    if (!e)
      e = exec(db, "COMMIT", err);
    else
      sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
  }
  for (int i = 0; !e && i < M_NTYPES; i++) {
    if (sqlite3_prepare_v3(db->conn, msg_sql[i].sql, -1,
                           SQLITE_PREPARE_PERSISTENT, &db->ins[i],
                           NULL) != SQLITE_OK)
      e = db_fail(db, err, "preparing statements");
    char *sql = multi_sql(i);
    if (!e && sql &&
        sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &db->multi[i], NULL) != SQLITE_OK)
      e = db_fail(db, err, "preparing statements");
    free(sql);
  }
  if (e) {
    if (err && !strstr(err->msg, path))
      sm_err_prefix(err, "%s", path);
    for (int i = 0; i < M_NTYPES; i++) {
      sqlite3_finalize(db->ins[i]);
      sqlite3_finalize(db->multi[i]);
    }
    sqlite3_close(db->conn);
    free(db->path);
    free(db);
    return e;
  }
  uv_mutex_init(&db->lock);
  uv_mutex_init(&db->conn_lock);
  uv_cond_init(&db->work);
  uv_cond_init(&db->space);
  int te = uv_thread_create(&db->thread, writer_main, db);
  if (te) { /* e.g. no memory for its stack: an error, not an abort */
    sm_fail(err, SM_EIO, "%s: cannot start the recorder's writer thread: %s",
            path, uv_strerror(te));
    uv_mutex_destroy(&db->lock);
    uv_mutex_destroy(&db->conn_lock);
    uv_cond_destroy(&db->work);
    uv_cond_destroy(&db->space);
    for (int i = 0; i < M_NTYPES; i++) {
      sqlite3_finalize(db->ins[i]);
      sqlite3_finalize(db->multi[i]);
    }
    sqlite3_close(db->conn);
    free(db->path);
    free(db);
    return SM_EIO;
  }
  *out = db;
  return 0;
}

int trace_db_failed(struct trace_db *db, struct sm_err *err) {
  uv_mutex_lock(&db->lock);
  int e = db->error;
  if (e)
    sm_fail(err, e, "%s", db->errmsg);
  uv_mutex_unlock(&db->lock);
  return e;
}

int trace_db_flush(struct trace_db *db, struct sm_err *err) {
  uv_mutex_lock(&db->lock);
  while (db->units_done < db->units_in)
    uv_cond_wait(&db->space, &db->lock);
  uv_mutex_unlock(&db->lock);
  return trace_db_failed(db, err);
}

int trace_db_close(struct trace_db *db, struct sm_err *err) {
  if (!db)
    return 0;
  int e = trace_db_flush(db, err);
  uv_mutex_lock(&db->lock);
  db->stop = 1;
  uv_cond_signal(&db->work);
  uv_mutex_unlock(&db->lock);
  uv_thread_join(&db->thread);
  for (int i = 0; i < M_NTYPES; i++) {
    sqlite3_finalize(db->ins[i]);
    sqlite3_finalize(db->multi[i]);
  }
  /* A clean close checkpoints the WAL back into the main file. */
  sqlite3_close(db->conn);
  while (db->free_list) {
    struct batch *b = db->free_list;
    db->free_list = b->next;
    free(b);
  }
  uv_mutex_destroy(&db->lock);
  uv_mutex_destroy(&db->conn_lock);
  uv_cond_destroy(&db->work);
  uv_cond_destroy(&db->space);
  free(db->path);
  free(db);
  return e;
}

struct sqlite3 *trace__db_conn(struct trace_db *db) { return db->conn; }
const char *trace_db_path(const struct trace_db *db) { return db->path; }

uint64_t trace_db_rows(struct trace_db *db) {
  uv_mutex_lock(&db->lock);
  uint64_t r = db->rows;
  uv_mutex_unlock(&db->lock);
  return r;
}

/* ---- runs ----------------------------------------------------------------- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* The start of every synchronous statement on runs: wait until the writer
 * has committed what it was given, take the connection, prepare sql.  On
 * success the caller holds conn_lock and finalizes *st before unlocking;
 * on failure nothing is held. */
static int run_stmt(struct trace_db *db, const char *sql, sqlite3_stmt **st,
                    const char *what, struct sm_err *err) {
  int e = trace_db_flush(db, err);
  if (e)
    return e;
  uv_mutex_lock(&db->conn_lock);
  if (sqlite3_prepare_v2(db->conn, sql, -1, st, NULL) != SQLITE_OK) {
    e = db_fail(db, err, what);
    uv_mutex_unlock(&db->conn_lock);
  }
  return e;
}

/* ---- who records a run: claims -------------------------------------------
 *
 * A run belongs to one process at a time.  The process that inserts a run
 * row, or picks a run to resume, writes a claims row (its pid, host name,
 * start time) in the same IMMEDIATE transaction; trace_run_end() deletes it
 * in the transaction that sets the final status.  A second process that
 * would pick the same run finds the claim and is refused (a sweep point:
 * reported as held), unless the claim is stale: the same host, and
 * kill(pid, 0) says there is no such process (or it is a zombie). */

static void my_host(char *buf, size_t len) {
  if (gethostname(buf, len) != 0)
    snprintf(buf, len, "?");
  buf[len - 1] = '\0';
}

void trace_holder_text(const struct trace_holder *h, char *buf, size_t len) {
  snprintf(buf, len, "pid %lld on host %s since %s", (long long)h->pid,
           h->host, h->since);
}

/* 0 when the claim's process is gone, 1 when it runs or cannot be told
 * (another host). */
static int holder_alive(const struct trace_holder *h) {
  char host[sizeof h->host];
  my_host(host, sizeof host);
  if (strcmp(h->host, host))
    return 1;
  if (h->pid <= 0 || h->pid > INT32_MAX)
    return 0;
  if (kill((pid_t)h->pid, 0) != 0)
    return errno != ESRCH;
  /* killed but not yet reaped by its parent: it records nothing more */
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)h->pid);
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
      return 0;
  }
  return 1;
}

/* Claim run_id for this process (conn_lock held, inside a transaction). */
static int claim_row(struct trace_db *db, int64_t run_id, struct sm_err *err) {
  struct trace_holder me = {.pid = (int64_t)getpid()};
  my_host(me.host, sizeof me.host);
  now_text(me.since, sizeof me.since);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->conn,
                         "INSERT OR REPLACE INTO claims(run_id, pid, host, "
                         "since) VALUES (?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "claiming the run");
  sqlite3_bind_int64(st, 1, run_id);
  sqlite3_bind_int64(st, 2, me.pid);
  sqlite3_bind_text(st, 3, me.host, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, me.since, -1, SQLITE_TRANSIENT);
  int e = sqlite3_step(st) == SQLITE_DONE ? 0
                                          : db_fail(db, err, "claiming the run");
  sqlite3_finalize(st);
  return e;
}

/* Insert a run row (conn_lock held, inside a transaction). */
static int insert_run(struct trace_db *db, const struct trace_run_info *info,
                      int64_t *run_id, struct sm_err *err) {
  char now[32];
  now_text(now, sizeof now);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          db->conn,
          "INSERT INTO runs(kind, status, config, model_path, model_hash, "
          "point_key, detail, version, seed, frames_planned, frames_done, "
          "started_at, mesh_width, mesh_height) "
          "VALUES (?,'running',?,?,?,?,?,?,?,?,0,?,?,?)",
          -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "recording the run");
  bind_text_or_null(st, 1, info->kind);
  bind_text_or_null(st, 2, info->config_json ? info->config_json : "{}");
  bind_text_or_null(st, 3, info->model_path);
  bind_text_or_null(st, 4, info->model_hash);
  bind_text_or_null(st, 5, info->point_key);
  bind_text_or_null(st, 6, info->detail);
  bind_text_or_null(st, 7, sm_version());
  sqlite3_bind_int64(st, 8, (sqlite3_int64)info->seed);
  sqlite3_bind_int64(st, 9, info->frames_planned);
  bind_text_or_null(st, 10, now);
  if (info->mesh_width && info->mesh_height) {
    sqlite3_bind_int64(st, 11, (sqlite3_int64)info->mesh_width);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)info->mesh_height);
  }
  int e = 0;
  if (sqlite3_step(st) != SQLITE_DONE)
    e = db_fail(db, err, "recording the run");
  else
    *run_id = sqlite3_last_insert_rowid(db->conn);
  sqlite3_finalize(st);
  return e;
}

/* What differs between a recorded run (columns 2, 3, 4: config,
 * model_hash, detail) and the one asked to resume it, or NULL. */
static const char *resume_mismatch(sqlite3_stmt *st,
                                   const struct trace_run_info *info) {
  const char *cfg = (const char *)sqlite3_column_text(st, 2);
  const char *hash = (const char *)sqlite3_column_text(st, 3);
  const char *detail = (const char *)sqlite3_column_text(st, 4);
  if (info->config_json && (!cfg || strcmp(cfg, info->config_json)))
    return "another configuration; --resume needs the same options";
  if (info->model_hash && (!hash || strcmp(hash, info->model_hash)))
    return "a model file of other contents (its digest differs: the file "
           "changed since); --resume needs the same model";
  if (info->detail && (!detail || strcmp(detail, info->detail)))
    return "another --detail; --resume needs the same detail, or the frames "
           "before and after would hold different rows";
  return NULL;
}

/* The run a resume or a sweep point would take (conn_lock held, inside the
 * transaction): sets out->outcome to NONE (nothing to take: a point gets a
 * new run), COMPLETE, HELD or RESUMED (with run_id, frames_done and a stale
 * claim's holder). */
static int find_claimable(struct trace_db *db,
                          const struct trace_run_info *info,
                          enum trace_claim_how how, struct trace_claim *out,
                          struct sm_err *err) {
  sqlite3_stmt *st;
  const char *sql =
      how == TRACE_CLAIM_RESUME
          ? "SELECT r.run_id, r.frames_done, r.config, r.model_hash, "
            "r.detail, r.status, c.pid, c.host, c.since FROM runs r LEFT "
            "JOIN claims c ON c.run_id = r.run_id WHERE r.kind=? AND "
            "r.status!='complete' ORDER BY r.run_id DESC LIMIT 1"
          : "SELECT r.run_id, r.frames_done, r.config, r.model_hash, "
            "r.detail, r.status, c.pid, c.host, c.since FROM runs r LEFT "
            "JOIN claims c ON c.run_id = r.run_id WHERE r.kind=? AND "
            "r.point_key IS ? ORDER BY r.run_id DESC LIMIT 1";
  if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "looking up a run to resume");
  bind_text_or_null(st, 1, info->kind);
  if (how == TRACE_CLAIM_POINT)
    bind_text_or_null(st, 2, info->point_key);
  int e = 0;
  out->outcome = TRACE_CLAIM_NONE;
  if (sqlite3_step(st) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(st, 0);
    const char *status = (const char *)sqlite3_column_text(st, 5);
    int claimed = sqlite3_column_type(st, 6) != SQLITE_NULL;
    struct trace_holder h = {0};
    if (claimed) {
      h.pid = sqlite3_column_int64(st, 6);
      const char *t = (const char *)sqlite3_column_text(st, 7);
      snprintf(h.host, sizeof h.host, "%s", t ? t : "?");
      t = (const char *)sqlite3_column_text(st, 8);
      snprintf(h.since, sizeof h.since, "%s", t ? t : "?");
    }
    const char *why = resume_mismatch(st, info);
    if (how == TRACE_CLAIM_POINT && status && !strcmp(status, "failed")) {
      /* a point whose run failed gets a new run */
    } else if (claimed && holder_alive(&h)) {
      out->outcome = TRACE_CLAIM_HELD;
      out->run_id = id;
      out->holder = h;
      if (how == TRACE_CLAIM_RESUME) {
        char who[400], host[sizeof h.host], other[200] = "";
        trace_holder_text(&h, who, sizeof who);
        my_host(host, sizeof host);
        if (strcmp(h.host, host))
          snprintf(other, sizeof other, "; from another host this one cannot "
                   "tell whether it still runs: if it is gone, release the "
                   "run with sqlite3 FILE \"DELETE FROM claims WHERE "
                   "run_id=%lld\"", (long long)id);
        e = sm_fail(err, SM_EBUSY, "%s: run %lld is being recorded by %s; a "
                    "run belongs to one process at a time (wait for it to "
                    "end, or stop it and resume again)%s",
                    db->path, (long long)id, who, other);
      }
    } else if (how == TRACE_CLAIM_POINT && status &&
               !strcmp(status, "complete")) {
      out->outcome = TRACE_CLAIM_COMPLETE;
      out->run_id = id;
    } else if (why) {
      const char *d = (const char *)sqlite3_column_text(st, 4);
      e = sm_fail(err, SM_EINVAL, "%s: run %lld was recorded with %s "
                  "(recorded: detail %s)",
                  db->path, (long long)id, why, d ? d : "?");
    } else {
      out->outcome = TRACE_CLAIM_RESUMED;
      out->run_id = id;
      out->frames_done = sqlite3_column_int64(st, 1);
      out->took_over = claimed;
      out->holder = h;
    }
  }
  sqlite3_finalize(st);
  return e;
}

int trace_run_claim(struct trace_db *db, const struct trace_run_info *info,
                    enum trace_claim_how how, struct trace_claim *out,
                    struct sm_err *err) {
  memset(out, 0, sizeof *out);
  out->run_id = -1;
  int e = trace_db_flush(db, err);
  if (e)
    return e;
  uv_mutex_lock(&db->conn_lock);
  if (sqlite3_exec(db->conn, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
      SQLITE_OK) {
    e = db_fail(db, err, "claiming a run");
    uv_mutex_unlock(&db->conn_lock);
    return e;
  }
  if (how != TRACE_CLAIM_NEW)
    e = find_claimable(db, info, how, out, err);
  if (!e && (how == TRACE_CLAIM_NEW ||
             (how == TRACE_CLAIM_POINT && out->outcome == TRACE_CLAIM_NONE))) {
    e = insert_run(db, info, &out->run_id, err);
    out->outcome = TRACE_CLAIM_NEWRUN;
  }
  int take = out->outcome == TRACE_CLAIM_NEWRUN ||
             out->outcome == TRACE_CLAIM_RESUMED;
  if (!e && out->outcome == TRACE_CLAIM_RESUMED) {
    char sql[128];
    snprintf(sql, sizeof sql,
             "UPDATE runs SET status='running', ended_at=NULL WHERE "
             "run_id=%lld",
             (long long)out->run_id);
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
      e = db_fail(db, err, "reopening the run");
  }
  if (!e && take)
    e = claim_row(db, out->run_id, err);
  if (!e && take &&
      sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    e = db_fail(db, err, "claiming the run");
  if (e || !take)
    sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
  uv_mutex_unlock(&db->conn_lock);
  if (e && out->outcome != TRACE_CLAIM_HELD) {
    out->outcome = TRACE_CLAIM_NONE;
    out->run_id = -1;
  }
  return e;
}

int trace_run_begin(struct trace_db *db, const struct trace_run_info *info,
                    int64_t *run_id, struct sm_err *err) {
  struct trace_claim c;
  int e = trace_run_claim(db, info, TRACE_CLAIM_NEW, &c, err);
  if (!e)
    *run_id = c.run_id;
  return e;
}

int trace_run_end(struct trace_db *db, int64_t run_id, const char *status,
                  struct sm_err *err) {
  /* A writer error means frames were lost: say so in the status. */
  int e = trace_db_flush(db, err);
  char now[32];
  now_text(now, sizeof now);
  struct sm_err e2 = {0};
  uv_mutex_lock(&db->conn_lock);
  int rc = 0;
  if (sqlite3_exec(db->conn, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
      SQLITE_OK) {
    uv_mutex_unlock(&db->conn_lock);
    rc = db_fail(db, &e2, "closing the run");
    goto out;
  }
  /* the run must still be ours (a claim taken over as stale belongs to
   * the process that took it) */
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT pid, host, since FROM claims WHERE run_id=?",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, &e2, "closing the run");
  } else {
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
      struct trace_holder h = {.pid = sqlite3_column_int64(st, 0)};
      const char *t = (const char *)sqlite3_column_text(st, 1);
      snprintf(h.host, sizeof h.host, "%s", t ? t : "?");
      t = (const char *)sqlite3_column_text(st, 2);
      snprintf(h.since, sizeof h.since, "%s", t ? t : "?");
      char host[sizeof h.host];
      my_host(host, sizeof host);
      if (h.pid != (int64_t)getpid() || strcmp(h.host, host)) {
        char who[400];
        trace_holder_text(&h, who, sizeof who);
        rc = sm_fail(&e2, SM_EBUSY, "%s: run %lld was taken over by %s; its "
                     "status is left to that process", db->path,
                     (long long)run_id, who);
      }
    }
    sqlite3_finalize(st);
  }
  if (!rc && sqlite3_prepare_v2(db->conn,
                                "UPDATE runs SET status=?, ended_at=? WHERE "
                                "run_id=?",
                                -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, &e2, "closing the run");
  } else if (!rc) {
    sqlite3_bind_text(st, 1, e ? "failed" : status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, run_id);
    if (sqlite3_step(st) != SQLITE_DONE)
      rc = db_fail(db, &e2, "closing the run");
    sqlite3_finalize(st);
  }
  if (!rc) {
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM claims WHERE run_id=%lld",
             (long long)run_id);
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      rc = db_fail(db, &e2, "closing the run");
  }
  if (rc)
    sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
  uv_mutex_unlock(&db->conn_lock);
out:
  if (e && rc && err) {
    /* both: the writer's error, and that the status could not be set */
    size_t l = strlen(err->msg);
    snprintf(err->msg + l, sizeof err->msg - l, "; the run could not be "
             "marked failed either: %s", e2.msg);
  } else if (rc && err) {
    *err = e2;
  }
  return e ? e : rc;
}

static char *column_dup(sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return sm_xstrdup(t ? t : "");
}

int trace_run_find(struct trace_db *db, const char *kind, const char *point_key,
                   struct trace_run_found *out, struct sm_err *err) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st;
  int found = run_stmt(db,
                       "SELECT run_id, status, frames_done, config, "
                       "model_hash, detail FROM runs WHERE kind=? AND "
                       "point_key IS ? ORDER BY run_id DESC LIMIT 1",
                       &st, "looking up a run", err);
  if (found)
    return found;
  bind_text_or_null(st, 1, kind);
  bind_text_or_null(st, 2, point_key);
  if (sqlite3_step(st) == SQLITE_ROW) {
    found = 1;
    out->run_id = sqlite3_column_int64(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 1);
    snprintf(out->status, sizeof out->status, "%s", t ? t : "");
    out->frames_done = sqlite3_column_int64(st, 2);
    out->config = column_dup(st, 3);
    out->model_hash = column_dup(st, 4);
    t = (const char *)sqlite3_column_text(st, 5);
    snprintf(out->detail, sizeof out->detail, "%s", t ? t : "");
  }
  sqlite3_finalize(st);
  uv_mutex_unlock(&db->conn_lock);
  return found;
}

void trace_run_found_free(struct trace_run_found *f) {
  free(f->config);
  free(f->model_hash);
  f->config = f->model_hash = NULL;
}

int trace_run_stats(struct trace_db *db, int64_t run_id,
                    struct trace_run_stats *out, struct sm_err *err) {
  memset(out, 0, sizeof *out);
  out->peak_util = -1;
  sqlite3_stmt *st;
  int e = run_stmt(db,
                   "SELECT count(*), avg(CASE WHEN label >= 0 THEN "
                   "label = prediction END), avg(e_total_pj), "
                   "avg(e_sop_pj), avg(e_hop_pj), avg(e_static_pj), "
                   "avg(latency_ps), avg(hops), avg(late_spikes) FROM frames "
                   "WHERE run_id=?",
                   &st, "reading a run's frames", err);
  if (e)
    return e;
  sqlite3_bind_int64(st, 1, run_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    out->frames = sqlite3_column_int64(st, 0);
    out->accuracy = sqlite3_column_type(st, 1) == SQLITE_NULL
                        ? -1
                        : sqlite3_column_double(st, 1);
    out->e_total_uj = sqlite3_column_double(st, 2) * 1e-6;
    out->e_sop_uj = sqlite3_column_double(st, 3) * 1e-6;
    out->e_hop_uj = sqlite3_column_double(st, 4) * 1e-6;
    out->e_static_uj = sqlite3_column_double(st, 5) * 1e-6;
    out->latency_us = sqlite3_column_double(st, 6) * 1e-6;
    out->hops = sqlite3_column_double(st, 7);
    out->late = sqlite3_column_double(st, 8);
  }
  sqlite3_finalize(st);
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT max(utilization) FROM links WHERE run_id=?",
                         -1, &st, NULL) != SQLITE_OK) {
    e = db_fail(db, err, "reading a run's links");
  } else {
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
      out->peak_util = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
  }
  uv_mutex_unlock(&db->conn_lock);
  return e;
}

int trace_run_resume(struct trace_db *db, const struct trace_run_info *info,
                     int64_t *run_id, int64_t *frames_done,
                     struct sm_err *err) {
  struct trace_claim c;
  int e = trace_run_claim(db, info, TRACE_CLAIM_RESUME, &c, err);
  if (e)
    return e;
  if (c.outcome != TRACE_CLAIM_RESUMED)
    return 0;
  *run_id = c.run_id;
  *frames_done = c.frames_done;
  return 1;
}

/* ---- streams ---------------------------------------------------------- */

struct trace_stream *trace_stream_open(struct trace_db *db, int64_t run_id) {
  struct trace_stream *s = sm_xcalloc(1, sizeof *s);
  s->db = db;
  s->run = run_id;
  s->last_hand = sm_now_ns();
  return s;
}

static struct batch *get_batch(struct trace_db *db) {
  uv_mutex_lock(&db->lock);
  while (!db->free_list && db->queued >= TRACE_QUEUE_BATCHES)
    uv_cond_wait(&db->space, &db->lock);
  struct batch *b = db->free_list;
  if (b)
    db->free_list = b->next;
  uv_mutex_unlock(&db->lock);
  if (!b)
    b = sm_xmalloc(sizeof *b);
  b->next = NULL;
  b->n = 0;
  b->unit_end = 0;
  return b;
}

static inline struct msg *slot(struct trace_stream *s, uint32_t type) {
  if (!s->tail || s->tail->n == TRACE_BATCH) {
    struct batch *b = get_batch(s->db);
    if (s->tail)
      s->tail->next = b;
    else
      s->head = b;
    s->tail = b;
  }
  struct msg *m = &s->tail->m[s->tail->n++];
  m->type = type;
  m->run = s->run;
  return m;
}

static void hand_over(struct trace_stream *s) {
  if (!s->head)
    return;
  struct trace_db *db = s->db;
  s->tail->unit_end = 1;
  size_t n = 0;
  for (struct batch *b = s->head; b; b = b->next)
    n++;
  uv_mutex_lock(&db->lock);
  if (db->qtail)
    db->qtail->next = s->head;
  else
    db->qhead = s->head;
  db->qtail = s->tail;
  db->queued += n;
  db->units_in++;
  uv_cond_signal(&db->work);
  uv_mutex_unlock(&db->lock);
  s->head = s->tail = NULL;
}

void trace_stream_unit_end(struct trace_stream *s) { hand_over(s); }

void trace_stream_close(struct trace_stream *s) {
  if (!s)
    return;
  hand_over(s);
  free(s);
}

void trace_frame_end(struct trace_stream *s, int64_t frame) {
  struct msg *m = slot(s, M_FRAME_END);
  m->v[0] = frame;
  uint64_t now = sm_now_ns();
  if (s->head != s->tail || s->tail->n >= TRACE_BATCH / 2 ||
      now - s->last_hand >= TRACE_HAND_NS) {
    hand_over(s);
    s->last_hand = now;
  }
}

void trace_put_frame(struct trace_stream *s, const struct trace_frame_row *r) {
  struct msg *m = slot(s, M_FRAME);
  int64_t v[] = {r->frame, r->label,  r->prediction, r->input_spikes,
                 r->spikes, r->sops,  r->hops,       r->late,
                 r->t_start, r->latency};
  memcpy(m->v, v, sizeof v);
  m->d[0] = r->e_sop;
  m->d[1] = r->e_hop;
  m->d[2] = r->e_static;
  m->d[3] = r->e_total;
}

void trace_put_layer(struct trace_stream *s, const struct trace_layer_row *r) {
  struct msg *m = slot(s, M_LAYER);
  int64_t v[] = {r->frame, r->layer, r->neurons,      r->spikes, r->sops,
                 r->hops,  r->late,  r->window_start, r->fired};
  memcpy(m->v, v, sizeof v);
}

void trace_put_layerdef(struct trace_stream *s,
                        const struct trace_layerdef_row *r) {
  struct msg *m = slot(s, M_LAYERDEF);
  int64_t v[] = {r->layer, r->type,  r->channels, r->height,
                 r->width, r->pool,  r->neurons,  r->outputs};
  memcpy(m->v, v, sizeof v);
}

void trace_put_mapping(struct trace_stream *s,
                       const struct trace_mapping_row *r) {
  struct msg *m = slot(s, M_MAPPING);
  int64_t v[MSG_WIDE] = {r->grp,  r->layer, r->c0,   r->c1,      r->y0,
                         r->y1,   r->x0,    r->x1,   r->iy0,     r->iy1,
                         r->ix0,  r->ix1,   r->core, r->node,    r->x,
                         r->y,    r->neurons, r->sram_bytes};
  memcpy(m->w, v, sizeof v);
}

void trace_put_link(struct trace_stream *s, const struct trace_link_row *r) {
  struct msg *m = slot(s, M_LINK);
  int64_t v[] = {r->frame, r->node, r->dir, r->flits, r->busy_ps};
  memcpy(m->v, v, sizeof v);
  m->d[0] = r->utilization;
}

void trace_put_port(struct trace_stream *s, const struct trace_port_row *r) {
  struct msg *m = slot(s, M_PORT);
  int64_t v[] = {r->frame, r->node, r->port, r->flits, r->blocked_ps,
                 r->peak_occupancy};
  memcpy(m->v, v, sizeof v);
  m->d[0] = r->mean_occupancy;
}

void trace_put_core(struct trace_stream *s, const struct trace_core_row *r) {
  struct msg *m = slot(s, M_CORE);
  int64_t v[] = {r->frame,   r->core,   r->node, r->layer,
                 r->neurons, r->spikes, r->sops, r->late};
  memcpy(m->v, v, sizeof v);
}

void trace_put_spike(struct trace_stream *s, const struct trace_spike_row *r) {
  struct msg *m = slot(s, M_SPIKE);
  m->v[0] = r->frame;
  m->v[1] = r->layer;
  m->v[2] = r->neuron;
  m->v[3] = r->core;
  m->v[4] = r->time_ps;
  m->v[5] = r->step;
}

void trace_put_packet(struct trace_stream *s,
                      const struct trace_packet_row *r) {
  struct msg *m = slot(s, M_PACKET);
  int64_t v[] = {r->frame,  r->src,     r->dst,  r->t_send,
                 r->t_inject, r->t_eject, r->hops, r->blocked_ps};
  memcpy(m->v, v, sizeof v);
}

void trace_put_noc(struct trace_stream *s, const struct trace_noc_row *r) {
  struct msg *m = slot(s, M_NOC);
  m->v[0] = r->packets;
  m->v[1] = r->saturated;
  m->d[0] = r->offered;
  m->d[1] = r->accepted;
  m->d[2] = r->lat_mean;
  m->d[3] = r->lat_p50;
  m->d[4] = r->lat_p99;
  m->d[5] = r->lat_max;
}
