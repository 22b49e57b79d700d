/*
 * The SQL of a durable 10-step linear workflow run, executed from C with no engine, no
 * JavaScript and no driver, next to the raw single-row INSERT commit that the workflow bench
 * compares with. Same SQLite amalgamation and compile options as better-sqlite3 (run.sh).
 * It separates what the database costs from what majra's engine costs.
 *
 * usage: floor <statements dir> <db file> <normal|full> <runs per round> <rounds> <shape>
 *   store           the store's own statements (workflow-store.sql, written by statements.ts),
 *                   grouped as the store groups them: creation + first start in one
 *                   transaction, 9 fenced step pairs, last outcome + final update in one
 *   minimal         the least this contract can write: a run row findable by its id, one
 *                   fenced single-row append per step commit, one final update
 *   minimal+list    minimal plus the two listing indexes (creation order, per workflow)
 *   minimal+list+done  plus the retention index (its condition written with OR)
 * Rounds alternate the workflow and 10 raw commits per run, like bench/workflow.bench.ts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "sqlite3.h"

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

static char *slurp(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.sql", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc(n + 1);
  if (fread(s, 1, n, f) != (size_t)n) { perror(path); exit(1); }
  s[n] = 0;
  fclose(f);
  return s;
}

static sqlite3_stmt *prep(const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, 0) != SQLITE_OK) die(sql);
  return st;
}

static void exec(const char *sql) {
  if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK) die(sql);
}

static void run_stmt(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) die("step");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* Positional binding helpers: k is the next parameter index. */
static void t(sqlite3_stmt *st, int *k, const char *v) {
  if (v) sqlite3_bind_text(st, (*k)++, v, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, (*k)++);
}
static void n(sqlite3_stmt *st, int *k, sqlite3_int64 v) { sqlite3_bind_int64(st, (*k)++, v); }
static void z(sqlite3_stmt *st, int *k) { sqlite3_bind_null(st, (*k)++); }

/* The nine record fields of the store's step statements (see workflow-store.sql). */
static void record(sqlite3_stmt *st, int *k, const char *step, int done, sqlite3_int64 now) {
  t(st, k, step);
  t(st, k, done ? "completed" : "running");
  n(st, k, 1);
  t(st, k, done ? "1" : "null");
  z(st, k);
  n(st, k, now);
  if (done) n(st, k, now); else z(st, k);
  if (done) n(st, k, 0); else z(st, k);
  z(st, k);
}

static void uuid(char out[37]) {
  static const char *hex = "0123456789abcdef";
  for (int i = 0; i < 36; i++) out[i] = hex[(rand() >> 4) & 15];
  out[8] = out[13] = out[18] = out[23] = '-';
  out[14] = '4';
  out[36] = 0;
}

static sqlite3_stmt *s_begin, *s_commit, *s_insert_run, *s_upsert, *s_pair, *s_single, *s_update,
    *s_raw, *m_insert_run, *m_append, *m_final;
static sqlite3_int64 now_ms = 1700000000000;
static const char *OWNER = "0f0e0d0c-0b0a-4908-8706-050403020100";

static void store_run(void) {
  char id[37], a[8], b[8];
  uuid(id);
  sqlite3_int64 now = ++now_ms;
  int k = 1;
  run_stmt(s_begin);
  t(s_insert_run, &k, id); t(s_insert_run, &k, "linear10"); t(s_insert_run, &k, "5f3c2a9e1b7d4c60");
  t(s_insert_run, &k, "running"); t(s_insert_run, &k, "null"); n(s_insert_run, &k, now);
  n(s_insert_run, &k, now); n(s_insert_run, &k, now); t(s_insert_run, &k, OWNER);
  n(s_insert_run, &k, now + 30000);
  run_stmt(s_insert_run);
  k = 1;
  n(s_upsert, &k, sqlite3_last_insert_rowid(db));
  record(s_upsert, &k, "s0", 0, now);
  n(s_upsert, &k, now);
  run_stmt(s_upsert);
  run_stmt(s_commit);
  for (int i = 0; i < 9; i++) {
    snprintf(a, sizeof a, "s%d", i);
    snprintf(b, sizeof b, "s%d", i + 1);
    k = 1;
    n(s_pair, &k, now);
    record(s_pair, &k, a, 1, now);
    record(s_pair, &k, b, 0, now);
    t(s_pair, &k, id);
    t(s_pair, &k, OWNER);
    run_stmt(s_pair);
    if (sqlite3_changes(db) != 2) die("pair fenced out");
  }
  run_stmt(s_begin);
  k = 1;
  n(s_single, &k, now);
  record(s_single, &k, "s9", 1, now);
  t(s_single, &k, id);
  t(s_single, &k, OWNER);
  run_stmt(s_single);
  k = 1;
  n(s_update, &k, 1); t(s_update, &k, "completed");    /* status */
  n(s_update, &k, 1); t(s_update, &k, "{\"s9\":1}");   /* output */
  n(s_update, &k, 0); z(s_update, &k);                 /* error */
  n(s_update, &k, 0); z(s_update, &k);                 /* startedAt */
  n(s_update, &k, 1); n(s_update, &k, now);            /* completedAt */
  n(s_update, &k, now); n(s_update, &k, 1); n(s_update, &k, 1);
  t(s_update, &k, id); t(s_update, &k, OWNER);
  run_stmt(s_update);
  if (sqlite3_changes(db) != 1) die("update fenced out");
  run_stmt(s_commit);
}

