package config_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/dburl"
)

// env returns a lookup function over vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// defaults is the documented default configuration, written out.
var defaults = config.Config{
	DatabaseURL:       "sqlite:app.db",
	HTTPAddr:          ":8080",
	DBMaxOpenConns:    10,
	DBMaxIdleConns:    10,
	DBConnMaxLifetime: 30 * time.Minute,
	DBConnMaxIdleTime: 5 * time.Minute,
	StartTimeout:      15 * time.Second,
	StopTimeout:       15 * time.Second,
	LogLevel:          slog.LevelInfo,
	LogFormat:         "text",
	MigrateOnStart:    true,
	BodyLimit:         1048576,
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       120 * time.Second,
	RequestTimeout:    30 * time.Second,
	HoldLimit:         1048576,
	RetryAttempts:     1,
	RetryReplayLimit:  1048576,
	DBStmtCache:       256,
	NPlusOne:          "off",
	NPlusOneThreshold: 10,
	JobsQueues:        "default:10",

	ReplicaMaxOpenConns:  10,
	ReplicaMaxLag:        10 * time.Second,
	ReplicaProbeInterval: 500 * time.Millisecond,
}

// allVars are every variable LoadFrom reads.
var allVars = []string{
	"DATABASE_URL", "HTTP_ADDR", "DB_MAX_OPEN_CONNS", "DB_MAX_IDLE_CONNS",
	"DB_CONN_MAX_LIFETIME", "DB_CONN_MAX_IDLE_TIME", "DB_STMT_CACHE", "START_TIMEOUT", "STOP_TIMEOUT",
	"LOG_LEVEL", "LOG_FORMAT", "MIGRATE_ON_START", "HTTP_BODY_LIMIT",
	"HTTP_READ_HEADER_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT",
	"REQUEST_TIMEOUT", "RESPONSE_HOLD_LIMIT", "TX_RETRY_ATTEMPTS", "TX_RETRY_REPLAY_LIMIT",
	"N_PLUS_ONE", "N_PLUS_ONE_THRESHOLD", "JOBS_QUEUES",
	"DATABASE_REPLICA_URLS", "REPLICA_MAX_OPEN_CONNS", "REPLICA_MAX_LAG", "REPLICA_STICKY_WINDOW",
	"REPLICA_PROBE_INTERVAL", "REPLICA_POSITION_KEY",
}

func TestDefaults(t *testing.T) {
	empty := map[string]string{"UNRELATED": "x"}
	for _, k := range allVars {
		empty[k] = ""
	}
	for _, tc := range []struct {
		name   string
		lookup func(string) (string, bool)
	}{
		{"unset", env(nil)},
		{"empty", env(empty)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.LoadFrom(tc.lookup)
			if err != nil {
				t.Fatalf("LoadFrom: %v", err)
			}
			if got != defaults {
				t.Errorf("LoadFrom = %+v, want %+v", got, defaults)
			}
		})
	}
	if got := config.Default(); got != defaults {
		t.Errorf("Default() = %+v, want %+v", got, defaults)
	}
	if err := config.Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

