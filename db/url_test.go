package db

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		dialect Dialect
		driver  string
		want    []string // substrings of the DSN
		memory  bool
	}{
		{"sqlite:app.db", SQLite, "sqlite", []string{"file:app.db?", "busy_timeout%285000%29", "foreign_keys%281%29", "journal_mode%28WAL%29", "_txlock=immediate"}, false},
		{"sqlite:///var/lib/app.db", SQLite, "sqlite", []string{"file:/var/lib/app.db?"}, false},
		{"sqlite:app.db?_pragma=busy_timeout(50)", SQLite, "sqlite", []string{"busy_timeout%2850%29"}, false},
		{"sqlite::memory:", SQLite, "sqlite", []string{"file:/fasttrack-", "vfs=memdb", "_txlock=immediate"}, true},
		{"postgres://u:secret@localhost:5432/app?sslmode=disable", Postgres, "pgx", []string{"postgres://u:secret@localhost:5432/app"}, false},
		{"postgresql://localhost/app", Postgres, "pgx", []string{"postgresql://localhost/app"}, false},
		{"mysql://root:secret@127.0.0.1:3306/app?loc=UTC", MySQL, "mysql", []string{"root:secret@tcp(127.0.0.1:3306)/app?", "clientFoundRows=true", "parseTime=true"}, false},
		{"mysql://root@db/app", MySQL, "mysql", []string{"@tcp(db:3306)/app"}, false},
		{"mysql://root@db:/app", MySQL, "mysql", []string{"@tcp(db:3306)/app"}, false},
		{"mysql://root@[::1]:3307/app", MySQL, "mysql", []string{"@tcp([::1]:3307)/app"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got.Dialect != tt.dialect || got.Driver != tt.driver || got.Memory != tt.memory {
				t.Fatalf("got %+v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.DSN, w) {
					t.Errorf("DSN %q lacks %q", got.DSN, w)
				}
			}
		})
	}
}

func TestParseURLMemoryDatabasesAreDistinct(t *testing.T) {
	a, _ := ParseURL("sqlite::memory:")
	b, _ := ParseURL("sqlite::memory:")
	if a.DSN == b.DSN {
		t.Fatalf("two sqlite::memory: URLs share DSN %q", a.DSN)
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis://u:hunter2@h:6379", `unknown database URL scheme "redis"`},
		{"app.db", "has no scheme"},
		{"sqlite:", "needs a file path"},
		{"mysql://u:hunter2@/app", "invalid MySQL URL"},
		{"mysql://u:hunter2@h:3306/app?timeout=banana", "invalid MySQL URL"},
		{"mysql://u:hunter2@db/app?x@tcp(other:3306)/y=", "parameter name"},
		{"mysql://:hunter2@db/app", "cannot be expressed"},
		{"mysql://a%3Ab:hunter2@db/app", "cannot be expressed"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := ParseURL(tt.url)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestDialectFacts(t *testing.T) {
	if got := Postgres.Rebind("a = ? AND b = ?"); got != "a = $1 AND b = $2" {
		t.Errorf("Postgres.Rebind = %q", got)
	}
	if got := MySQL.Rebind("a = ?"); got != "a = ?" {
		t.Errorf("MySQL.Rebind = %q", got)
	}
	if got := MySQL.Quote("we`ird"); got != "`we``ird`" {
		t.Errorf("MySQL.Quote = %q", got)
	}
	if got := SQLite.Quote(`we"ird`); got != `"we""ird"` {
		t.Errorf("SQLite.Quote = %q", got)
	}
	if MySQL.SupportsReturning() || !Postgres.SupportsReturning() || !SQLite.SupportsReturning() {
		t.Error("SupportsReturning wrong")
	}
}
