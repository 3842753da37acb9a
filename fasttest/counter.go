package fasttest

import (
	"sync/atomic"

	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
)

// Counter counts what an app's pool sent to its database since Start
// opened it (App.Count). Each field is an atomic counter: read it with
// Load, for example before and after a request, to prove that a request
// which needs no database begins no transaction:
//
//	begins := app.Count.Begins.Load()
//	app.Do(t, http.MethodGet, "/healthz", nil)
//	if app.Count.Begins.Load() != begins { t.Error("GET /healthz began a transaction") }
//
// The pool counts at the driver's level, so that what a request did through
// repositories, sqlx or database/sql is counted alike; the framework's own
// queries on that pool (migrations at start, for example) are counted too.
type Counter struct {
	// Begins counts the transactions begun on the pool's connections.
	Begins atomic.Int64
	// Statements counts the statements run, other than BEGIN, COMMIT and
	// ROLLBACK: each query or exec sent on a connection, and each run of a
	// prepared statement.
	Statements atomic.Int64
	// Commits counts the transactions committed (COMMIT sent, whether or
	// not the database accepted it).
	Commits atomic.Int64
	// Rollbacks counts the transactions rolled back.
	Rollbacks atomic.Int64
	// Prepares counts the statements prepared.
	Prepares atomic.Int64
	// PreparedRuns counts the runs of prepared statements; each is also
	// counted in Statements.
	PreparedRuns atomic.Int64
}

// counterOf returns the counter of the kit's counting pool as a Counter: the
// two types have the same fields, so that this conversion, checked by the
// compiler, is all it takes.
func counterOf(c *sqlcount.Counter) *Counter { return (*Counter)(c) }