// parseCases set one variable each; want changes the defaults accordingly.
var parseCases = []struct {
	env, value string
	want       func(*config.Config)
}{
	{"DATABASE_URL", "postgres://app:pw@db:5432/app?sslmode=disable", func(c *config.Config) { c.DatabaseURL = "postgres://app:pw@db:5432/app?sslmode=disable" }},
	{"DATABASE_URL", "postgresql://db/app", func(c *config.Config) { c.DatabaseURL = "postgresql://db/app" }},
	{"DATABASE_URL", "postgresql://h1:5432,h2:5433/app", func(c *config.Config) { c.DatabaseURL = "postgresql://h1:5432,h2:5433/app" }},
	{"DATABASE_URL", "postgres:///app?host=/run/postgresql", func(c *config.Config) { c.DatabaseURL = "postgres:///app?host=/run/postgresql" }},
	{"DATABASE_URL", "mysql://app:pw@db:3306/app", func(c *config.Config) { c.DatabaseURL = "mysql://app:pw@db:3306/app" }},
	{"DATABASE_URL", "sqlite:data/x.db", func(c *config.Config) { c.DatabaseURL = "sqlite:data/x.db" }},
	{"DATABASE_URL", "sqlite:///var/lib/x.db", func(c *config.Config) { c.DatabaseURL = "sqlite:///var/lib/x.db" }},
	{"DATABASE_URL", "sqlite::memory:", func(c *config.Config) { c.DatabaseURL = "sqlite::memory:" }},
	{"DATABASE_URL", "SQLITE:app.db", func(c *config.Config) { c.DatabaseURL = "SQLITE:app.db" }},
	{"DATABASE_URL", "Postgres://h/db", func(c *config.Config) { c.DatabaseURL = "Postgres://h/db" }},
	{"DATABASE_URL", "sqlite:x.db?_pragma=foreign_keys(1)", func(c *config.Config) { c.DatabaseURL = "sqlite:x.db?_pragma=foreign_keys(1)" }},
	{"HTTP_ADDR", "127.0.0.1:9090", func(c *config.Config) { c.HTTPAddr = "127.0.0.1:9090" }},
	{"HTTP_ADDR", "[::1]:0", func(c *config.Config) { c.HTTPAddr = "[::1]:0" }},
	{"HTTP_ADDR", ":65535", func(c *config.Config) { c.HTTPAddr = ":65535" }},
	{"DB_MAX_OPEN_CONNS", "1", func(c *config.Config) { c.DBMaxOpenConns = 1 }},
	{"DB_MAX_IDLE_CONNS", "0", func(c *config.Config) { c.DBMaxIdleConns = 0 }},
	{"DB_MAX_IDLE_CONNS", "3", func(c *config.Config) { c.DBMaxIdleConns = 3 }},
	{"DB_STMT_CACHE", "0", func(c *config.Config) { c.DBStmtCache = 0 }},
	{"DB_STMT_CACHE", "17", func(c *config.Config) { c.DBStmtCache = 17 }},
	{"DB_CONN_MAX_LIFETIME", "1h30m", func(c *config.Config) { c.DBConnMaxLifetime = 90 * time.Minute }},
	{"DB_CONN_MAX_LIFETIME", "0", func(c *config.Config) { c.DBConnMaxLifetime = 0 }},
	{"DB_CONN_MAX_IDLE_TIME", "45s", func(c *config.Config) { c.DBConnMaxIdleTime = 45 * time.Second }},
	{"START_TIMEOUT", "1m", func(c *config.Config) { c.StartTimeout = time.Minute }},
	{"STOP_TIMEOUT", "250ms", func(c *config.Config) { c.StopTimeout = 250 * time.Millisecond }},
	{"LOG_LEVEL", "debug", func(c *config.Config) { c.LogLevel = slog.LevelDebug }},
	{"LOG_LEVEL", "INFO", func(c *config.Config) { c.LogLevel = slog.LevelInfo }},
	{"LOG_LEVEL", "Warn", func(c *config.Config) { c.LogLevel = slog.LevelWarn }},
	{"LOG_LEVEL", "error", func(c *config.Config) { c.LogLevel = slog.LevelError }},
	{"LOG_FORMAT", "json", func(c *config.Config) { c.LogFormat = "json" }},
	{"LOG_FORMAT", "JSON", func(c *config.Config) { c.LogFormat = "json" }},
	{"MIGRATE_ON_START", "false", func(c *config.Config) { c.MigrateOnStart = false }},
	{"MIGRATE_ON_START", "0", func(c *config.Config) { c.MigrateOnStart = false }},
	{"MIGRATE_ON_START", "T", func(c *config.Config) { c.MigrateOnStart = true }},
	{"HTTP_BODY_LIMIT", "2048", func(c *config.Config) { c.BodyLimit = 2048 }},
	{"HTTP_BODY_LIMIT", "10B", func(c *config.Config) { c.BodyLimit = 10 }},
	{"HTTP_BODY_LIMIT", "512KB", func(c *config.Config) { c.BodyLimit = 512000 }},
	{"HTTP_BODY_LIMIT", "512KiB", func(c *config.Config) { c.BodyLimit = 524288 }},
	{"HTTP_BODY_LIMIT", "3MB", func(c *config.Config) { c.BodyLimit = 3000000 }},
	{"HTTP_BODY_LIMIT", "2MiB", func(c *config.Config) { c.BodyLimit = 2097152 }},
	{"HTTP_BODY_LIMIT", "2 mib", func(c *config.Config) { c.BodyLimit = 2097152 }},
	{"HTTP_BODY_LIMIT", "1GB", func(c *config.Config) { c.BodyLimit = 1000000000 }},
	{"HTTP_BODY_LIMIT", "1GiB", func(c *config.Config) { c.BodyLimit = 1073741824 }},
	{"HTTP_READ_HEADER_TIMEOUT", "2s", func(c *config.Config) { c.ReadHeaderTimeout = 2 * time.Second }},
	{"HTTP_READ_TIMEOUT", "10s", func(c *config.Config) { c.ReadTimeout = 10 * time.Second }},
	{"HTTP_WRITE_TIMEOUT", "11s", func(c *config.Config) { c.WriteTimeout = 11 * time.Second }},
	{"HTTP_IDLE_TIMEOUT", "3m", func(c *config.Config) { c.IdleTimeout = 3 * time.Minute }},
	{"REQUEST_TIMEOUT", "5s", func(c *config.Config) { c.RequestTimeout = 5 * time.Second }},
	{"RESPONSE_HOLD_LIMIT", "64KiB", func(c *config.Config) { c.HoldLimit = 65536 }},
	{"TX_RETRY_ATTEMPTS", "3", func(c *config.Config) { c.RetryAttempts = 3 }},
	{"TX_RETRY_REPLAY_LIMIT", "0", func(c *config.Config) { c.RetryReplayLimit = 0 }},
	{"TX_RETRY_REPLAY_LIMIT", "4MiB", func(c *config.Config) { c.RetryReplayLimit = 4 << 20 }},
	{"N_PLUS_ONE", "log", func(c *config.Config) { c.NPlusOne = "log" }},
	{"N_PLUS_ONE", "ERROR", func(c *config.Config) { c.NPlusOne = "error" }},
	{"N_PLUS_ONE", "Off", func(c *config.Config) { c.NPlusOne = "off" }},
	{"N_PLUS_ONE_THRESHOLD", "1", func(c *config.Config) { c.NPlusOneThreshold = 1 }},
	{"N_PLUS_ONE_THRESHOLD", "50", func(c *config.Config) { c.NPlusOneThreshold = 50 }},
	{"JOBS_QUEUES", "default:10,mail:2", func(c *config.Config) { c.JobsQueues = "default:10,mail:2" }},
	{"REPLICA_MAX_OPEN_CONNS", "3", func(c *config.Config) { c.ReplicaMaxOpenConns = 3 }},
	{"REPLICA_MAX_LAG", "2s", func(c *config.Config) { c.ReplicaMaxLag = 2 * time.Second }},
	{"REPLICA_STICKY_WINDOW", "5s", func(c *config.Config) { c.ReplicaStickyWindow = 5 * time.Second }},
	{"REPLICA_PROBE_INTERVAL", "100ms", func(c *config.Config) { c.ReplicaProbeInterval = 100 * time.Millisecond }},
	{"REPLICA_POSITION_KEY", "0123456789abcdef", func(c *config.Config) { c.ReplicaPositionKey = "0123456789abcdef" }},
}

