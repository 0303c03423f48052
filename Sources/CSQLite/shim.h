// The system SQLite 3 library (Debian: libsqlite3-dev) for ami-store's database.
#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: these set the process-wide options
// ami-store uses before SQLite is first initialised. Each connection is used by one thread at a
// time (multi-thread mode: no per-connection mutex); no memory statistics are kept (no global
// allocator mutex); a statement's journal (the pages it changed, kept so that the statement alone
// can be undone) stays in memory up to `bytes` before it goes to a temporary file. Return
// SQLITE_MISUSE when SQLite is already initialised.
static inline int ami_sqlite3_config_multithread(void) { return sqlite3_config(SQLITE_CONFIG_MULTITHREAD); }
static inline int ami_sqlite3_config_no_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
static inline int ami_sqlite3_config_statement_journal_spill(int bytes) { return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes); }
