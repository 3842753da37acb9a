package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

func TestPoolLimits(t *testing.T) {
	defaults := db.Pool{MaxOpenConns: 10, MaxIdleConns: 10, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}
	for _, tc := range []struct {
		name     string
		in, want db.Pool
	}{
		{"zero is the defaults", db.Pool{}, defaults},
		{"set fields stay", db.Pool{MaxOpenConns: 3, MaxIdleConns: 2, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Second},
			db.Pool{MaxOpenConns: 3, MaxIdleConns: 2, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Second}},
		{"negative stays: none or no limit", db.Pool{MaxOpenConns: -1, MaxIdleConns: -1, ConnMaxLifetime: -1, ConnMaxIdleTime: -1},
			db.Pool{MaxOpenConns: -1, MaxIdleConns: -1, ConnMaxLifetime: -1, ConnMaxIdleTime: -1}},
		{"one field set", db.Pool{MaxOpenConns: 1}, db.Pool{MaxOpenConns: 1, MaxIdleConns: 10, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := db.PoolLimits(tc.in); got != tc.want {
				t.Errorf("PoolLimits(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
	if got := (db.Pool{MaxOpenConns: db.DefaultMaxOpenConns, MaxIdleConns: db.DefaultMaxIdleConns,
		ConnMaxLifetime: db.DefaultConnMaxLifetime, ConnMaxIdleTime: db.DefaultConnMaxIdleTime}); got != defaults {
		t.Errorf("the Default constants are %+v, want %+v", got, defaults)
	}
}

// stats runs two queries one after the other on a pool Open opened on u
// with p, and returns the pool's statistics.
func stats(t *testing.T, u string, p db.Pool) (max int, idle int, lifetimeClosed int64) {
	t.Helper()
	x, _, err := db.Open(u, p)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx := context.Background()
	for range 2 {
		if _, err := x.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	s := x.Stats()
	return s.MaxOpenConnections, s.Idle, s.MaxLifetimeClosed
}

func TestOpenAppliesPool(t *testing.T) {
	file := func() string { return "sqlite:" + filepath.Join(t.TempDir(), "p.db") }
	t.Run("defaults", func(t *testing.T) {
		max, idle, closed := stats(t, file(), db.Pool{})
		if max != db.DefaultMaxOpenConns || idle != 1 || closed != 0 {
			t.Errorf("max open %d, idle %d, closed for age %d; want %d, 1, 0", max, idle, closed, db.DefaultMaxOpenConns)
		}
	})
	t.Run("set", func(t *testing.T) {
		max, _, closed := stats(t, file(), db.Pool{MaxOpenConns: 3, ConnMaxLifetime: time.Nanosecond})
		if max != 3 || closed == 0 {
			t.Errorf("max open %d, closed for age %d; want 3 and the first connection closed for its age", max, closed)
		}
	})
	t.Run("none and no limit", func(t *testing.T) {
		max, idle, _ := stats(t, file(), db.Pool{MaxOpenConns: -1, MaxIdleConns: -1})
		if max != 0 || idle != 0 {
			t.Errorf("max open %d, idle %d; want 0 (no limit) and no idle connection", max, idle)
		}
	})
	t.Run("memory keeps its connections", func(t *testing.T) {
		_, idle, closed := stats(t, "sqlite::memory:", db.Pool{MaxIdleConns: -1, ConnMaxLifetime: time.Nanosecond})
		if idle != 1 || closed != 0 {
			t.Errorf("idle %d, closed for age %d; want the connection kept", idle, closed)
		}
	})
}