func TestLoadFromParses(t *testing.T) {
	changed := map[string]bool{} // fields some case changes
	for _, tc := range parseCases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			want := defaults
			tc.want(&want)
			got, err := config.LoadFrom(env(map[string]string{tc.env: tc.value}))
			if err != nil {
				t.Fatalf("LoadFrom: %v", err)
			}
			if got != want {
				t.Errorf("LoadFrom = %+v, want %+v", got, want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
			g, d := reflect.ValueOf(got), reflect.ValueOf(defaults)
			for i := range g.NumField() {
				if g.Field(i).Interface() != d.Field(i).Interface() {
					changed[g.Type().Field(i).Name] = true
				}
			}
		})
	}
	changed["DatabaseReplicaURLs"] = true // needs DATABASE_URL too: TestReplicaURLs
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config.Config]()) {
		if !changed[f.Name] {
			t.Errorf("no case sets field %s", f.Name)
		}
	}
}

func TestLoadFromAll(t *testing.T) {
	vars := map[string]string{
		"DATABASE_URL":             "mysql://u:p@db/app",
		"HTTP_ADDR":                "localhost:1",
		"DB_MAX_OPEN_CONNS":        "2",
		"DB_MAX_IDLE_CONNS":        "3",
		"DB_CONN_MAX_LIFETIME":     "4s",
		"DB_CONN_MAX_IDLE_TIME":    "5s",
		"DB_STMT_CACHE":            "17",
		"START_TIMEOUT":            "6s",
		"STOP_TIMEOUT":             "7s",
		"LOG_LEVEL":                "warn",
		"LOG_FORMAT":               "json",
		"MIGRATE_ON_START":         "false",
		"HTTP_BODY_LIMIT":          "8",
		"HTTP_READ_HEADER_TIMEOUT": "9s",
		"HTTP_READ_TIMEOUT":        "10s",
		"HTTP_WRITE_TIMEOUT":       "11s",
		"HTTP_IDLE_TIMEOUT":        "12s",
		"REQUEST_TIMEOUT":          "13s",
		"RESPONSE_HOLD_LIMIT":      "14",
		"TX_RETRY_ATTEMPTS":        "15",
		"TX_RETRY_REPLAY_LIMIT":    "16",
		"N_PLUS_ONE":               "error",
		"N_PLUS_ONE_THRESHOLD":     "18",
		"JOBS_QUEUES":              "default:19,mail:2",
		"REPLICA_MAX_OPEN_CONNS":   "20",
		"REPLICA_MAX_LAG":          "21s",
		"REPLICA_STICKY_WINDOW":    "22s",
		"REPLICA_PROBE_INTERVAL":   "23s",
		"REPLICA_POSITION_KEY":     "a secret of 24 or more bytes",
		"UNKNOWN_VARIABLE":         "ignored",
	}
	want := config.Config{
		DatabaseURL: "mysql://u:p@db/app", HTTPAddr: "localhost:1",
		DBMaxOpenConns: 2, DBMaxIdleConns: 3, DBConnMaxLifetime: 4 * time.Second, DBConnMaxIdleTime: 5 * time.Second,
		StartTimeout: 6 * time.Second, StopTimeout: 7 * time.Second,
		LogLevel: slog.LevelWarn, LogFormat: "json", MigrateOnStart: false, BodyLimit: 8,
		ReadHeaderTimeout: 9 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 11 * time.Second,
		IdleTimeout: 12 * time.Second, RequestTimeout: 13 * time.Second, HoldLimit: 14,
		RetryAttempts: 15, RetryReplayLimit: 16, DBStmtCache: 17,
		NPlusOne: "error", NPlusOneThreshold: 18, JobsQueues: "default:19,mail:2",
		ReplicaMaxOpenConns: 20, ReplicaMaxLag: 21 * time.Second, ReplicaStickyWindow: 22 * time.Second,
		ReplicaProbeInterval: 23 * time.Second, ReplicaPositionKey: "a secret of 24 or more bytes",
	}
	got, err := config.LoadFrom(env(vars))
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if got != want {
		t.Errorf("LoadFrom = %+v, want %+v", got, want)
	}
}

