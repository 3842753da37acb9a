package dburl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/dburl"
)

func TestParse(t *testing.T) {
	tests := []struct {
		url     string
		dialect dburl.Dialect
		driver  string
		want    []string // substrings of the DSN
		memory  bool
	}{
		{"sqlite:app.db", dburl.SQLite, "sqlite", []string{"file:app.db?", "busy_timeout%285000%29", "foreign_keys%281%29", "journal_mode%28WAL%29", "synchronous%28NORMAL%29", "_txlock=immediate"}, false},
		{"SQLite:app.db", dburl.SQLite, "sqlite", []string{"file:app.db?"}, false},
		{"sqlite:/var/lib/app.db", dburl.SQLite, "sqlite", []string{"file:/var/lib/app.db?"}, false},
		{"sqlite:///var/lib/app.db", dburl.SQLite, "sqlite", []string{"file:/var/lib/app.db?"}, false},
		{"sqlite:data/x.db", dburl.SQLite, "sqlite", []string{"file:data/x.db?"}, false},
		{"sqlite:app.db?_pragma=busy_timeout(50)", dburl.SQLite, "sqlite", []string{"busy_timeout%2850%29"}, false},
		{"sqlite:app.db?_txlock=deferred", dburl.SQLite, "sqlite", []string{"_txlock=deferred"}, false},
		{"sqlite::memory:", dburl.SQLite, "sqlite", []string{"file:/fasttrack-", "vfs=memdb", "_txlock=immediate"}, true},
		{"postgres://u:secret@localhost:5432/app?sslmode=disable", dburl.Postgres, "pgx", []string{"postgres://u:secret@localhost:5432/app?sslmode=disable"}, false},
		{"postgresql://localhost/app", dburl.Postgres, "pgx", []string{"postgresql://localhost/app"}, false},
		{"Postgres://h/db", dburl.Postgres, "pgx", []string{"postgres://h/db"}, false},
		{"POSTGRESQL://h/db", dburl.Postgres, "pgx", []string{"postgresql://h/db"}, false},
		{"postgresql://h1:5432,h2:5433/app", dburl.Postgres, "pgx", []string{"postgresql://h1:5432,h2:5433/app"}, false},
		{"postgres:///app?host=/run/postgresql", dburl.Postgres, "pgx", []string{"postgres:///app?host=/run/postgresql"}, false},
		{"mysql://root:secret@127.0.0.1:3306/app?loc=UTC", dburl.MySQL, "mysql", []string{"root:secret@tcp(127.0.0.1:3306)/app?", "clientFoundRows=true", "parseTime=true"}, false},
		{"MySQL://root@db/app", dburl.MySQL, "mysql", []string{"@tcp(db:3306)/app"}, false},
		{"mysql://root@db:/app", dburl.MySQL, "mysql", []string{"@tcp(db:3306)/app"}, false},
		{"mysql://root@[::1]:3307/app", dburl.MySQL, "mysql", []string{"@tcp([::1]:3307)/app"}, false},
		{"mysql://app:p%40ss@db/app", dburl.MySQL, "mysql", []string{"app:p@ss@tcp(db:3306)/app"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := dburl.Parse(tt.url)
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

func TestParseFileOptionsAreNotForMemory(t *testing.T) {
	got, err := dburl.Parse("sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.DSN, "journal_mode") {
		t.Errorf("in-memory DSN %q asks for WAL", got.DSN)
	}
}

func TestParseMemoryDatabasesAreDistinct(t *testing.T) {
	a, _ := dburl.Parse("sqlite::memory:")
	b, _ := dburl.Parse("sqlite::memory:")
	if a.DSN == b.DSN {
		t.Fatalf("two sqlite::memory: URLs share DSN %q", a.DSN)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		url  string
		is   error
		want string // in the message
	}{
		{"", dburl.ErrMalformed, "empty"},
		{"app.db", dburl.ErrMalformed, "missing scheme (an SQLite file is sqlite:PATH)"},
		{"/var/lib/app.db", dburl.ErrMalformed, "missing scheme"},
		{"redis://u:hunter2@h:6379", dburl.ErrUnknownScheme, `unknown scheme "redis"`},
		{"sqlite3:app.db", dburl.ErrUnknownScheme, `unknown scheme "sqlite3": an SQLite file is sqlite:PATH`},
		{"file:app.db", dburl.ErrUnknownScheme, `unknown scheme "file": an SQLite file is sqlite:PATH`},
		{"sqlite:", dburl.ErrMalformed, "empty sqlite path"},
		{"sqlite://", dburl.ErrMalformed, "empty sqlite path"},
		{"sqlite:?mode=memory", dburl.ErrMalformed, "empty sqlite path"},
		{"sqlite://host/x.db", dburl.ErrMalformed, "sqlite URL with a host; write sqlite:PATH for a relative path or sqlite:///abs/path for an absolute one"},
		{"sqlite://localhost/x.db", dburl.ErrMalformed, "sqlite URL with a host"},
		{"sqlite:x.db?a=%zz", dburl.ErrMalformed, "sqlite URL query"},
		{"postgres:db", dburl.ErrMalformed, `missing "//" after "postgres:"`},
		{"Postgres:db", dburl.ErrMalformed, `missing "//" after "postgres:"`},
		{"mysql:db", dburl.ErrMalformed, `missing "//" after "mysql:"`},
		{"postgres://h:port/db", dburl.ErrMalformed, `invalid port ":port"`},
		{"postgres://h:65536/db", dburl.ErrMalformed, "port 65536 not in 0-65535"},
		{"mysql://h:65536/db", dburl.ErrMalformed, "port 65536 not in 0-65535"},
		{"mysql://h/%zz", dburl.ErrMalformed, `invalid URL escape "%zz"`},
		{"mysql://u:hunter2@/app", dburl.ErrMalformed, "MySQL URL without a host"},
		{"mysql://u:hunter2@h:3306/app?timeout=banana", dburl.ErrMalformed, "invalid duration"},
		{"mysql://u:hunter2@db/app?x/y=", dburl.ErrMalformed, "parameter name"},
		// Redact hides the password to the last '@': the reason is the
		// redacted URL's.
		{"mysql://u:hunter2@db/app?x@tcp(other:3306)/y=", dburl.ErrMalformed, `invalid port ":3306)"`},
		{"mysql://:hunter2@db/app", dburl.ErrMalformed, "cannot be expressed"},
		{"mysql://a%3Ab:hunter2@db/app", dburl.ErrMalformed, "cannot be expressed"},
		{"postgres://app:hunter2%zz@db/app", dburl.ErrMalformed, "invalid user name or password; percent-encode special characters in them"},
		{"postgres://app:hunter2 x@db/app", dburl.ErrMalformed, "invalid user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := dburl.Parse(tt.url)
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if got != (dburl.Target{}) {
				t.Errorf("Parse returned %+v with its error", got)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			e, ok := errors.AsType[*dburl.Error](err)
			if !ok {
				t.Fatalf("error %T is not a *dburl.Error", err)
			}
			if e.URL != dburl.Redact(tt.url) {
				t.Errorf("Error.URL = %q, want %q", e.URL, dburl.Redact(tt.url))
			}
			if !strings.HasPrefix(err.Error(), "dburl: database URL ") || !strings.HasSuffix(err.Error(), "; accepted: "+dburl.Accepted) {
				t.Errorf("error %q: want the URL and the accepted forms", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
