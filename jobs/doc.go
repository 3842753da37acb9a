// Package jobs runs background jobs on River (github.com/riverqueue/river),
// a queue kept in the application's own database, with the request scope's
// rules.
//
// A [Client] is River's client on the application's pool: PostgreSQL
// through River's database/sql driver, SQLite through its SQLite driver.
// MySQL has no River driver: [New] fails there with [ErrNoDriver].
//
// Jobs are inserted in a unit of work's transaction ([Client.Insert] on a
// *db.Tx, or an [Enqueuer] resolved from the request's scope): a unit of
// work that rolls back leaves no job, and no job is worked before its
// unit of work committed.
//
// A worker is declared like a handler, with [Work0], [Work1], [Work2] or
// [Work3]: a func of the job and of dependencies resolved from a fresh
// scope for each attempt, with its own lazy transaction. When the work
// returns nil, the job is marked completed in that transaction, which then
// commits: the job's writes and its completion commit together, or not at
// all. On PostgreSQL one small UPDATE of River's river_job does it, what
// river.JobCompleteTx does to a running job at a fraction of its cost,
// sent with the COMMIT in one round trip (db.Tx.ExecAtCommit); on SQLite,
// river.JobCompleteTx. An attempt whose run of the job ended
// meanwhile (River's rescuer took the job back, or it was deleted) fails
// with [ErrJobNotRunning] and rolls back. An error, a panic or the job's
// timeout rolls the attempt's writes back, and River retries the job with
// its backoff. A worker whose dependency nothing provides fails
// [Client.Start], naming the type, and so do River's tables when they are
// not migrated ([ErrNotMigrated]).
package jobs
