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

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secret   string // must not survive; "" if in has no password
	}{
		// URL userinfo.
		{"postgres://app:s3cret@db:5432/app?sslmode=disable", "postgres://app:xxxxx@db:5432/app?sslmode=disable", "s3cret"},
		{"postgresql://:s3cret@db/app", "postgresql://:xxxxx@db/app", "s3cret"},
		{"mysql://root:s3cret@localhost:3306/app", "mysql://root:xxxxx@localhost:3306/app", "s3cret"},
		{"redis://u:s3cret@h:6379", "redis://u:xxxxx@h:6379", "s3cret"},
		{"postgres://app:p%40ss@db/app", "postgres://app:xxxxx@db/app", "p%40ss"},
		// Unescaped special characters, some making the URL unparsable.
		{"postgres://app:s3@cret@db/app", "postgres://app:xxxxx@db/app", "cret"},
		{"postgres://app:s3/cret@db/app", "postgres://app:xxxxx@db/app", "cret"},
		{"postgres://app:2024#s3cret@db/app", "postgres://app:xxxxx@db/app", "s3cret"},
		{"postgres://app:12?s3cret@db/app", "postgres://app:xxxxx@db/app", "s3cret"},
		{"postgres://app:s3%zzcret@db/app", "postgres://app:xxxxx@db/app", "cret"},
		{"mysql://root:s3cret@tcp(localhost:3306)/app", "mysql://root:xxxxx@tcp(localhost:3306)/app", "s3cret"},
		{"postgres://app:s3 cret@db/app", "postgres://app:xxxxx@db/app", "cret"},
		// MySQL DSN.
		{"root:s3cret@tcp(localhost:3306)/app?parseTime=true", "root:xxxxx@tcp(localhost:3306)/app?parseTime=true", "s3cret"},
		{"app:s3cret@unix(/run/mysqld/mysqld.sock)/app", "app:xxxxx@unix(/run/mysqld/mysqld.sock)/app", "s3cret"},
		{"app:s3cret@/app", "app:xxxxx@/app", "s3cret"},
		{"root:s3@c/ret@tcp(db:3306)/app?loc=Europe%2FParis", "root:xxxxx@tcp(db:3306)/app?loc=Europe%2FParis", "ret"},
		{"root:s3c/ret@tcp(db:3306)", "root:xxxxx@tcp(db:3306)", "ret"},
		// Key/value DSNs.
		{"host=db user=app password=s3cret dbname=app", "host=db user=app password=xxxxx dbname=app", "s3cret"},
		{"host=db:5432 password=s3@cret", "host=db:5432 password=xxxxx", "cret"},
		{"password = s3cret host=db", "password = xxxxx host=db", "s3cret"},
		{"host=db password='s3 c\\'ret' dbname=app", "host=db password='xxxxx' dbname=app", "ret"},
		{`host=db password="s3 cret"`, `host=db password="xxxxx"`, "cret"},
		{"host=db password='s3 cret", "host=db password='xxxxx", "cret"},
		{"PASSWORD=s3cret", "PASSWORD=xxxxx", "s3cret"},
		{"pass=s3cret", "pass=xxxxx", "s3cret"},
		{"Server=db;Uid=app;Pwd=s3 cret;Database=app", "Server=db;Uid=app;Pwd=xxxxx;Database=app", "cret"},
		{"host=db sslpassword=s3cret", "host=db sslpassword=xxxxx", "s3cret"},
		// Query strings.
		{"postgres://db/app?user=app&password=s3cret&sslmode=disable", "postgres://db/app?user=app&password=xxxxx&sslmode=disable", "s3cret"},
		{"mysql://db/app?pass=s3cret", "mysql://db/app?pass=xxxxx", "s3cret"},
		{"postgres://app:s3cret@db/app?pwd=t0p", "postgres://app:xxxxx@db/app?pwd=xxxxx", "t0p"},
		// No password: unchanged.
		{"", "", ""},
		{"sqlite:app.db", "sqlite:app.db", ""},
		{"sqlite::memory:", "sqlite::memory:", ""},
		{"sqlite:///var/lib/app.db", "sqlite:///var/lib/app.db", ""},
		{"sqlite:/tmp/a:b@c.db", "sqlite:/tmp/a:b@c.db", ""},
		{"postgres://db:5432/app?sslmode=disable", "postgres://db:5432/app?sslmode=disable", ""},
		{"postgres://app@db/app", "postgres://app@db/app", ""},
		{"postgres://db/app?application_name=a@b", "postgres://db/app?application_name=a@b", ""},
		{"root@tcp(db:3306)/app", "root@tcp(db:3306)/app", ""},
		{"root:@tcp(db:3306)/app", "root:@tcp(db:3306)/app", ""},
		{"host=db user=app dbname=app", "host=db user=app dbname=app", ""},
		{"host=db passport=x mypassword=y password=", "host=db passport=x mypassword=y password=", ""},
		{"admin@example.com", "admin@example.com", ""},
	} {
		got := config.Redact(tc.in)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.secret != "" && strings.Contains(got, tc.secret) {
			t.Errorf("Redact(%q) = %q shows %q", tc.in, got, tc.secret)
		}
	}
}

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
