package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/jmoiron/sqlx"
)

// SetCluster makes the transaction one of c: when it is read-only it runs
// on a replica in rotation that has replayed min (see Cluster), and when
// it commits a write its position is recorded (Position). A Cluster
// without replicas, or nil, changes nothing. Like SetStatements, it must
// be called before the transaction is used, by the goroutine that made
// it; the transaction must be on c's primary.
func (t *Tx) SetCluster(c *Cluster, min Position) {
	if c == nil || !c.HasReplicas() || c.primary.DB != t.x.DB {
		t.cluster = nil
		return
	}
	t.cluster, t.minPos = c, min
}

// Server returns the name of the replica the transaction runs on, or
// RolePrimary while it runs on the primary or has not begun.
func (t *Tx) Server() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.on != nil {
		return t.on.Name
	}
	return RolePrimary
}

// Position returns the primary's position after the transaction committed
// a write, on a Cluster with replicas (SetCluster); zero otherwise, and
// for a read-only transaction or one that never began. A read that must
// see the write waits for a replica to replay it (WithPosition).
func (t *Tx) Position() Position { return Position(t.pos.Load()) }

// failover reports whether a statement on ctx that failed with err is to run
// again on the primary: the transaction ran on a replica, which failed (a
// broken connection, a server shutting down), and its isolation lets
// statements see different snapshots (read committed, the default). It
// then took the replica out of rotation and rolled its transaction back;
// the next statement begins on another replica in rotation or on the
// primary, within the timeout's deadline of the first BEGIN.
func (t *Tx) failover(ctx context.Context, err error) bool {
	if !t.onReplica.Load() || ctx.Err() != nil || t.ctx.Err() != nil {
		return false // the unit of work ended, not the replica
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.on
	if n == nil || t.tx == nil || t.Outcome() != OutcomeOpen || !t.cluster.isReplicaFailure(err) ||
		t.opts.Isolation != sql.LevelDefault && t.opts.Isolation != sql.LevelReadCommitted {
		return false
	}
	t.cluster.markDown(n, err)
	_ = t.tx.Rollback()
	t.tx = nil
	clear(t.prepared)
	t.prepared = t.prepared[:0]
	t.onNode(nil)
	if t.span != nil {
		endSpan(t.span, err)
		t.span = nil
	}
	return true
}

// askPosition asks the COMMIT of tx, a write of a Cluster with replicas on
// a pool of this package's PostgreSQL connector, to bring back the
// primary's position in its own round trip (pgbegin.PositionStatement),
// and returns where it will be; nil when the position is not wanted or
// cannot ride. t.mu is held.
func (t *Tx) askPosition(tx *sqlx.Tx) *pgbegin.PositionSink {
	if t.cluster == nil || t.on != nil || t.opts.ReadOnly || !t.cluster.ridesCommit() {
		return nil
	}
	sink := new(pgbegin.PositionSink)
	if _, err := tx.ExecContext(context.Background(), pgbegin.PositionStatement, sink); err != nil {
		return nil
	}
	return sink
}

// positionTimeout bounds the statement that reads a write's position
// after its COMMIT, on a pool whose COMMIT does not bring it back.
const positionTimeout = 5 * time.Second

// recordPosition records the primary's position after a committed write
// (see Position) — the one its COMMIT brought back into sink, or else
// read with one more statement — and notes it on the Cluster for its
// sticky window. A failure to read it leaves the position zero, and is
// logged.
func (t *Tx) recordPosition(sink *pgbegin.PositionSink) {
	var p Position
	var err error
	if sink != nil && sink.LSN != "" {
		p, err = ParsePosition(sink.LSN)
	} else {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), positionTimeout)
		p, err = t.cluster.commitPosition(ctx)
		cancel()
	}
	if err != nil {
		t.cluster.log.Warn("no WAL position after a commit: a later read may not see this write on a replica", "error", err)
		return
	}
	t.pos.Store(uint64(p))
	t.cluster.NoteWrite(p)
}
