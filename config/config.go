package config

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/dburl"
)

// Config is the application's configuration.
//
// Each field is read from the environment variable named in its comment.
type Config struct {
	// DatabaseURL is DATABASE_URL, default "sqlite:app.db": a URL of
	// the grammar of package dburl ("sqlite:PATH", "sqlite:///ABS/PATH",
	// "sqlite::memory:", "postgres://…", "postgresql://…", "mysql://…",
	// the scheme in any case), checked with dburl.Parse, as db.Open
	// parses it.
	DatabaseURL string
	// HTTPAddr is HTTP_ADDR, default ":8080": host:port, port 0-65535.
	HTTPAddr string
	// DBMaxOpenConns is DB_MAX_OPEN_CONNS, default 10; >= 1.
	DBMaxOpenConns int
	// DBMaxIdleConns is DB_MAX_IDLE_CONNS, default 10; >= 0.
	// database/sql lowers it to DBMaxOpenConns.
	DBMaxIdleConns int
	// DBConnMaxLifetime is DB_CONN_MAX_LIFETIME, default 30m; >= 0,
	// 0 for no limit.
	DBConnMaxLifetime time.Duration
	// DBConnMaxIdleTime is DB_CONN_MAX_IDLE_TIME, default 5m; >= 0,
	// 0 for no limit.
	DBConnMaxIdleTime time.Duration
	// DBStmtCache is DB_STMT_CACHE, default 256; >= 0: how many prepared
	// statements the request transactions keep (db.Statements), 0 for
	// none. PostgreSQL's driver keeps its own, and ignores it.
	DBStmtCache int
	// StartTimeout is START_TIMEOUT, default 15s; > 0.
	StartTimeout time.Duration
	// StopTimeout is STOP_TIMEOUT, default 15s; > 0.
	StopTimeout time.Duration
	// LogLevel is LOG_LEVEL, default info: debug, info, warn or error, in
	// any case.
	LogLevel slog.Level
	// LogFormat is LOG_FORMAT, default "text": text or json, in any case;
	// stored in lower case.
	LogFormat string
	// MigrateOnStart is MIGRATE_ON_START, default true; as strconv.ParseBool.
	MigrateOnStart bool
	// BodyLimit is HTTP_BODY_LIMIT, the largest request body in bytes,
	// default 1 MiB; > 0. Sizes are an integer, optionally followed by a
	// unit: B, KB (1000), KiB (1024), MB, MiB, GB or GiB, such as "512KB"
	// or "2MiB".
	BodyLimit int64
	// ReadHeaderTimeout is HTTP_READ_HEADER_TIMEOUT, default 5s; > 0.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is HTTP_READ_TIMEOUT, default 30s; > 0.
	ReadTimeout time.Duration
	// WriteTimeout is HTTP_WRITE_TIMEOUT, default 30s; > 0.
	WriteTimeout time.Duration
	// IdleTimeout is HTTP_IDLE_TIMEOUT, default 120s; > 0.
	IdleTimeout time.Duration
	// RequestTimeout is REQUEST_TIMEOUT, default 30s; > 0: how long a
	// request's transaction may run, counted from its BEGIN.
	RequestTimeout time.Duration
	// HoldLimit is RESPONSE_HOLD_LIMIT, a size as for BodyLimit, default
	// 1 MiB; > 0: how much of a response is held back until the
	// transaction's outcome is known.
	HoldLimit int64
	// RetryAttempts is TX_RETRY_ATTEMPTS, default 1 (no retry); >= 1: the
	// default number of attempts for retryable transaction failures.
	RetryAttempts int
	// RetryReplayLimit is TX_RETRY_REPLAY_LIMIT, a size as for BodyLimit,
	// default 1 MiB; >= 0: requests with larger bodies are not retried (0: only bodiless ones).
	RetryReplayLimit int64
	// NPlusOne is N_PLUS_ONE, default "off": off, log or error, in any
	// case; stored in lower case. It sets the N+1 detector of each
	// request's transaction (db.NPlusOne): log logs a warning for each
	// statement text a request runs more than NPlusOneThreshold times,
	// error also fails the statement that crosses the threshold and the
	// request, which rolls back.
	NPlusOne string
	// NPlusOneThreshold is N_PLUS_ONE_THRESHOLD, default 10; >= 1: how
	// many times one request may run the same statement text before the
	// next run is an N+1.
	NPlusOneThreshold int
	// JobsQueues is JOBS_QUEUES, default "default:10": the job queues this
	// process works and how many jobs of each it runs at once, as
	// comma-separated NAME:WORKERS pairs, such as "default:10,mail:2".
	// A name is lower-case letters and digits, separated by single
	// underscores or hyphens, at most 64 bytes; WORKERS is 1-10000; a name
	// appears once. ParseQueues reads it; an empty value (in a Config
	// built by hand) is no queue: the process inserts jobs and works none.
	// Only fxmodules.Jobs uses it.
	JobsQueues string
	// DatabaseReplicaURLs is DATABASE_REPLICA_URLS, default empty (no
	// replica): comma-separated URLs of PostgreSQL streaming replicas of
	// DATABASE_URL's database, which must be PostgreSQL too.
	// Read-only units of work run on them (db.Cluster); ReplicaURLs
	// splits them.
	DatabaseReplicaURLs string
	// ReplicaMaxOpenConns is REPLICA_MAX_OPEN_CONNS, default 10; >= 1:
	// the open connections of each replica's pool, which has its own
	// limits; the idle limits are DB_MAX_IDLE_CONNS, DB_CONN_MAX_LIFETIME
	// and DB_CONN_MAX_IDLE_TIME.
	ReplicaMaxOpenConns int
	// ReplicaMaxLag is REPLICA_MAX_LAG, default 10s; > 0: a replica whose
	// replay lags further is taken out of rotation until it catches up.
	ReplicaMaxLag time.Duration
	// ReplicaStickyWindow is REPLICA_STICKY_WINDOW, default 0 (none);
	// >= 0: for that long after a write this process committed, a read
	// that carries no position runs only on a replica that has replayed
	// the write.
	ReplicaStickyWindow time.Duration
	// ReplicaProbeInterval is REPLICA_PROBE_INTERVAL, default 500ms; > 0:
	// how often each replica's health, position and lag are probed.
	ReplicaProbeInterval time.Duration
	// ReplicaPositionKey is REPLICA_POSITION_KEY, default empty; empty or
	// at least 16 bytes: the secret that signs the write positions handed to clients. Empty is
	// a random key per process, which other processes (and the process
	// after a restart) do not accept: set one shared secret on every
	// process of an app with replicas.
	ReplicaPositionKey string
}

