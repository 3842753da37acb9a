// Package pgbegin is the database/sql connector the db package opens
// PostgreSQL pools with: pgx's own (github.com/jackc/pgx/v5/stdlib), its
// connections wrapped so that a transaction's BEGIN travels with the
// transaction's first statement.
//
// # Why
//
// database/sql's BeginTx sends BEGIN and waits for its answer before the
// first statement can go: a round trip that does no work. A request whose
// transaction reads one row pays three (BEGIN, SELECT, COMMIT); with the
// database in another zone, that round trip is a third of its latency.
// With this connector it pays two, as a hand-written query without a
// transaction would plus its COMMIT; one, when the transaction is
// read-only below serializable (see below).
//
// # What it does
//
// BeginTx sends nothing; it keeps the BEGIN statement (with its isolation
// level and read-only flag). The transaction's first statement goes out as
// BEGIN, then the statement, in one write, and both answers come back in
// one read. A transaction that runs no statement sends nothing at all, and
// its COMMIT or ROLLBACK sends nothing either.
//
// A statement rides with BEGIN only when the connection has prepared it
// before: the connection must know its columns to ask for each in the
// format pgx's stdlib asks for, so that the first statement of a
// transaction scans exactly as the others do (see rows.go). The first
// time, BEGIN goes alone, the statement is prepared under the name pgx's
// stdlib uses for a statement it was asked to prepare, and it runs through
// stdlib as usual, which finds it prepared. Each connection keeps at most
// 256 such statements, least recently used out; a statement the server no
// longer runs as prepared (its table changed) is forgotten and prepared
// again. An Exec without arguments (pgx runs it by the simple protocol,
// and it may hold several statements) and a statement given pgx options
// (a query mode, result formats) send BEGIN alone first. Connections whose DSN chose another query mode than pgx's
// default (the simple protocol, for a pooler that cannot keep prepared
// statements) are not changed at all.
//
// # Failures
//
// When BEGIN fails, the transaction's statements fail with its error
// instead of running outside a transaction, and so does its COMMIT; when
// nothing reached the server, the error is driver.ErrBadConn, so that
// database/sql retries on another connection. A COMMIT or ROLLBACK that
// fails in a way that may leave the connection inside the transaction
// closes the connection, which database/sql then drops: the next user of
// the connection never joins a half-finished transaction. A COMMIT of a
// failed transaction, which the server answers with ROLLBACK, returns
// pgx.ErrTxCommitRollback. A second COMMIT of a transaction already ended
// fails; a second ROLLBACK does nothing.
//
// # COMMIT of a read-only transaction
//
// A transaction begun read-only at read committed, repeatable read (or
// read uncommitted, which PostgreSQL runs as read committed) sends its
// COMMIT without waiting for the answer: Commit returns once COMMIT is
// written, and the connection goes back to the pool. BEGIN, a SELECT and
// COMMIT then cost one round trip. The server runs the COMMIT as soon as
// it arrives; the connection reads its answer at its next use, before
// any other answer: a transaction's first statement sent with BEGIN goes
// out at once, and the three answers (COMMIT's, BEGIN's, the statement's)
// come back in one read, so that a request served right after another on
// the same connection does not wait for the previous COMMIT either. Any
// other use reads the answer first (Exec, Query, Prepare, Ping, Conn,
// Close, a statement's Close, and ResetSession when the COMMIT went more
// than a second ago). An answer other than a successful COMMIT closes the
// connection, which database/sql then drops and replaces: the next user
// never joins a half-finished transaction. If that user's BEGIN already
// went out behind it, its transaction fails with an error that is
// driver.ErrBadConn. The COMMIT is sent under a context of its own, so
// the request's context, cancelled once the response is written, does
// not interrupt it; the next user's context bounds the wait for the
// answer. Until the answer is read, pgx holds the connection busy (the
// COMMIT is sent in a pgconn pipeline): a path that would use it without
// reading the answer first fails with "conn busy" rather than misread it.
//
// Such a transaction wrote nothing to commit, so its COMMIT has nothing to
// report. The COMMIT waits as usual when that is not known:
//   - the transaction is serializable (a serializable transaction may
//     fail at COMMIT), or was begun at the session's default level and the
//     server answers, with BEGIN, that this level is serializable;
//   - it failed (COMMIT answers ROLLBACK), or it is no longer open;
//   - one of its statements controls transactions or sets their
//     characteristics (BEGIN, COMMIT, ROLLBACK, END, ABORT, SET
//     TRANSACTION, SET SESSION CHARACTERISTICS, transaction_isolation,
//     transaction_read_only, ...), notifies or listens (NOTIFY,
//     pg_notify, LISTEN: effects of COMMIT), writes (INSERT, UPDATE,
//     DELETE, MERGE, COPY: only to temporary tables, whose deferred
//     constraints COMMIT checks), or runs code (CALL, DO, EXECUTE);
//   - the caller used the pgx connection in it (sql.Conn.Raw).
//
// The statements are screened by their text, erring towards waiting. What
// the screen cannot see is a function called by a SELECT that writes a
// temporary table with a deferred constraint, or that calls pg_notify: if
// that COMMIT fails (the constraint is violated, the notification queue is
// full), Commit has already returned nil; the connection is closed at its
// next use. Nothing outside the connection's own session sees the
// difference: its temporary tables go with it.
//
// # Statements that ride with COMMIT
//
// Two statement texts are not sent as they are. PositionStatement asks
// the COMMIT to bring back the primary's WAL position ("COMMIT; SELECT
// pg_current_wal_insert_lsn()"), for read-your-writes on replicas.
// LastStatement, given a statement and its arguments, asks the COMMIT to
// run that statement first, in the same write ("stmt; COMMIT", one Sync):
// if it fails, the server skips the COMMIT, the connection rolls the
// transaction back, and Commit returns the statement's error. db.Tx's
// ExecAtCommit uses it to complete a job with the job's transaction
// without a round trip of its own. The pool's driver (sql.DB.Driver) is a
// Driver, which tells the db package that both are understood.
//
// # sql.Conn.Raw
//
// In sql.Conn.Raw the driver connection is not a *stdlib.Conn but has its
// Conn() *pgx.Conn. Asked for the pgx connection in a transaction begun on
// the same sql.Conn, it sends the held BEGIN first: what the caller runs
// on it (a CopyFrom) is part of the transaction and ends with its COMMIT
// or ROLLBACK. If that BEGIN cannot be sent, the pgx connection handed out
// is closed, so that the caller's work fails rather than run outside the
// transaction.
//
// The package is internal: applications reach it through db.Open and
// db.Connector, and have nothing to configure. Its errors start with
// "db: ", as they reach applications through the db package.
package pgbegin
