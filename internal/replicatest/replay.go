package replicatest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/fasttrack-go/fasttrack/dburl"
)

// PauseReplay pauses WAL replay on the replica at replicaURL and returns once
// it is paused: the replica still receives the primary's WAL but shows none
// of it, so its reads lag behind the primary's writes. Replay resumes when
// the test ends, or at ResumeReplay.
func PauseReplay(tb testing.TB, replicaURL string) {
	tb.Helper()
	if err := execSQL(replicaURL, "SELECT pg_wal_replay_pause()"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := resume(replicaURL); err != nil {
			tb.Error(err)
		}
	})
	err := poll(func() error {
		var state string
		if err := queryRow(replicaURL, "SELECT pg_get_wal_replay_pause_state()", nil, &state); err != nil {
			return err
		}
		if state != "paused" {
			return fmt.Errorf("replicatest: replay on %s is %q, not paused", dburl.Redact(replicaURL), state)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// ResumeReplay resumes WAL replay on the replica at replicaURL, paused by
// PauseReplay; the replica then catches up (WaitReplayed waits for it).
func ResumeReplay(tb testing.TB, replicaURL string) {
	tb.Helper()
	if err := resume(replicaURL); err != nil {
		tb.Fatal(err)
	}
}

// resume resumes replay on the replica at replicaURL.
func resume(replicaURL string) error {
	return execSQL(replicaURL, "SELECT pg_wal_replay_resume()")
}

// WaitReplayed waits, at most 30 seconds, until the replica at replicaURL
// has replayed all the WAL the primary at primaryURL had written when it was
// called: every transaction committed on the primary before the call is then
// visible on the replica. It fails the test with both positions otherwise.
func WaitReplayed(tb testing.TB, primaryURL, replicaURL string) {
	tb.Helper()
	var target string
	if err := queryRow(primaryURL, "SELECT pg_current_wal_lsn()::text", nil, &target); err != nil {
		tb.Fatal(err)
	}
	var replayed sql.NullString
	err := poll(func() error {
		var done bool
		err := queryRow(replicaURL,
			"SELECT pg_last_wal_replay_lsn()::text, coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)",
			[]any{target}, &replayed, &done)
		if err != nil {
			return err
		}
		if !replayed.Valid {
			return fmt.Errorf("replicatest: %s is not a replica (no replay position)", dburl.Redact(replicaURL))
		}
		if !done {
			return fmt.Errorf("replicatest: the replica has replayed up to %s", replayed.String)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("replicatest: the replica did not replay the primary's WAL up to %s (last seen at %s): %v",
			target, replayed.String, err)
	}
}

// execSQL runs statement on a fresh connection to url.
func execSQL(url, statement string) error {
	db, err := open(url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		return fmt.Errorf("replicatest: %s on %s: %w", statement, dburl.Redact(url), err)
	}
	return nil
}
