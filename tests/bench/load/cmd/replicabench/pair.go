package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
)

// lockPair takes the exclusive lock of the replication pair — the flock on
// TEST_REPLICA_DIR/test.lock that the replica tests take
// (internal/replicatest) before they pause replay or stop the replica —
// waiting for a test that holds it. The returned function releases it.
func lockPair(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "test.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("locking the pair: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		progress("the replication pair is locked by a test: waiting for it")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking the pair: %w", err)
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// waitReplayed waits, at most 30 seconds, until the replica's database
// replicaURL exists and shows everything the primary had written when it
// was called (primaryURL is a database of the primary).
func waitReplayed(ctx context.Context, primaryURL, replicaURL string) error {
	p, _, err := db.Open(primaryURL, db.Pool{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer p.Close()
	var target string
	if err := p.GetContext(ctx, &target, "SELECT pg_current_wal_lsn()::text"); err != nil {
		return fmt.Errorf("the primary's WAL position: %w", err)
	}
	r, _, err := db.Open(replicaURL, db.Pool{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer r.Close()
	return poll(ctx, 30*time.Second, func() error {
		var done bool
		// Before the replica replays the CREATE DATABASE, this fails: the
		// database does not exist there yet.
		err := r.GetContext(ctx, &done, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", target)
		if err == nil && !done {
			err = fmt.Errorf("%s has not replayed %s yet", dburl.Redact(replicaURL), target)
		}
		return err
	})
}

// poll calls check every 50 ms until it returns nil, at most for limit, and
// returns its last error when it never does.
func poll(ctx context.Context, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// metrics are the samples of an app's /metrics, by name with labels as
// printed (fasttrack_db_read_units_total{server="replica"}).
type metrics map[string]float64

// scrape reads the app's /metrics at baseURL.
func scrape(ctx context.Context, hc *http.Client, baseURL string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", resp.StatusCode)
	}
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// The samples replicabench reads: read units of work by the server they ran
// on, which the app reports only with replicas.
const (
	readsOnReplica = `fasttrack_db_read_units_total{server="replica"}`
	readsOnPrimary = `fasttrack_db_read_units_total{server="primary"}`
)

// replicasUp returns how many replicas the app's metrics show in rotation.
func (m metrics) replicasUp() int {
	n := 0
	for k, v := range m {
		if strings.HasPrefix(k, "fasttrack_db_replica_up{") && v == 1 {
			n++
		}
	}
	return n
}

// waitReplicaUp waits, at most 30 seconds, until the app at baseURL has its
// replica in rotation.
func waitReplicaUp(ctx context.Context, hc *http.Client, baseURL string) error {
	return poll(ctx, 30*time.Second, func() error {
		m, err := scrape(ctx, hc, baseURL)
		if err != nil {
			return err
		}
		if m.replicasUp() == 0 {
			return errors.New("no replica in rotation (fasttrack_db_replica_up)")
		}
		return nil
	})
}
