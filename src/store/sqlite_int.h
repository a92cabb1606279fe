/* Internals of the SQLite backend, shared by its files. */
#ifndef BW_SQLITE_INT_H
#define BW_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

#define SQ_CACHE 256 /* ~190 statements in all; events (0011) 17 */

struct sq_store {
	struct bw_store base;
	sqlite3 *db;
	int depth; /* open transactions: the outer one, then savepoints */
	struct {
		const char *sql; /* static text: compared by pointer */
		sqlite3_stmt *st;
	} cache[SQ_CACHE];
};

#define SQ(s) ((struct sq_store *)(s))

/* A prepared statement for a static SQL text, reset and ready to bind. */
sqlite3_stmt *bw_sq__stmt(struct sq_store *q, const char *sql);
bw_result bw_sq__exec(sqlite3 *db, const char *sql);
/* Binds text that outlives the step (a field of the caller's struct); the
 * _opt form binds NULL for NULL or "". */
void bw_sq__bind(sqlite3_stmt *st, int i, const char *v);
void bw_sq__bind_opt(sqlite3_stmt *st, int i, const char *v);
/* Reads one row of SQL bound to (instance, id), or a page bound to
 * (instance, after, limit), with row() filling each item. */
typedef void(bw_sq_row_fn)(sqlite3_stmt *st, void *item);
bw_result bw_sq__one(struct sq_store *q, const char *sql, const char *iid, const char *id,
                     bw_sq_row_fn *row, void *out);
bw_result bw_sq__page(struct sq_store *q, const char *sql, const char *iid, const char *after,
                      size_t max, bw_sq_row_fn *row, void *out, size_t size, size_t *n);
bw_result bw_sq__begin(struct sq_store *q);
bw_result bw_sq__end(struct sq_store *q, bw_result r); /* commit on BW_OK, else roll back */
void bw_sq__text(char *dst, size_t n, sqlite3_stmt *st, int col);
char *bw_sq__dup(sqlite3_stmt *st, int col); /* malloc'd copy or NULL */
bw_result bw_sq__step_done(sqlite3_stmt *st); /* DONE → OK, constraint → CONFLICT */
/* As step_done, and BW_NOTFOUND when no row changed. */
bw_result bw_sq__step_changed(struct sq_store *q, sqlite3_stmt *st);

#endif
