package dburl_test

import (
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/dburl"
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
		got := dburl.Redact(tc.in)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.secret != "" && strings.Contains(got, tc.secret) {
			t.Errorf("Redact(%q) = %q shows %q", tc.in, got, tc.secret)
		}
	}
}

func TestRedactText(t *testing.T) {
	for _, tc := range []struct {
		text, url, want string
	}{
		{`connect as "app" with "s3cret" failed`, "postgres://app:s3cret@db/app", `connect as "app" with "xxxxx" failed`},
		// Decoded, and as written.
		{"password p@ss rejected", "postgres://app:p%40ss@db/app", "password xxxxx rejected"},
		{"password p%40ss rejected", "postgres://app:p%40ss@db/app", "password xxxxx rejected"},
		// A URL net/url refuses: the password as written still goes.
		{"bad s3%zzcret", "mysql://app:s3%zzcret@db/app", "bad xxxxx"},
		// No password: unchanged.
		{"app@db refused", "postgres://app@db/app", "app@db refused"},
		{"app.db locked", "sqlite:app.db", "app.db locked"},
	} {
		if got := dburl.RedactText(tc.text, tc.url); got != tc.want {
			t.Errorf("RedactText(%q, %q) = %q, want %q", tc.text, tc.url, got, tc.want)
		}
	}
}
