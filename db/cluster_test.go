package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/replicatest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// pairCluster returns a Cluster on the replication pair, probed, with a
// fresh table cl on the primary, replayed on the replica.
func pairCluster(t *testing.T) (*db.Cluster, string, string) {
	t.Helper()
	primaryURL, replicaURL := replicatest.URLs(t)
	x, d, err := db.Open(primaryURL, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	x.MustExec("DROP TABLE IF EXISTS cl")
	x.MustExec("CREATE TABLE cl (id INT PRIMARY KEY)")
	replicatest.WaitReplayed(t, primaryURL, replicaURL)
	rs, err := db.OpenReplicas([]string{replicaURL}, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.NewCluster(x, d, db.ClusterOptions{Replicas: rs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Probe(t.Context())
	if st := c.Replicas(); !st[0].Up || st[0].Lag != 0 {
		t.Fatalf("replica after a probe: %+v, want up with no lag", st[0])
	}
	if !db.RidesCommit(c) {
		t.Fatal("a pool of db.Open's connector does not bring a write's position back with its COMMIT")
	}
	return c, primaryURL, replicaURL
}

// has reports whether row id of cl is visible on tx, and where tx ran.
func has(t *testing.T, c *db.Cluster, ctx context.Context, id int) (bool, string) {
	t.Helper()
	var found bool
	var server string
	err := c.WithTx(ctx, db.TxOptions{ReadOnly: true}, func(tx *db.Tx) error {
		var n int
		err := tx.GetContext(ctx, &n, "SELECT id FROM cl WHERE id = $1", id)
		found, server = err == nil, tx.Server()
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, server
}

func TestClusterWithTxRoutesByIntentAndPosition(t *testing.T) {
	c, _, replicaURL := pairCluster(t)
	name := c.Replicas()[0].Name
	ctx := t.Context()
	replicatest.PauseReplay(t, replicaURL)
	var pos db.Position
	err := c.WithTx(ctx, db.TxOptions{}, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO cl (id) VALUES (1)")
		if tx.Server() != db.RolePrimary {
			t.Errorf("a write ran on %s", tx.Server())
		}
		defer func() { pos = tx.Position() }()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if pos != 0 {
		t.Fatalf("Position read before the commit = %v, want 0", pos)
	}
	// Position is set by the commit: read it from a second write.
	var tx2 *db.Tx
	if err := c.WithTx(ctx, db.TxOptions{}, func(tx *db.Tx) error {
		tx2 = tx
		_, err := tx.ExecContext(ctx, "INSERT INTO cl (id) VALUES (2)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if pos = tx2.Position(); pos == 0 {
		t.Fatal("a committed write on a Cluster with replicas has no position")
	}
	if found, server := has(t, c, ctx, 2); found || server != name {
		t.Errorf("read without a position: found %v on %s, want the replica's stale view", found, server)
	}
	if found, server := has(t, c, db.WithPosition(ctx, pos), 2); !found || server != db.RolePrimary {
		t.Errorf("read at the write's position: found %v on %s, want the row from the primary", found, server)
	}
	replicatest.ResumeReplay(t, replicaURL)
	for c.Replicas()[0].Replayed < pos {
		c.Probe(ctx)
	}
	if found, server := has(t, c, db.WithPosition(ctx, pos), 2); !found || server != name {
		t.Errorf("read at the position once replayed: found %v on %s, want the row from the replica", found, server)
	}
}

func TestClusterFailsOverAReplicaThatDies(t *testing.T) {
	c, _, _ := pairCluster(t)
	ctx := t.Context()
	c.Primary().MustExec("INSERT INTO cl (id) VALUES (7)")
	replicatest.StopReplica(t)
	// The replica's pool still holds a connection from the probe: the
	// read finds it broken, and runs on the primary.
	var n int
	if err := c.ReadQuerier(ctx).GetContext(ctx, &n, "SELECT id FROM cl WHERE id = $1", 7); err != nil || n != 7 {
		t.Fatalf("read through ReadQuerier with the replica down = %d, %v", n, err)
	}
	if c.Replicas()[0].Up {
		t.Error("the replica that failed is still in rotation")
	}
	c.Probe(ctx) // down: stays out
	found, server := has(t, c, ctx, 7)
	if !found || server != db.RolePrimary {
		t.Errorf("read-only transaction with the replica down: found %v on %s", found, server)
	}
	replicatest.StartReplica(t)
	for !c.Replicas()[0].Up {
		c.Probe(ctx)
	}
	if found, server := has(t, c, ctx, 7); !found || server == db.RolePrimary {
		t.Errorf("read-only transaction with the replica back: found %v on %s", found, server)
	}
}

func TestClusterTransactionFailsOverMidway(t *testing.T) {
	c, _, _ := pairCluster(t)
	ctx := t.Context()
	c.Primary().MustExec("INSERT INTO cl (id) VALUES (8)")
	for _, iso := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelRepeatableRead} {
		replicatest.StartReplica(t)
		for !c.Replicas()[0].Up {
			c.Probe(ctx)
		}
		var rows []int
		err := c.WithTx(ctx, db.TxOptions{ReadOnly: true, Isolation: iso}, func(tx *db.Tx) error {
			if err := tx.SelectContext(ctx, &rows, "SELECT id FROM cl"); err != nil {
				return err
			}
			replicatest.StopReplica(t)
			rows = rows[:0]
			return tx.SelectContext(ctx, &rows, "SELECT id FROM cl")
		})
		if iso == sql.LevelDefault && (err != nil || len(rows) != 1) {
			t.Errorf("read committed: %v, %v; want the second statement on the primary", rows, err)
		}
		if iso == sql.LevelRepeatableRead && !errors.Is(err, db.ErrConnLost) {
			t.Errorf("repeatable read: %v; want ErrConnLost, not a statement on another snapshot", err)
		}
	}
}

func TestClusterSpansNameTheServer(t *testing.T) {
	c, _, _ := pairCluster(t)
	sr := tracetest.NewSpanRecorder()
	tr := db.NewTracer(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)), db.Postgres)
	ctx := t.Context()
	for _, ro := range []bool{true, false} {
		err := c.WithTx(ctx, db.TxOptions{ReadOnly: ro, Tracer: tr}, func(tx *db.Tx) error {
			var n int
			return tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM cl")
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[bool]string{true: db.RoleReplica, false: db.RolePrimary}
	seen := 0
	for _, s := range sr.Ended() {
		if s.Name() == db.WithTxSpanName {
			continue
		}
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		ro := attrs[string(db.AttrTxReadOnly)] == "true"
		if s.Name() == "SELECT" {
			ro = attrs[string(db.AttrServerRole)] == db.RoleReplica
		}
		if attrs[string(db.AttrServerRole)] != want[ro] {
			t.Errorf("span %s: role %q, want %q", s.Name(), attrs[string(db.AttrServerRole)], want[ro])
		}
		if name := attrs[string(db.AttrServerName)]; (want[ro] == db.RoleReplica) != (name == c.Replicas()[0].Name) {
			t.Errorf("span %s (%s): server name %q", s.Name(), want[ro], name)
		}
		seen++
	}
	if seen != 4 {
		t.Errorf("%d db.tx and statement spans, want 4", seen)
	}
}

// A hot standby refuses SERIALIZABLE: read-only work at that level runs on
// the primary, and does not fail.
func TestClusterSerializableReadsOnThePrimary(t *testing.T) {
	c, _, _ := pairCluster(t)
	ctx := t.Context()
	err := c.WithTx(ctx, db.TxOptions{ReadOnly: true, Isolation: sql.LevelSerializable}, func(tx *db.Tx) error {
		var n int
		err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM cl")
		if tx.Server() != db.RolePrimary {
			t.Errorf("a serializable read-only transaction ran on %s", tx.Server())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