static void minimal_run(void) {
  char id[37];
  uuid(id);
  sqlite3_int64 now = ++now_ms;
  int k = 1;
  t(m_insert_run, &k, id); t(m_insert_run, &k, OWNER); n(m_insert_run, &k, now);
  t(m_insert_run, &k, "[[\"s0\",\"running\",1]]");
  run_stmt(m_insert_run);
  sqlite3_int64 seq = sqlite3_last_insert_rowid(db);
  for (int i = 0; i < 9; i++) {
    k = 1;
    n(m_append, &k, seq * 1024 + i);
    t(m_append, &k, "[[\"s1\",\"completed\",1,1],[\"s2\",\"running\",1]]");
    n(m_append, &k, seq);
    t(m_append, &k, OWNER);
    run_stmt(m_append);
  }
  k = 1;
  t(m_final, &k, "[[\"s9\",\"completed\",1,1]]"); n(m_final, &k, now); n(m_final, &k, seq);
  t(m_final, &k, OWNER);
  run_stmt(m_final);
}

static const char *BODY = "{\"runId\":\"00000000-0000-0000-0000-000000000000\",\"output\":1}";

static void raw10(void) {
  for (int i = 0; i < 10; i++) {
    sqlite3_bind_text(s_raw, 1, BODY, -1, SQLITE_STATIC);
    run_stmt(s_raw);
  }
}

/* WAL frames appended, counted through the commit hook (frames per step are what the
 * checkpoints, and with them the fsyncs of synchronous=NORMAL, scale with). */
static long long frames;
static int last_wal;
static int wal_hook(void *arg, sqlite3 *d, const char *name, int n) {
  (void)arg; (void)d; (void)name;
  frames += n >= last_wal ? n - last_wal : n;
  last_wal = n;
  /* What the default hook (wal_autocheckpoint = 1000) does, which this one replaces. */
  if (n >= 1000) sqlite3_wal_checkpoint(d, name);
  return SQLITE_OK;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

static double wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: see the comment at the top of floor.c\n"); return 2; }
  const char *dir = argv[1], *shape = argv[6];
  int runs = atoi(argv[4]), rounds = atoi(argv[5]);
  int minimal = strncmp(shape, "minimal", 7) == 0;
  if (!minimal && strcmp(shape, "store") != 0) { fprintf(stderr, "unknown shape %s\n", shape); return 2; }
  if (sqlite3_open(argv[2], &db) != SQLITE_OK) die("open");
  exec("PRAGMA busy_timeout = 5000");
  exec("PRAGMA journal_mode = WAL");
  exec(strcmp(argv[3], "full") == 0 ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  if (minimal) {
    exec("CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, workflow_id TEXT, "
         "owner TEXT, created_at INTEGER NOT NULL, completed_at INTEGER, status TEXT NOT NULL, "
         "first TEXT, last TEXT)");
    exec("CREATE TABLE log (k INTEGER PRIMARY KEY, records TEXT NOT NULL)");
    if (strstr(shape, "+list")) {
      exec("CREATE INDEX runs_created ON runs (created_at, id)");
      exec("CREATE INDEX runs_workflow ON runs (workflow_id, created_at, id)");
    }
    if (strstr(shape, "+done")) {
      exec("CREATE INDEX runs_done ON runs (completed_at, id) "
           "WHERE status = 'completed' OR status = 'failed' OR status = 'cancelled'");
    }
    m_insert_run = prep("INSERT INTO runs (id, workflow_id, owner, created_at, status, first) "
                        "VALUES (?, 'linear10', ?, ?, 'running', ?)");
    m_append = prep("INSERT INTO log (k, records) SELECT ?, ? FROM runs WHERE seq = ? AND owner = ?");
    m_final = prep("UPDATE runs SET status = 'completed', last = ?, completed_at = ?, owner = NULL "
                   "WHERE seq = ? AND owner = ?");
  } else {
    exec(slurp(dir, "tables"));
    exec(slurp(dir, "indexes"));
    s_begin = prep("BEGIN IMMEDIATE");
    s_commit = prep("COMMIT");
    s_insert_run = prep(slurp(dir, "insertRun"));
    s_upsert = prep(slurp(dir, "upsertStep"));
    s_pair = prep(slurp(dir, "saveStepPair"));
    s_single = prep(slurp(dir, "saveStep"));
    s_update = prep(slurp(dir, "updateRun"));
  }
  exec("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  s_raw = prep("INSERT INTO bench_raw (body) VALUES (?)");
  void (*one_run)(void) = minimal ? minimal_run : store_run;
  for (int i = 0; i < runs; i++) { one_run(); raw10(); } /* both tables to a steady size */
  sqlite3_wal_hook(db, wal_hook, 0);
  double wf_cpu = 0, wf_wall = 0, raw_cpu = 0, raw_wall = 0;
  long long wf_frames = 0, raw_frames = 0;
  for (int r = 0; r < rounds; r++) {
    double c = cpu_us(), w = wall_us();
    long long f = frames;
    for (int i = 0; i < runs; i++) one_run();
    wf_frames += frames - f;
    wf_cpu += cpu_us() - c;
    wf_wall += wall_us() - w;
    c = cpu_us();
    w = wall_us();
    f = frames;
    for (int i = 0; i < runs; i++) raw10();
    raw_frames += frames - f;
    raw_cpu += cpu_us() - c;
    raw_wall += wall_us() - w;
  }
  double steps = (double)runs * rounds * 10;
  printf("%-18s %-6s per step %6.2f us CPU %6.2f us wall %4.2f frames | raw commit %6.2f us CPU"
         " %6.2f us wall %4.2f frames | ratio %.2fx CPU %.2fx wall\n",
         shape, argv[3], wf_cpu / steps, wf_wall / steps, wf_frames / steps, raw_cpu / steps,
         raw_wall / steps, raw_frames / steps, raw_cpu / wf_cpu, raw_wall / wf_wall);
  sqlite3_close(db);
  return 0;
}
