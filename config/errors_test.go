package config_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/dburl"
)

func TestLoadFromInvalid(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		is         error  // errors.Is target, if any
		msg        string // also in the message
	}{
		{"DATABASE_URL", "redis://h:6379", dburl.ErrUnknownScheme, `unknown scheme "redis"`},
		{"DATABASE_URL", "sqlite3:app.db", dburl.ErrUnknownScheme, `unknown scheme "sqlite3": an SQLite file is sqlite:PATH`},
		{"DATABASE_URL", "mysql://u@db/app?timeout=banana", dburl.ErrMalformed, "invalid duration"},
		{"DATABASE_URL", "mysql:///app", dburl.ErrMalformed, "MySQL URL without a host"},
		{"DATABASE_URL", "app.db", dburl.ErrMalformed, "missing scheme"},
		{"DATABASE_URL", "sqlite:", dburl.ErrMalformed, "empty sqlite path"},
		{"DATABASE_URL", "sqlite://", dburl.ErrMalformed, "empty sqlite path"},
		{"DATABASE_URL", "sqlite:?mode=memory", dburl.ErrMalformed, "empty sqlite path"},
		{"DATABASE_URL", "sqlite://host/x.db", dburl.ErrMalformed, "sqlite URL with a host; write sqlite:PATH for a relative path or sqlite:///abs/path for an absolute one"},
		{"DATABASE_URL", "postgres:db", dburl.ErrMalformed, `missing "//"`},
		{"DATABASE_URL", "postgres://h:port/db", dburl.ErrMalformed, `invalid port ":port"`},
		{"DATABASE_URL", "postgres://h:65536/db", dburl.ErrMalformed, "port 65536 not in 0-65535"},
		{"DATABASE_URL", "mysql://h/%zz", dburl.ErrMalformed, `invalid URL escape "%zz"`},
		{"HTTP_ADDR", "8080", nil, "missing port in address"},
		{"HTTP_ADDR", "localhost:http", strconv.ErrSyntax, `port "http"`},
		{"HTTP_ADDR", ":65536", strconv.ErrRange, `port "65536"`},
		{"HTTP_ADDR", "localhost:", strconv.ErrSyntax, `port ""`},
		{"DB_MAX_OPEN_CONNS", "0", config.ErrOutOfRange, "out of range"},
		{"DB_MAX_OPEN_CONNS", "-5", config.ErrOutOfRange, "out of range"},
		{"DB_MAX_OPEN_CONNS", "ten", strconv.ErrSyntax, "invalid syntax"},
		{"DB_MAX_IDLE_CONNS", "-1", config.ErrOutOfRange, "out of range"},
		{"DB_MAX_IDLE_CONNS", "99999999999999999999", strconv.ErrRange, "value out of range"},
		{"DB_CONN_MAX_LIFETIME", "-1m", config.ErrOutOfRange, "out of range"},
		{"DB_CONN_MAX_LIFETIME", "30", nil, "missing unit"},
		{"DB_CONN_MAX_IDLE_TIME", "soon", nil, "invalid duration"},
		{"START_TIMEOUT", "0s", config.ErrOutOfRange, "out of range"},
		{"START_TIMEOUT", "-1s", config.ErrOutOfRange, "out of range"},
		{"STOP_TIMEOUT", "0", config.ErrOutOfRange, "out of range"},
		{"STOP_TIMEOUT", "15 s", nil, "unknown unit"},
		{"LOG_LEVEL", "verbose", config.ErrUnknownValue, "unknown value"},
		{"LOG_LEVEL", "warning", config.ErrUnknownValue, "unknown value"},
		{"LOG_FORMAT", "xml", config.ErrUnknownValue, "unknown value"},
		{"MIGRATE_ON_START", "yes", strconv.ErrSyntax, "invalid syntax"},
		{"HTTP_BODY_LIMIT", "0", config.ErrOutOfRange, "out of range"},
		{"HTTP_BODY_LIMIT", "-1MiB", config.ErrOutOfRange, "out of range"},
		{"HTTP_BODY_LIMIT", "2XB", nil, `unknown size unit "XB"`},
		{"HTTP_BODY_LIMIT", "1.5MiB", strconv.ErrSyntax, "invalid syntax"},
		{"HTTP_BODY_LIMIT", "MiB", strconv.ErrSyntax, "invalid syntax"},
		{"HTTP_BODY_LIMIT", "9999999999GiB", strconv.ErrRange, "value out of range"},
		{"HTTP_READ_HEADER_TIMEOUT", "0s", config.ErrOutOfRange, "out of range"},
		{"HTTP_READ_TIMEOUT", "0s", config.ErrOutOfRange, "out of range"},
		{"HTTP_WRITE_TIMEOUT", "-1s", config.ErrOutOfRange, "out of range"},
		{"HTTP_IDLE_TIMEOUT", "0s", config.ErrOutOfRange, "out of range"},
		{"REQUEST_TIMEOUT", "0s", config.ErrOutOfRange, "out of range"},
		{"RESPONSE_HOLD_LIMIT", "0", config.ErrOutOfRange, "out of range"},
		{"RESPONSE_HOLD_LIMIT", "lots", strconv.ErrSyntax, "invalid syntax"},
		{"TX_RETRY_ATTEMPTS", "0", config.ErrOutOfRange, "out of range"},
		{"TX_RETRY_REPLAY_LIMIT", "-1", config.ErrOutOfRange, "out of range"},
		{"TX_RETRY_REPLAY_LIMIT", "1TB", nil, `unknown size unit "TB"`},
		{"N_PLUS_ONE", "on", config.ErrUnknownValue, "unknown value; accepted: off, log, error"},
		{"N_PLUS_ONE", "warn", config.ErrUnknownValue, "unknown value"},
		{"N_PLUS_ONE_THRESHOLD", "0", config.ErrOutOfRange, "out of range; accepted: an integer >= 1"},
		{"N_PLUS_ONE_THRESHOLD", "-3", config.ErrOutOfRange, "out of range"},
		{"N_PLUS_ONE_THRESHOLD", "ten", strconv.ErrSyntax, "invalid syntax"},
		{"JOBS_QUEUES", "mail:0", config.ErrOutOfRange, `queue "mail": workers 0: out of range; accepted: comma-separated NAME:WORKERS pairs`},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			got, err := config.LoadFrom(env(map[string]string{tc.env: tc.value}))
			if err == nil {
				t.Fatalf("LoadFrom = %+v, nil; want error", got)
			}
			if got != (config.Config{}) {
				t.Errorf("LoadFrom returned %+v with error, want zero Config", got)
			}
			e, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("err = %v (%T), want a *config.Error", err, err)
			}
			if e.Var != tc.env || e.Value != tc.value || e.Accepted == "" {
				t.Errorf("Error{Var: %q, Value: %q, Accepted: %q}, want Var %q, Value %q, non-empty Accepted",
					e.Var, e.Value, e.Accepted, tc.env, tc.value)
			}
			msg := err.Error()
			for _, want := range []string{
				"config: " + tc.env + "=" + strconv.Quote(tc.value) + ": ",
				"; accepted: " + e.Accepted,
				tc.msg,
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := config.LoadFrom(env(map[string]string{"DATABASE_URL": "redis://u:hunter2@h:6379"}))
	const want = `config: DATABASE_URL="redis://u:xxxxx@h:6379": unknown scheme "redis"; accepted: sqlite:PATH, sqlite:///ABS/PATH, sqlite::memory:, postgres://…, postgresql://…, mysql://…`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	e := &config.Error{Var: "V", Value: "x", Accepted: "y", Err: config.ErrOutOfRange}
	if !errors.Is(e, config.ErrOutOfRange) || e.Unwrap() != config.ErrOutOfRange {
		t.Errorf("Unwrap() = %v, want ErrOutOfRange", e.Unwrap())
	}
}

