package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Start probes the replicas every ClusterOptions.ProbeInterval, in a
// goroutine of its own, until Close. A Cluster without replicas starts
// nothing. Call Probe first to route to healthy replicas from the start.
func (c *Cluster) Start() {
	c.start.Do(func() {
		if len(c.nodes) == 0 {
			close(c.stopped)
			return
		}
		go c.loop()
	})
}

// loop probes every c.every until c.stop closes.
func (c *Cluster) loop() {
	defer close(c.stopped)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(c.every, time.Second))
			c.Probe(ctx)
			cancel()
		}
	}
}

// Probe asks the primary for its position and each replica for the
// position it has replayed and its lag, and puts each replica in rotation
// or takes it out: a replica is in while it answers, is a standby, and lags
// by at most MaxLag. A replica that has replayed the primary's position
// lags by nothing; one behind it lags by the age of the last transaction
// it replayed. Probe logs each change.
func (c *Cluster) Probe(ctx context.Context) {
	if len(c.nodes) == 0 {
		return
	}
	c.probing.Lock()
	defer c.probing.Unlock()
	c.learnRides(ctx)
	primary, err := c.currentPosition(ctx)
	if err != nil {
		primary = 0 // lag by each replica's own clock alone
	}
	// Each replica on its own goroutine: one that hangs until ctx ends
	// keeps none of the others out of rotation.
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(func() { n.probe(ctx, primary) })
	}
	wg.Wait()
}

// currentPosition returns the primary's current WAL write position.
func (c *Cluster) currentPosition(ctx context.Context) (Position, error) {
	return c.walPosition(ctx, "SELECT pg_current_wal_lsn()::text")
}

// commitPosition returns a position at or after every commit record the
// primary has written: its WAL insert position, which, unlike the write
// position, a COMMIT under synchronous_commit=off has passed too.
func (c *Cluster) commitPosition(ctx context.Context) (Position, error) {
	return c.walPosition(ctx, "SELECT pg_current_wal_insert_lsn()::text")
}

// walPosition returns the position query reads on the primary.
func (c *Cluster) walPosition(ctx context.Context, query string) (Position, error) {
	var s string
	if err := c.primary.QueryRowContext(ctx, query).Scan(&s); err != nil {
		return 0, fmt.Errorf("db: the primary's WAL position: %w", c.dialect.Classify(err))
	}
	return ParsePosition(s)
}

// replicaProbeSQL reads a replica's state: whether it is a standby, what
// it has replayed, and how long ago the last transaction it replayed
// committed (-1 when it has replayed none since it started).
const replicaProbeSQL = `SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, ''),
	COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, -1),
	COALESCE(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false)
		AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')`

// probe probes n against the primary's position (zero when unknown). c.probing is held.
func (n *node) probe(ctx context.Context, primary Position) {
	var (
		standby  bool
		replayed string
		age      float64
		drained  bool // it streams from the primary, and has replayed all it received
	)
	err := n.DB.QueryRowContext(ctx, replicaProbeSQL).Scan(&standby, &replayed, &age, &drained)
	var pos Position
	if err == nil && replayed != "" {
		pos, err = ParsePosition(replayed)
	}
	lag := time.Duration(-1)
	switch {
	case err != nil:
	case primary != 0 && pos >= primary, drained:
		// Caught up with the primary, or with all the WAL it streamed: a
		// long transaction's WAL streaming ahead of its commit is no lag.
		lag = 0
	case age >= 0:
		lag = time.Duration(age * float64(time.Second))
	}
	var reason string
	switch {
	case err != nil:
		reason = "probe failed: " + n.c.dialect.Classify(err).Error()
	case !standby:
		reason = "not a standby (pg_is_in_recovery() is false)"
	case lag < 0:
		reason = "replay lag unknown: behind the primary, no transaction replayed since it started"
	case lag > n.c.maxLag:
		reason = fmt.Sprintf("replay lag %s over the maximum %s", lag.Round(time.Millisecond), n.c.maxLag)
	}
	if err == nil {
		n.replayed.Store(uint64(pos))
	}
	n.lag.Store(int64(lag))
	up := reason == ""
	was := n.up.Swap(up)
	switch {
	case up && (!was || n.reason != ""):
		n.c.log.Info("replica in rotation", "replica", n.Name, "lag", lag)
	case !up && (was || n.reason != reason) && !errors.Is(ctx.Err(), context.Canceled):
		n.c.log.Warn("replica out of rotation", "replica", n.Name, "reason", reason)
	}
	n.reason = reason
}

// isReplicaFailure reports an error after which a replica's statement
// runs again on the primary: a broken or refused connection, or the
// server shutting down.
func (c *Cluster) isReplicaFailure(err error) bool {
	return err != nil && !errors.Is(err, sql.ErrNoRows) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded) && c.dialect.ClassOf(err) == ClassConnLost
}