// ReplicaURLs returns the URLs of DatabaseReplicaURLs, spaces around them
// trimmed, empty ones dropped.
func (c Config) ReplicaURLs() []string {
	var out []string
	for u := range strings.SplitSeq(c.DatabaseReplicaURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// Default returns the configuration used when no variable is set.
func Default() Config {
	return Config{
		DatabaseURL:       "sqlite:app.db",
		HTTPAddr:          ":8080",
		DBMaxOpenConns:    10,
		DBMaxIdleConns:    10,
		DBConnMaxLifetime: 30 * time.Minute,
		DBConnMaxIdleTime: 5 * time.Minute,
		DBStmtCache:       256,
		StartTimeout:      15 * time.Second,
		StopTimeout:       15 * time.Second,
		LogLevel:          slog.LevelInfo,
		LogFormat:         "text",
		MigrateOnStart:    true,
		BodyLimit:         1 << 20,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		RequestTimeout:    30 * time.Second,
		HoldLimit:         1 << 20,
		RetryAttempts:     1,
		RetryReplayLimit:  1 << 20,
		NPlusOne:          "off",
		NPlusOneThreshold: 10,
		JobsQueues:        "default:10",

		ReplicaMaxOpenConns:  10,
		ReplicaMaxLag:        10 * time.Second,
		ReplicaProbeInterval: 500 * time.Millisecond,
	}
}

// Validate checks a Config built by hand, with the rules of [LoadFrom].
// It requires the stored forms LoadFrom produces: LogFormat in lower case
// and DatabaseURL non-empty. Like LoadFrom, it returns every [*Error]
// joined with [errors.Join].
func (c Config) Validate() error {
	var errs []error
	for _, r := range rules() {
		if v, err := r.check(&c); err != nil {
			errs = append(errs, newError(r.env, v, r.accepted, err))
		}
	}
	return errors.Join(errs...)
}

// LogValue implements [slog.LogValuer]: a group of every field, keyed by
// field name, with DatabaseURL passed through [dburl.Redact].
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("DatabaseURL", dburl.Redact(c.DatabaseURL)),
		slog.String("HTTPAddr", c.HTTPAddr),
		slog.Int("DBMaxOpenConns", c.DBMaxOpenConns),
		slog.Int("DBMaxIdleConns", c.DBMaxIdleConns),
		slog.Duration("DBConnMaxLifetime", c.DBConnMaxLifetime),
		slog.Duration("DBConnMaxIdleTime", c.DBConnMaxIdleTime),
		slog.Int("DBStmtCache", c.DBStmtCache),
		slog.Duration("StartTimeout", c.StartTimeout),
		slog.Duration("StopTimeout", c.StopTimeout),
		slog.Any("LogLevel", c.LogLevel),
		slog.String("LogFormat", c.LogFormat),
		slog.Bool("MigrateOnStart", c.MigrateOnStart),
		slog.Int64("BodyLimit", c.BodyLimit),
		slog.Duration("ReadHeaderTimeout", c.ReadHeaderTimeout),
		slog.Duration("ReadTimeout", c.ReadTimeout),
		slog.Duration("WriteTimeout", c.WriteTimeout),
		slog.Duration("IdleTimeout", c.IdleTimeout),
		slog.Duration("RequestTimeout", c.RequestTimeout),
		slog.Int64("HoldLimit", c.HoldLimit),
		slog.Int("RetryAttempts", c.RetryAttempts),
		slog.Int64("RetryReplayLimit", c.RetryReplayLimit),
		slog.String("NPlusOne", c.NPlusOne),
		slog.Int("NPlusOneThreshold", c.NPlusOneThreshold),
		slog.String("JobsQueues", c.JobsQueues),
		slog.String("DatabaseReplicaURLs", redactList(c.ReplicaURLs())),
		slog.Int("ReplicaMaxOpenConns", c.ReplicaMaxOpenConns),
		slog.Duration("ReplicaMaxLag", c.ReplicaMaxLag),
		slog.Duration("ReplicaStickyWindow", c.ReplicaStickyWindow),
		slog.Duration("ReplicaProbeInterval", c.ReplicaProbeInterval),
		slog.String("ReplicaPositionKey", secret(c.ReplicaPositionKey)),
	)
}

// secret returns "(secret)" for a secret that is set, "" for one that is
// not: a log shows which, never the secret.
func secret(s string) string {
	if s == "" {
		return ""
	}
	return "(secret)"
}

// redactList joins urls, each passed through dburl.Redact, with commas.
func redactList(urls []string) string {
	for i, u := range urls {
		urls[i] = dburl.Redact(u)
	}
	return strings.Join(urls, ",")
}