func TestLoad(t *testing.T) {
	for _, k := range allVars {
		t.Setenv(k, "") // empty counts as unset
	}
	t.Setenv("HTTP_ADDR", ":9999")
	t.Setenv("TX_RETRY_ATTEMPTS", "4")
	want := defaults
	want.HTTPAddr = ":9999"
	want.RetryAttempts = 4
	got, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got != want {
		t.Errorf("Load = %+v, want %+v", got, want)
	}

	t.Setenv("LOG_LEVEL", "loud")
	if _, err := config.Load(); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("Load with LOG_LEVEL=loud: err = %v, want a LOG_LEVEL error", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*config.Config)
		env     string // variable of the one error; "" for none
		value   string
		wantErr error
	}{
		{"default", func(*config.Config) {}, "", "", nil},
		{"empty database URL", func(c *config.Config) { c.DatabaseURL = "" }, "DATABASE_URL", "", dburl.ErrMalformed},
		{"unknown scheme", func(c *config.Config) { c.DatabaseURL = "redis://u:pw@h" }, "DATABASE_URL", "redis://u:xxxxx@h", dburl.ErrUnknownScheme},
		{"upper-case scheme", func(c *config.Config) { c.DatabaseURL = "POSTGRES://h/db" }, "", "", nil},
		{"sqlite3 scheme", func(c *config.Config) { c.DatabaseURL = "sqlite3:app.db" }, "DATABASE_URL", "sqlite3:app.db", dburl.ErrUnknownScheme},
		{"sqlite host", func(c *config.Config) { c.DatabaseURL = "sqlite://h/app.db" }, "DATABASE_URL", "sqlite://h/app.db", dburl.ErrMalformed},
		{"bad address", func(c *config.Config) { c.HTTPAddr = "8080" }, "HTTP_ADDR", "8080", nil},
		{"zero max open", func(c *config.Config) { c.DBMaxOpenConns = 0 }, "DB_MAX_OPEN_CONNS", "0", config.ErrOutOfRange},
		{"negative max idle", func(c *config.Config) { c.DBMaxIdleConns = -1 }, "DB_MAX_IDLE_CONNS", "-1", config.ErrOutOfRange},
		{"negative statement cache", func(c *config.Config) { c.DBStmtCache = -1 }, "DB_STMT_CACHE", "-1", config.ErrOutOfRange},
		{"negative lifetime", func(c *config.Config) { c.DBConnMaxLifetime = -time.Second }, "DB_CONN_MAX_LIFETIME", "-1s", config.ErrOutOfRange},
		{"zero stop timeout", func(c *config.Config) { c.StopTimeout = 0 }, "STOP_TIMEOUT", "0s", config.ErrOutOfRange},
		{"odd log level", func(c *config.Config) { c.LogLevel = slog.LevelInfo + 2 }, "LOG_LEVEL", "INFO+2", config.ErrUnknownValue},
		{"upper-case log format", func(c *config.Config) { c.LogFormat = "JSON" }, "LOG_FORMAT", "JSON", config.ErrUnknownValue},
		{"zero hold limit", func(c *config.Config) { c.HoldLimit = 0 }, "RESPONSE_HOLD_LIMIT", "0", config.ErrOutOfRange},
		{"zero replay limit", func(c *config.Config) { c.RetryReplayLimit = 0 }, "", "", nil},
		{"zero retry attempts", func(c *config.Config) { c.RetryAttempts = 0 }, "TX_RETRY_ATTEMPTS", "0", config.ErrOutOfRange},
		{"N+1 detector on", func(c *config.Config) { c.NPlusOne = "error" }, "", "", nil},
		{"upper-case N+1 mode", func(c *config.Config) { c.NPlusOne = "LOG" }, "N_PLUS_ONE", "LOG", config.ErrUnknownValue},
		{"empty N+1 mode", func(c *config.Config) { c.NPlusOne = "" }, "N_PLUS_ONE", "", config.ErrUnknownValue},
		{"zero N+1 threshold", func(c *config.Config) { c.NPlusOneThreshold = 0 }, "N_PLUS_ONE_THRESHOLD", "0", config.ErrOutOfRange},
		{"replicas of SQLite", func(c *config.Config) { c.DatabaseReplicaURLs = "postgres://r/app" }, "DATABASE_REPLICA_URLS", "postgres://r/app", config.ErrReplicaNotPostgres},
		{"zero replica max lag", func(c *config.Config) { c.ReplicaMaxLag = 0 }, "REPLICA_MAX_LAG", "0s", config.ErrOutOfRange},
		{"negative sticky window", func(c *config.Config) { c.ReplicaStickyWindow = -time.Second }, "REPLICA_STICKY_WINDOW", "-1s", config.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.env == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			errs := configErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("Validate() = %v, want one error", err)
			}
			e := errs[0]
			if e.Var != tc.env || e.Value != tc.value {
				t.Errorf("Var, Value = %q, %q, want %q, %q", e.Var, e.Value, tc.env, tc.value)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Validate() = %v, want errors.Is %v", err, tc.wantErr)
			}
		})
	}
}

