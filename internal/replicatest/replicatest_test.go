package replicatest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestReplicaPair shows that the pair replicates and that the replay helpers
// do what they say: a row written on the primary reaches the replica after
// WaitReplayed; with replay paused a new row, though received, stays
// invisible on the replica until ResumeReplay; the replica refuses writes.
func TestReplicaPair(t *testing.T) {
	primaryURL, replicaURL := URLs(t)
	primary, replica := openDB(t, primaryURL), openDB(t, replicaURL)
	if recovering(t, primary) || !recovering(t, replica) {
		t.Fatalf("want the primary out of recovery and the replica in it")
	}
	table := newTable(t, primary)

	mustExec(t, primary, "INSERT INTO "+table+" VALUES (1)")
	WaitReplayed(t, primaryURL, replicaURL)
	if n := count(t, replica, table); n != 1 {
		t.Fatalf("after WaitReplayed the replica has %d rows, want 1", n)
	}

	PauseReplay(t, replicaURL)
	mustExec(t, primary, "INSERT INTO "+table+" VALUES (2)")
	if n := count(t, primary, table); n != 2 {
		t.Fatalf("the primary has %d rows, want 2", n)
	}
	waitReceived(t, primaryURL, replica)
	if n := count(t, replica, table); n != 1 {
		t.Fatalf("with replay paused the replica has %d rows, want the 1 it had", n)
	}

	ResumeReplay(t, replicaURL)
	WaitReplayed(t, primaryURL, replicaURL)
	if n := count(t, replica, table); n != 2 {
		t.Fatalf("after ResumeReplay and WaitReplayed the replica has %d rows, want 2", n)
	}

	_, err := replica.ExecContext(ctx(t), "INSERT INTO "+table+" VALUES (3)")
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "25006" { // read_only_sql_transaction
		t.Fatalf("writing on the replica: got %v, want a read-only error (25006)", err)
	}
}

// TestPauseReplayResumesAtCleanup shows that a test that pauses replay
// leaves it running when it ends.
func TestPauseReplayResumesAtCleanup(t *testing.T) {
	primaryURL, replicaURL := URLs(t)
	replica := openDB(t, replicaURL)
	t.Run("pause", func(t *testing.T) {
		PauseReplay(t, replicaURL)
		if state := pauseState(t, replica); state != "paused" {
			t.Fatalf("after PauseReplay replay is %q, want paused", state)
		}
	})
	if state := pauseState(t, replica); state != "not paused" {
		t.Fatalf("after the test that paused it, replay is %q, want not paused", state)
	}
	WaitReplayed(t, primaryURL, replicaURL)
}

// TestStopStartReplica shows that StopReplica takes the replica down, that
// StartReplica brings it back, and that it then catches up with what the
// primary wrote meanwhile; and that a test that does not restart it leaves
// it running anyway.
func TestStopStartReplica(t *testing.T) {
	primaryURL, replicaURL := URLs(t)
	primary := openDB(t, primaryURL)
	table := newTable(t, primary)

	t.Run("stop and start", func(t *testing.T) {
		StopReplica(t)
		if err := ping(replicaURL); err == nil {
			t.Fatal("the replica answers after StopReplica")
		}
		mustExec(t, primary, "INSERT INTO "+table+" VALUES (1)")
		StartReplica(t)
		WaitReplayed(t, primaryURL, replicaURL)
		if n := count(t, openDB(t, replicaURL), table); n != 1 {
			t.Fatalf("the restarted replica has %d rows, want 1", n)
		}
	})

	t.Run("stop only", func(t *testing.T) {
		StopReplica(t)
		if err := ping(replicaURL); err == nil {
			t.Fatal("the replica answers after StopReplica")
		}
	})
	if err := ping(replicaURL); err != nil {
		t.Fatalf("the replica is still down after the test that stopped it: %v", err)
	}
	if !recovering(t, openDB(t, replicaURL)) {
		t.Fatal("the restarted replica is not in recovery")
	}
}

