package fxmodules

import (
	"context"
	"log/slog"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// Database provides the pooled *sqlx.DB, its db.Dialect, and the
// *db.Cluster of it and the replicas of DATABASE_REPLICA_URLS (none by
// default), which request transactions run on. On start it pings the
// database within config.Config.StartTimeout and fails with a redacted
// error when it is unreachable; a replica that does not answer is left out
// of rotation, and does not fail the start. On stop it closes the pools,
// after the HTTP server has drained (Fx stops hooks in reverse order, and
// the server is started after the pools).
func Database() fx.Option {
	return fx.Module("database", fx.Provide(newDatabase, newCluster))
}

type databaseOut struct {
	fx.Out
	DB      *sqlx.DB
	Dialect db.Dialect
}

func newDatabase(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (databaseOut, error) {
	x, d, err := db.Open(cfg.DatabaseURL, DatabasePool(cfg))
	if err != nil {
		return databaseOut{}, err
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
			defer cancel()
			if err := db.Ping(ctx, x, cfg.DatabaseURL); err != nil {
				return err
			}
			log.Info("database ready", "dialect", d.Name(), "url", dburl.Redact(cfg.DatabaseURL))
			return nil
		},
		OnStop: func(context.Context) error { return x.Close() },
	})
	return databaseOut{DB: x, Dialect: d}, nil
}

// newCluster opens the replicas of cfg's DATABASE_REPLICA_URLS, each a pool
// of REPLICA_MAX_OPEN_CONNS connections, and makes the Cluster of them and
// x, the *sqlx.DB as the app sees it (decorated, if it is). With replicas, it probes them once on start, then every
// REPLICA_PROBE_INTERVAL until stop.
func newCluster(lc fx.Lifecycle, cfg config.Config, x *sqlx.DB, d db.Dialect, log *slog.Logger) (*db.Cluster, error) {
	pool := DatabasePool(cfg)
	pool.MaxOpenConns = cfg.ReplicaMaxOpenConns
	replicas, err := db.OpenReplicas(cfg.ReplicaURLs(), pool)
	if err != nil {
		return nil, err
	}
	c, err := db.NewCluster(x, d, db.ClusterOptions{
		Replicas: replicas, MaxLag: cfg.ReplicaMaxLag, StickyWindow: cfg.ReplicaStickyWindow,
		ProbeInterval: cfg.ReplicaProbeInterval, PositionKey: []byte(cfg.ReplicaPositionKey), Logger: log,
	})
	if err != nil {
		for _, r := range replicas {
			r.DB.Close()
		}
		return nil, err
	}
	if !c.HasReplicas() {
		return c, nil
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// A replica that hangs must not fail the start: the first probe
			// gets a share of START_TIMEOUT, and those left out are probed
			// again every REPLICA_PROBE_INTERVAL.
			ctx, cancel := context.WithTimeout(ctx, min(cfg.StartTimeout/3, 5*time.Second))
			defer cancel()
			c.Probe(ctx)
			up := 0
			for _, r := range c.Replicas() {
				if r.Up {
					up++
				}
			}
			log.Info("replicas probed", "replicas", len(replicas), "in_rotation", up)
			if cfg.ReplicaPositionKey == "" {
				log.Warn("REPLICA_POSITION_KEY is not set: positions this process hands to clients are signed with a key of its own, which other processes do not accept")
			}
			c.Start()
			return nil
		},
		OnStop: func(context.Context) error { return c.Close() },
	})
	return c, nil
}

// DatabasePool returns the pool limits of cfg's DB_MAX_OPEN_CONNS,
// DB_MAX_IDLE_CONNS, DB_CONN_MAX_LIFETIME and DB_CONN_MAX_IDLE_TIME, which
// Database opens its pool with: pass it to db.Open to open another pool
// the same way. A variable's 0 (no limit, or no idle connection kept)
// becomes the field's negative, since a zero db.Pool field stands for its
// default.
func DatabasePool(cfg config.Config) db.Pool {
	return db.Pool{
		MaxOpenConns:    orNegative(cfg.DBMaxOpenConns),
		MaxIdleConns:    orNegative(cfg.DBMaxIdleConns),
		ConnMaxLifetime: orNegative(cfg.DBConnMaxLifetime),
		ConnMaxIdleTime: orNegative(cfg.DBConnMaxIdleTime),
	}
}

// orNegative returns n, or -1 for 0.
func orNegative[N int | time.Duration](n N) N {
	if n == 0 {
		return -1
	}
	return n
}