func TestLoadFromReportsAll(t *testing.T) {
	bad := map[string]string{
		"DATABASE_URL":             "redis://h",
		"HTTP_ADDR":                "nope",
		"DB_MAX_OPEN_CONNS":        "0",
		"DB_MAX_IDLE_CONNS":        "-1",
		"DB_CONN_MAX_LIFETIME":     "-1s",
		"DB_CONN_MAX_IDLE_TIME":    "x",
		"DB_STMT_CACHE":            "-3",
		"START_TIMEOUT":            "0s",
		"STOP_TIMEOUT":             "0s",
		"LOG_LEVEL":                "loud",
		"LOG_FORMAT":               "xml",
		"MIGRATE_ON_START":         "maybe",
		"HTTP_BODY_LIMIT":          "0",
		"HTTP_READ_HEADER_TIMEOUT": "0s",
		"HTTP_READ_TIMEOUT":        "0s",
		"HTTP_WRITE_TIMEOUT":       "0s",
		"HTTP_IDLE_TIMEOUT":        "0s",
		"REQUEST_TIMEOUT":          "0s",
		"RESPONSE_HOLD_LIMIT":      "0",
		"TX_RETRY_ATTEMPTS":        "0",
		"TX_RETRY_REPLAY_LIMIT":    "-1",
		"N_PLUS_ONE":               "on",
		"JOBS_QUEUES":              "mail",
		"N_PLUS_ONE_THRESHOLD":     "0",
		"DATABASE_REPLICA_URLS":    "redis://r",
		"REPLICA_MAX_OPEN_CONNS":   "0",
		"REPLICA_MAX_LAG":          "0s",
		"REPLICA_STICKY_WINDOW":    "-1s",
		"REPLICA_PROBE_INTERVAL":   "soon",
		"REPLICA_POSITION_KEY":     "short",
	}
	for _, tc := range []struct {
		name string
		vars []string
	}{
		{"two", []string{"LOG_LEVEL", "HTTP_ADDR"}},
		{"all", allVars},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"DB_MAX_IDLE_CONNS_UNUSED": "x"}
			for _, k := range tc.vars {
				vars[k] = bad[k]
			}
			got, err := config.LoadFrom(env(vars))
			if got != (config.Config{}) {
				t.Errorf("LoadFrom returned %+v with error, want zero Config", got)
			}
			reported := map[string]int{}
			for _, e := range configErrors(t, err) {
				reported[e.Var]++
				if !strings.Contains(err.Error(), e.Error()) {
					t.Errorf("joined message lacks %q", e.Error())
				}
			}
			if len(reported) != len(tc.vars) {
				t.Errorf("reported %v, want each of %q", reported, tc.vars)
			}
			for _, k := range tc.vars {
				if reported[k] != 1 {
					t.Errorf("%s reported %d times, want 1", k, reported[k])
				}
			}
		})
	}
}
