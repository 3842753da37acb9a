// Package replicatest helps tests that need a real PostgreSQL streaming
// replica: the pair that `bash .ci/pg-replica start` runs on this machine (a
// primary on 127.0.0.1:5433, its hot standby on 127.0.0.1:5434) and exports
// as TEST_REPLICA_PRIMARY_URL, TEST_REPLICA_URL and TEST_REPLICA_DIR.
//
// URLs gives a test the two URLs, skipping it when they are not set (failing
// it under CI=true). PauseReplay and ResumeReplay hold the replica behind the
// primary, WaitReplayed waits until it has caught up, and StopReplica and
// StartReplica crash and restart it.
//
// The pair is shared by every test on the machine: a test that pauses replay
// or stops the replica changes it for any other test using it at the same
// time, in its package or another (go test ./... runs packages in parallel).
package replicatest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/dburl"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// The environment variables that `bash .ci/pg-replica start` exports.
const (
	// PrimaryEnv names the primary's URL.
	PrimaryEnv = "TEST_REPLICA_PRIMARY_URL"
	// ReplicaEnv names the replica's URL.
	ReplicaEnv = "TEST_REPLICA_URL"
	// DirEnv names the base directory of the pair's clusters.
	DirEnv = "TEST_REPLICA_DIR"
)

// timeout bounds each wait of this package: a query, a replay to catch
// up, a server to answer.
const timeout = 30 * time.Second

// URLs returns the primary's and the replica's URLs, and holds the pair
// for the rest of the test: a test of another package that asks for them
// waits. Without them the test is skipped, or fails when CI=true.
func URLs(tb testing.TB) (primary, replica string) {
	tb.Helper()
	primary, replica = os.Getenv(PrimaryEnv), os.Getenv(ReplicaEnv)
	if primary != "" && replica != "" {
		lockPair(tb)
		return primary, replica
	}
	msg := fmt.Sprintf("%s or %s is not set: start the replication pair with "+
		`eval "$(bash .ci/pg-replica start)"`, PrimaryEnv, ReplicaEnv)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + ", required under CI=true")
	}
	tb.Skip(msg)
	return "", ""
}

// open opens a one-connection pool on url; the caller closes it.
func open(url string) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("replicatest: opening %s: %w", dburl.Redact(url), err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// queryRow runs query with args on a fresh connection to url and scans its
// one row into dest.
func queryRow(url, query string, args []any, dest ...any) error {
	db, err := open(url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := db.QueryRowContext(ctx, query, args...).Scan(dest...); err != nil {
		return fmt.Errorf("replicatest: %s on %s: %w", query, dburl.Redact(url), err)
	}
	return nil
}

// poll calls check until it returns nil, at most for timeout, and returns
// the last error when it never does.
func poll(check func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		<-tick.C
	}
}
