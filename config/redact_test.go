package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
)

func TestErrorRedactsPassword(t *testing.T) {
	const secret = "Hunter2Secret"
	for _, url := range []string{
		"redis://app:" + secret + "@db/app",
		"postgres://app:" + secret + "@db:99999/app",
		"postgres://app:" + secret + "@db:port/app",
		"postgres://app:" + secret + "/x@db/app",             // unescaped '/'
		"postgres://app:" + secret + "%zz@db/app",            // bad escape
		"postgres://app:" + secret + " x@db/app",             // space
		"postgres://app:99999#" + secret + "@db/app",         // parses as port 99999
		"postgres://app:1:" + secret + "@db:port/app",        // ':' in password
		"app:" + secret + "@tcp(db:3306)/app",                // MySQL DSN, not a URL
		"postgres://db:port/app?password=" + secret + "&x=1", // query password
		"postgres://app:x@db:port/app?password=" + secret,    // both
		"mysql://app:" + secret + "@tcp(localhost:3306)/a",   // DSN written as URL
	} {
		_, err := config.LoadFrom(env(map[string]string{"DATABASE_URL": url}))
		if err == nil {
			t.Errorf("LoadFrom(DATABASE_URL=%q) = nil error, want one", url)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, secret) || strings.Contains(msg, "Secret") || strings.Contains(msg, "Hunter") {
			t.Errorf("error for %q shows the password: %s", url, msg)
		}
		if !strings.Contains(msg, "xxxxx") || !strings.Contains(msg, "DATABASE_URL") {
			t.Errorf("error for %q: %s; want DATABASE_URL and xxxxx", url, msg)
		}
		c := config.Default()
		c.DatabaseURL = url
		if err := c.Validate(); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Validate with DatabaseURL %q = %v, want an error without the password", url, err)
		}
	}
}

func TestLogValue(t *testing.T) {
	c := config.Default()
	c.DatabaseURL = "postgres://app:Hunter2Secret@db/app?sslmode=disable"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	if strings.Contains(out, "Hunter2Secret") {
		t.Errorf("log shows the password: %s", out)
	}
	var rec struct{ Config map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	if got, want := rec.Config["DatabaseURL"], "postgres://app:xxxxx@db/app?sslmode=disable"; got != want {
		t.Errorf("DatabaseURL logged as %v, want %q", got, want)
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config.Config]()) {
		if _, ok := rec.Config[f.Name]; !ok {
			t.Errorf("field %s not logged: %s", f.Name, out)
		}
	}
	if len(rec.Config) != reflect.TypeFor[config.Config]().NumField() {
		t.Errorf("logged %d attributes, want one per field: %s", len(rec.Config), out)
	}
	for k, want := range map[string]any{
		"HTTPAddr": ":8080", "LogLevel": "INFO", "LogFormat": "text", "MigrateOnStart": true,
		"BodyLimit": 1048576.0, "RetryAttempts": 1.0, "StartTimeout": 15e9,
	} {
		if rec.Config[k] != want {
			t.Errorf("%s logged as %v (%T), want %v", k, rec.Config[k], rec.Config[k], want)
		}
	}
}