// TestURLs shows where the URLs come from, and that without them a test is
// skipped, or fails under CI=true, naming the command that starts the pair.
func TestURLs(t *testing.T) {
	const p, r = "postgres://p@127.0.0.1:1/test", "postgres://r@127.0.0.1:2/test"
	t.Setenv(PrimaryEnv, p)
	t.Setenv(ReplicaEnv, r)
	if gotP, gotR := URLs(t); gotP != p || gotR != r {
		t.Fatalf("URLs = %q, %q; want %q, %q", gotP, gotR, p, r)
	}

	t.Setenv(ReplicaEnv, "")
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		f := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			URLs(f)
		}()
		<-done
		got, other := f.skipped, f.fatal
		if ci == "true" {
			got, other = f.fatal, f.skipped
		}
		if !strings.Contains(got, "bash .ci/pg-replica start") || other != "" {
			t.Errorf("CI=%q: skipped %q, failed %q; want the one message naming the command", ci, f.skipped, f.fatal)
		}
	}
}

// TestModuleRoot shows that the script is found from a directory of another
// module nested in ours, as from this package's.
func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".ci", "pg-replica")); err != nil {
		t.Fatalf("moduleRoot = %s, without .ci/pg-replica: %v", root, err)
	}

	outer := t.TempDir()
	inner := filepath.Join(outer, "tests", "bench")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(outer, "go.mod"), "// comment\nmodule "+modulePath+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(inner, "go.mod"), "module "+modulePath+"/tests/bench\n")
	t.Chdir(inner)
	if got, err := moduleRoot(); err != nil || got != outer {
		t.Fatalf("moduleRoot from %s = %q, %v; want %q", inner, got, err, outer)
	}
}

// fakeTB records Skip and Fatal, and ends its goroutine as they do.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

// Helper does nothing.
func (f *fakeTB) Helper() {}

// Skip records the message and ends the goroutine.
func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

// Fatal records the message and ends the goroutine.
func (f *fakeTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// waitReceived waits until the replica has received, not necessarily
// replayed, the WAL the primary has written.
func waitReceived(t *testing.T, primaryURL string, replica *sql.DB) {
	t.Helper()
	var target string
	if err := queryRow(primaryURL, "SELECT pg_current_wal_lsn()::text", nil, &target); err != nil {
		t.Fatal(err)
	}
	err := poll(func() error {
		var received bool
		err := replica.QueryRowContext(ctx(t),
			"SELECT coalesce(pg_last_wal_receive_lsn() >= $1::pg_lsn, false)", target).Scan(&received)
		if err == nil && !received {
			err = fmt.Errorf("the replica has not received %s", target)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newTable creates a table of its own on the primary, dropped when the test
// ends, and returns its name.
func newTable(t *testing.T, primary *sql.DB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	table := "replicatest_" + hex.EncodeToString(b[:])
	mustExec(t, primary, "CREATE TABLE "+table+" (id int PRIMARY KEY)")
	t.Cleanup(func() {
		if _, err := primary.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table); err != nil {
			t.Errorf("dropping %s: %v", table, err)
		}
	})
	return table
}

// openDB opens url for the test's duration.
func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ctx returns a context bounded by timeout.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return c
}

// mustExec runs statement on db.
func mustExec(t *testing.T, db *sql.DB, statement string) {
	t.Helper()
	if _, err := db.ExecContext(ctx(t), statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// count returns the number of rows of table in db.
func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx(t), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recovering reports whether db's server is in recovery (a replica).
func recovering(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var in bool
	if err := db.QueryRowContext(ctx(t), "SELECT pg_is_in_recovery()").Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

// pauseState returns pg_get_wal_replay_pause_state() on db.
func pauseState(t *testing.T, db *sql.DB) string {
	t.Helper()
	var state string
	if err := db.QueryRowContext(ctx(t), "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
		t.Fatal(err)
	}
	return state
}

// writeFile writes text to name.
func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
