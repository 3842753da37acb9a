package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// testCluster returns a Cluster of SQLite pools standing for a PostgreSQL
// primary and n replicas: pick never touches them.
func testCluster(t *testing.T, n int, window time.Duration) *Cluster {
	t.Helper()
	open := func() *sqlx.DB {
		x, _, err := Open("sqlite::memory:", Pool{})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	primary := open()
	t.Cleanup(func() { primary.Close() })
	var rs []Replica
	for i := range n {
		rs = append(rs, Replica{Name: string(rune('a' + i)), DB: open()})
	}
	c, err := NewCluster(primary, Postgres, ClusterOptions{Replicas: rs, StickyWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPickRoutesByRotationAndPosition(t *testing.T) {
	c := testCluster(t, 2, 0)
	if n := c.pick(0); n != nil {
		t.Fatalf("pick before any probe = %s, want the primary", n.Name)
	}
	a, b := c.nodes[0], c.nodes[1]
	a.up.Store(true)
	a.replayed.Store(100)
	b.up.Store(true)
	b.replayed.Store(50)
	seen := map[string]int{}
	for range 10 {
		seen[c.pick(0).Name]++
	}
	if seen["a"] != 5 || seen["b"] != 5 {
		t.Errorf("pick(0) spread %v, want the two replicas in turn", seen)
	}
	for range 4 {
		if n := c.pick(80); n != a {
			t.Fatalf("pick(80) = %v, want a, the one replica that replayed 80", n)
		}
	}
	if n := c.pick(101); n != nil {
		t.Errorf("pick(101) = %s, want the primary", n.Name)
	}
	a.up.Store(false)
	if n := c.pick(80); n != nil {
		t.Errorf("pick(80) with a out = %s, want the primary", n.Name)
	}
	if replica, primary := c.Routed(); replica != 14 || primary != 3 {
		t.Errorf("Routed() = %d, %d; want 14, 3", replica, primary)
	}
}

func TestPickStickyWindow(t *testing.T) {
	c := testCluster(t, 1, time.Hour)
	n := c.nodes[0]
	n.up.Store(true)
	n.replayed.Store(100)
	c.NoteWrite(150)
	c.NoteWrite(120) // an older write does not lower it
	if got := c.pick(0); got != nil {
		t.Errorf("pick(0) in the window of a write at 150, replica at 100 = %s, want the primary", got.Name)
	}
	n.replayed.Store(150)
	if got := c.pick(0); got != n {
		t.Errorf("pick(0) once the replica replayed the write = %v, want the replica", got)
	}
	n.replayed.Store(100)
	c.lastWriteAt.Store(time.Now().Add(-2 * time.Hour).UnixNano())
	if got := c.pick(0); got != n {
		t.Errorf("pick(0) past the window = %v, want the replica", got)
	}
}

func TestNewClusterNeedsPostgres(t *testing.T) {
	x, _, err := Open("sqlite::memory:", Pool{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := NewCluster(x, SQLite, ClusterOptions{Replicas: []Replica{{Name: "r", DB: x}}}); !errors.Is(err, ErrReplicaDialect) {
		t.Errorf("NewCluster(SQLite, a replica) = %v, want ErrReplicaDialect", err)
	}
	if _, err := OpenReplicas([]string{"postgres://r/app", "mysql://r/app"}, Pool{}); !errors.Is(err, ErrReplicaDialect) {
		t.Errorf("OpenReplicas(a MySQL URL) = %v, want ErrReplicaDialect", err)
	}
	c := PrimaryOnly(x, SQLite)
	if c.HasReplicas() || c.pick(0) != nil {
		t.Error("PrimaryOnly has a replica")
	}
	tx := NewTx(t.Context(), x, SQLite, TxOptions{ReadOnly: true})
	tx.SetCluster(c, 0)
	if tx.cluster != nil {
		t.Error("SetCluster kept a Cluster without replicas: a transaction would pay for routing")
	}
}

// replayedClusterB returns testClusterB's Cluster with every replica in
// rotation, having replayed up to position 1<<40.
func replayedClusterB(b *testing.B) *Cluster {
	c := testClusterB(b)
	for _, n := range c.nodes {
		n.up.Store(true)
		n.replayed.Store(1 << 40)
	}
	return c
}

// BenchmarkRoute is what routing adds to a read-only unit of work on a
// Cluster with replicas: verifying the position a request carries, then
// picking a replica that has replayed it, the sticky window on.
func BenchmarkRoute(b *testing.B) {
	c := replayedClusterB(b)
	c.NoteWrite(1 << 39)
	tok := c.SignPosition(1 << 38)
	b.ReportAllocs()
	for b.Loop() {
		p, ok := c.VerifyPosition(tok)
		if !ok || c.pick(p) == nil {
			b.Fatal("no replica picked")
		}
	}
}

// BenchmarkRouteNewToken is BenchmarkRoute for tokens the Cluster has not
// verified lately: 16 times more of them, in turn, than it remembers.
func BenchmarkRouteNewToken(b *testing.B) {
	c := replayedClusterB(b)
	toks := make([]string, 16*verifiedSlots)
	for i := range toks {
		toks[i] = c.SignPosition(Position(1<<38 + i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p, ok := c.VerifyPosition(toks[i%len(toks)])
		if !ok || c.pick(p) == nil {
			b.Fatal("no replica picked")
		}
		i++
	}
}

// BenchmarkPick is the pick alone, for a unit of work without a position.
func BenchmarkPick(b *testing.B) {
	c := testClusterB(b)
	for _, n := range c.nodes {
		n.up.Store(true)
	}
	b.ReportAllocs()
	for b.Loop() {
		if c.pick(0) == nil {
			b.Fatal("no replica picked")
		}
	}
}

// testClusterB is a Cluster of two replicas with a sticky window, on
// SQLite pools pick never touches.
func testClusterB(b *testing.B) *Cluster {
	x, _, err := Open("sqlite::memory:", Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close() })
	c, err := NewCluster(x, Postgres, ClusterOptions{Replicas: []Replica{{Name: "a", DB: x}, {Name: "b", DB: x}}, StickyWindow: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// A failed statement fails over only from a live replica transaction, and
// never because its own unit of work ended: no panic on a transaction that
// never began, no replica taken out for a client that went away.
func TestFailoverGuards(t *testing.T) {
	c := testCluster(t, 1, 0)
	n := c.nodes[0]
	n.up.Store(true)
	tx := NewTx(t.Context(), c.primary, Postgres, TxOptions{ReadOnly: true})
	tx.SetCluster(c, 0)
	tx.mu.Lock()
	tx.onNode(n) // as a BEGIN on the replica that failed would have left it
	tx.mu.Unlock()
	lost := fmt.Errorf("dial: %w", io.ErrUnexpectedEOF)
	if tx.failover(t.Context(), lost) {
		t.Error("failover of a transaction that never began")
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if tx.failover(cancelled, fmt.Errorf("%w: %w", lost, context.Canceled)) {
		t.Error("failover of a statement whose context ended")
	}
	if !n.up.Load() {
		t.Error("the replica was taken out for its caller's failure")
	}
	if c.isReplicaFailure(fmt.Errorf("connect: %w", context.DeadlineExceeded)) {
		t.Error("an expired context counts as the replica's failure")
	}
}

func TestReplicaConnectTimeout(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@r/app":                      "postgres://u:pw@r/app?connect_timeout=2",
		"postgres://r/app?sslmode=disable":           "postgres://r/app?connect_timeout=2&sslmode=disable",
		"postgres://r/app?connect_timeout=9":         "postgres://r/app?connect_timeout=9",
		"postgresql://r:5434/app?application_name=x": "postgresql://r:5434/app?application_name=x&connect_timeout=2",
	} {
		if got := withConnectTimeout(in); got != want {
			t.Errorf("withConnectTimeout(%q) = %q, want %q", in, got, want)
		}
	}
}