func TestValidateZero(t *testing.T) {
	want := []string{
		"DATABASE_URL", "HTTP_ADDR", "DB_MAX_OPEN_CONNS", "START_TIMEOUT", "STOP_TIMEOUT",
		"LOG_FORMAT", "HTTP_BODY_LIMIT", "HTTP_READ_HEADER_TIMEOUT", "HTTP_READ_TIMEOUT",
		"HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT", "REQUEST_TIMEOUT", "RESPONSE_HOLD_LIMIT",
		"TX_RETRY_ATTEMPTS", "N_PLUS_ONE", "N_PLUS_ONE_THRESHOLD", "REPLICA_MAX_OPEN_CONNS",
		"REPLICA_MAX_LAG", "REPLICA_PROBE_INTERVAL",
	}
	var got []string
	for _, e := range configErrors(t, config.Config{}.Validate()) {
		got = append(got, e.Var)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config{}.Validate() reports %q, want %q", got, want)
	}
}

// configErrors returns the *config.Error values joined in err.
func configErrors(t *testing.T, err error) []*config.Error {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil, want errors")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("err %T is not joined", err)
	}
	var errs []*config.Error
	for _, e := range joined.Unwrap() {
		ce, ok := e.(*config.Error)
		if !ok {
			t.Fatalf("joined error %T, want *config.Error", e)
		}
		errs = append(errs, ce)
	}
	return errs
}
