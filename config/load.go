package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/dburl"
)

// Load reads the process environment (os.LookupEnv); see [LoadFrom].
func Load() (Config, error) {
	return LoadFrom(os.LookupEnv)
}

// LoadFrom reads variables through lookup (for tests and embedding apps).
// A variable that is unset or empty keeps its [Default]; unknown variables
// are ignored. On error LoadFrom returns the zero Config and every invalid
// variable as an [*Error], joined with [errors.Join].
func LoadFrom(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error
	for _, r := range rules() {
		s, ok := lookup(r.env)
		if !ok || s == "" {
			continue
		}
		err := r.parse(&c, s)
		if err == nil {
			_, err = r.check(&c)
		}
		if err != nil {
			errs = append(errs, newError(r.env, s, r.accepted, err))
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// A rule reads one variable into its Config field and checks the field.
type rule struct {
	env      string
	accepted string
	// parse stores s in the field, or reports why it cannot.
	parse func(c *Config, s string) error
	// check returns the field, formatted, and whether it is out of bounds.
	check func(c *Config) (string, error)
}

// rules returns the rules of the fields, in field order.
func rules() []rule {
	return []rule{
		{
			env:      "DATABASE_URL",
			accepted: dburl.Accepted,
			parse:    func(c *Config, s string) error { c.DatabaseURL = s; return nil },
			check:    func(c *Config) (string, error) { return c.DatabaseURL, checkDatabaseURL(c.DatabaseURL) },
		},
		{
			env:      "HTTP_ADDR",
			accepted: `host:port with port 0-65535, such as ":8080" or "127.0.0.1:8080"`,
			parse:    func(c *Config, s string) error { c.HTTPAddr = s; return nil },
			check:    func(c *Config) (string, error) { return c.HTTPAddr, checkAddr(c.HTTPAddr) },
		},
		intRule("DB_MAX_OPEN_CONNS", func(c *Config) *int { return &c.DBMaxOpenConns }, 1),
		intRule("DB_MAX_IDLE_CONNS", func(c *Config) *int { return &c.DBMaxIdleConns }, 0),
		durationRule("DB_CONN_MAX_LIFETIME", func(c *Config) *time.Duration { return &c.DBConnMaxLifetime }, false),
		durationRule("DB_CONN_MAX_IDLE_TIME", func(c *Config) *time.Duration { return &c.DBConnMaxIdleTime }, false),
		intRule("DB_STMT_CACHE", func(c *Config) *int { return &c.DBStmtCache }, 0),
		durationRule("START_TIMEOUT", func(c *Config) *time.Duration { return &c.StartTimeout }, true),
		durationRule("STOP_TIMEOUT", func(c *Config) *time.Duration { return &c.StopTimeout }, true),
		{
			env:      "LOG_LEVEL",
			accepted: "debug, info, warn, error",
			parse: func(c *Config, s string) error {
				switch strings.ToLower(s) {
				case "debug":
					c.LogLevel = slog.LevelDebug
				case "info":
					c.LogLevel = slog.LevelInfo
				case "warn":
					c.LogLevel = slog.LevelWarn
				case "error":
					c.LogLevel = slog.LevelError
				default:
					return ErrUnknownValue
				}
				return nil
			},
			check: func(c *Config) (string, error) {
				switch c.LogLevel {
				case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
					return strings.ToLower(c.LogLevel.String()), nil
				}
				return c.LogLevel.String(), ErrUnknownValue
			},
		},
		{
			env:      "LOG_FORMAT",
			accepted: "text, json",
			parse:    func(c *Config, s string) error { c.LogFormat = strings.ToLower(s); return nil },
			check: func(c *Config) (string, error) {
				if c.LogFormat != "text" && c.LogFormat != "json" {
					return c.LogFormat, ErrUnknownValue
				}
				return c.LogFormat, nil
			},
		},
		{
			env:      "MIGRATE_ON_START",
			accepted: "1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False",
			parse: func(c *Config, s string) (err error) {
				c.MigrateOnStart, err = strconv.ParseBool(s)
				return numError(err)
			},
			check: func(c *Config) (string, error) { return strconv.FormatBool(c.MigrateOnStart), nil },
		},
		sizeRule("HTTP_BODY_LIMIT", func(c *Config) *int64 { return &c.BodyLimit }, true),
		durationRule("HTTP_READ_HEADER_TIMEOUT", func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }, true),
		durationRule("HTTP_READ_TIMEOUT", func(c *Config) *time.Duration { return &c.ReadTimeout }, true),
		durationRule("HTTP_WRITE_TIMEOUT", func(c *Config) *time.Duration { return &c.WriteTimeout }, true),
		durationRule("HTTP_IDLE_TIMEOUT", func(c *Config) *time.Duration { return &c.IdleTimeout }, true),
		durationRule("REQUEST_TIMEOUT", func(c *Config) *time.Duration { return &c.RequestTimeout }, true),
		sizeRule("RESPONSE_HOLD_LIMIT", func(c *Config) *int64 { return &c.HoldLimit }, true),
		intRule("TX_RETRY_ATTEMPTS", func(c *Config) *int { return &c.RetryAttempts }, 1),
		sizeRule("TX_RETRY_REPLAY_LIMIT", func(c *Config) *int64 { return &c.RetryReplayLimit }, false),
		{
			env:      "N_PLUS_ONE",
			accepted: "off, log, error",
			parse:    func(c *Config, s string) error { c.NPlusOne = strings.ToLower(s); return nil },
			check: func(c *Config) (string, error) {
				switch c.NPlusOne {
				case "off", "log", "error":
					return c.NPlusOne, nil
				}
				return c.NPlusOne, ErrUnknownValue
			},
		},
		intRule("N_PLUS_ONE_THRESHOLD", func(c *Config) *int { return &c.NPlusOneThreshold }, 1),
		{
			env:      "JOBS_QUEUES",
			accepted: queuesAccepted,
			parse:    func(c *Config, s string) error { c.JobsQueues = s; return nil },
			check: func(c *Config) (string, error) {
				_, err := ParseQueues(c.JobsQueues)
				return c.JobsQueues, err
			},
		},
		{
			env:      "DATABASE_REPLICA_URLS",
			accepted: "comma-separated postgres:// URLs of replicas, with a PostgreSQL DATABASE_URL",
			parse:    func(c *Config, s string) error { c.DatabaseReplicaURLs = s; return nil },
			check: func(c *Config) (string, error) {
				return redactList(c.ReplicaURLs()), checkReplicaURLs(*c)
			},
		},
		intRule("REPLICA_MAX_OPEN_CONNS", func(c *Config) *int { return &c.ReplicaMaxOpenConns }, 1),
		durationRule("REPLICA_MAX_LAG", func(c *Config) *time.Duration { return &c.ReplicaMaxLag }, true),
		durationRule("REPLICA_STICKY_WINDOW", func(c *Config) *time.Duration { return &c.ReplicaStickyWindow }, false),
		durationRule("REPLICA_PROBE_INTERVAL", func(c *Config) *time.Duration { return &c.ReplicaProbeInterval }, true),
		{
			env:      "REPLICA_POSITION_KEY",
			accepted: "a secret of at least 16 bytes",
			parse:    func(c *Config, s string) error { c.ReplicaPositionKey = s; return nil },
			check: func(c *Config) (string, error) {
				if c.ReplicaPositionKey == "" {
					return "", nil
				}
				return secret(c.ReplicaPositionKey), outOfRange(len(c.ReplicaPositionKey) < 16)
			},
		},
	}
}

// ErrReplicaNotPostgres is the error of a DATABASE_REPLICA_URLS URL that
// is not PostgreSQL's, or of replicas of a DATABASE_URL that is not.
var ErrReplicaNotPostgres = errors.New("read replicas need PostgreSQL, for DATABASE_URL and each replica")

// checkReplicaURLs checks each replica URL with dburl.Parse, and that it
// and DATABASE_URL are PostgreSQL's.
func checkReplicaURLs(c Config) error {
	urls := c.ReplicaURLs()
	if len(urls) == 0 {
		return nil
	}
	if t, err := dburl.Parse(c.DatabaseURL); err == nil && t.Dialect != dburl.Postgres {
		return ErrReplicaNotPostgres
	}
	for _, u := range urls {
		t, err := dburl.Parse(u)
		if e, ok := errors.AsType[*dburl.Error](err); ok {
			return e.Err
		}
		if err != nil {
			return err
		}
		if t.Dialect != dburl.Postgres {
			return ErrReplicaNotPostgres
		}
	}
	return nil
}

// intRule is the rule of an integer field that must be >= min.
func intRule(env string, field func(*Config) *int, min int) rule {
	return rule{
		env:      env,
		accepted: fmt.Sprintf("an integer >= %d", min),
		parse: func(c *Config, s string) (err error) {
			*field(c), err = strconv.Atoi(s)
			return numError(err)
		},
		check: func(c *Config) (string, error) {
			n := *field(c)
			return strconv.Itoa(n), outOfRange(n < min)
		},
	}
}

// durationRule is the rule of a duration field that must be >= 0, or > 0
// if positive.
func durationRule(env string, field func(*Config) *time.Duration, positive bool) rule {
	accepted := `a duration >= 0, such as "30m" or "1h30m"`
	if positive {
		accepted = `a duration > 0, such as "15s" or "1m30s"`
	}
	return rule{
		env:      env,
		accepted: accepted,
		parse: func(c *Config, s string) (err error) {
			*field(c), err = time.ParseDuration(s)
			return err
		},
		check: func(c *Config) (string, error) {
			d := *field(c)
			return d.String(), outOfRange(d < 0 || positive && d == 0)
		},
	}
}

// sizeRule is the rule of a size field that must be >= 0, or > 0 if
// positive.
func sizeRule(env string, field func(*Config) *int64, positive bool) rule {
	accepted := `a size in bytes >= 0`
	if positive {
		accepted = `a size in bytes > 0`
	}
	accepted += `: an integer, optionally with unit B, KB, KiB, MB, MiB, GB or GiB, such as "512KB" or "2MiB"`
	return rule{
		env:      env,
		accepted: accepted,
		parse: func(c *Config, s string) (err error) {
			*field(c), err = parseSize(s)
			return err
		},
		check: func(c *Config) (string, error) {
			n := *field(c)
			return strconv.FormatInt(n, 10), outOfRange(n < 0 || positive && n == 0)
		},
	}
}

func outOfRange(out bool) error {
	if out {
		return ErrOutOfRange
	}
	return nil
}

// numError returns the cause of a *strconv.NumError (strconv.ErrSyntax or
// strconv.ErrRange), whose own message repeats the value.
func numError(err error) error {
	if ne, ok := errors.AsType[*strconv.NumError](err); ok {
		return ne.Err
	}
	return err
}

// checkAddr checks a host:port listen address.
func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if ae, ok := errors.AsType[*net.AddrError](err); ok {
		return errors.New(ae.Err) // ae's own message repeats the address
	} else if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: %w", port, numError(err))
	}
	return nil
}

// checkDatabaseURL checks a DATABASE_URL with dburl.Parse, the grammar the
// db package opens it with. The error says what is wrong without quoting
// the URL (the *Error holds it, redacted) or its password; it wraps
// dburl.ErrUnknownScheme or dburl.ErrMalformed.
func checkDatabaseURL(s string) error {
	_, err := dburl.Parse(s)
	if e, ok := errors.AsType[*dburl.Error](err); ok {
		return e.Err
	}
	return err
}
