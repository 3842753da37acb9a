package fxmodules_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

func TestDatabasePool(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*config.Config)
		want db.Pool
	}{
		{"defaults", func(*config.Config) {},
			db.Pool{MaxOpenConns: 10, MaxIdleConns: 10, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"set", func(c *config.Config) {
			c.DBMaxOpenConns, c.DBMaxIdleConns, c.DBConnMaxLifetime, c.DBConnMaxIdleTime = 3, 2, time.Hour, time.Second
		}, db.Pool{MaxOpenConns: 3, MaxIdleConns: 2, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Second}},
		// DB_*=0 is "none" or "no limit", which db.Pool says with -1.
		{"zeros", func(c *config.Config) {
			c.DBMaxIdleConns, c.DBConnMaxLifetime, c.DBConnMaxIdleTime = 0, 0, 0
		}, db.Pool{MaxOpenConns: 10, MaxIdleConns: -1, ConnMaxLifetime: -1, ConnMaxIdleTime: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			tc.set(&cfg)
			if got := fxmodules.DatabasePool(cfg); got != tc.want {
				t.Errorf("DatabasePool = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Database opens its pool with DatabasePool's limits.
func TestDatabaseOpensWithTheConfiguredPool(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "pool.db")
	cfg.DBMaxOpenConns = 3
	var x *sqlx.DB
	app := fxtest.New(t,
		fx.Supply(cfg, slog.New(slog.DiscardHandler)),
		fxmodules.Database(),
		fx.Populate(&x),
	)
	app.RequireStart()
	defer app.RequireStop()
	if got := x.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want DB_MAX_OPEN_CONNS's 3", got)
	}
}
