package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// leakWords are what an error answer must never contain: SQL, driver and
// constraint text.
var leakWords = []string{
	"INSERT", "SELECT", "UPDATE ", "DELETE FROM", "pq:", "pgx", "SQLSTATE", "Error 1062", "Duplicate entry",
	"duplicate key", "users_email_key", "constraint", "sqlite", "mysql", "postgres", "goose",
}

// TestPasswordNeverPrinted runs the service with a database password, at
// debug level with JSON logs, through a start, good and bad requests and a
// stop; then with a wrong password, an unknown user and an unreachable
// port, which must fail the start. The password never shows on stdout or
// stderr, and error answers carry no SQL or driver text.
func TestPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	eachDialect(t, serverDialects, func(t *testing.T, d db.Dialect) {
		server := testdb.ServerURL(t, d)
		admin := openDB(t, server)
		suffix := randHex(t, 4)
		user := "ft_e2e_" + suffix
		password := "S3cret-" + randHex(t, 6)
		wrong := "Wr0ng-" + randHex(t, 6)
		ctx := context.Background()
		// Registered before the database is made, so it runs after the
		// database is dropped, when the role owns nothing any more.
		t.Cleanup(func() {
			drop := "DROP ROLE IF EXISTS " + user
			if d == db.MySQL {
				drop = "DROP USER IF EXISTS '" + user + "'@'%'"
			}
			if _, err := admin.ExecContext(ctx, drop); err != nil {
				t.Errorf("dropping %s: %v", user, err)
			}
		})
		databaseURL := testdb.New(t, d)
		name := databaseName(t, databaseURL)
		var stmts []string
		if d == db.Postgres {
			stmts = []string{
				fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", user, password),
				fmt.Sprintf("GRANT CONNECT, CREATE ON DATABASE %s TO %s", name, user),
			}
		} else {
			stmts = []string{
				fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, password),
				fmt.Sprintf("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%%'", name, user),
			}
		}
		for _, s := range stmts {
			if _, err := admin.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", strings.ReplaceAll(s, password, "xxxxx"), err)
			}
		}
		if d == db.Postgres {
			// PostgreSQL 15 no longer lets every role create in public.
			if _, err := openDB(t, databaseURL).ExecContext(ctx, "GRANT ALL ON SCHEMA public TO "+user); err != nil {
				t.Fatal(err)
			}
		}
		withUser := func(rawURL, user, password string) string {
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatal(err)
			}
			u.User = url.UserPassword(user, password)
			return u.String()
		}
		goodURL := withUser(databaseURL, user, password)
		secrets := []string{password, wrong}
		checkOutput := func(t *testing.T, p *process) {
			t.Helper()
			out := p.output()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%s printed the password %q:\n%s", p.name, s, out)
				}
			}
		}
		base := map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "json", "START_TIMEOUT": "10s"}
		env := func(databaseURL string) map[string]string {
			m := map[string]string{"DATABASE_URL": databaseURL}
			for k, v := range base {
				m[k] = v
			}
			return m
		}

		t.Run("serving", func(t *testing.T) {
			p := startApp(t, appBin, env(goodURL))
			tag := randHex(t, 3)
			a, b := "a-"+tag+"@example.com", "b-"+tag+"@example.com"
			r := p.mustDo(http.MethodPost, "/users", newUser("A", a))
			if r.Status != http.StatusCreated {
				t.Fatalf("POST /users: %s", r)
			}
			id := r.ID(t)
			if r := p.mustDo(http.MethodPost, "/users", newUser("B", b)); r.Status != http.StatusCreated {
				t.Fatalf("POST /users: %s", r)
			}
			if r := p.mustDo(http.MethodGet, fmt.Sprintf("/users/%d", id), nil); r.Status != http.StatusOK {
				t.Errorf("GET /users/%d: %s", id, r)
			}
			if r := p.mustDo(http.MethodGet, "/readyz", nil); r.Status != http.StatusOK {
				t.Errorf("GET /readyz: %s", r)
			}
			for _, c := range []struct {
				what, method, path string
				body               any
				want               int
			}{
				{"duplicate email", http.MethodPost, "/users", newUser("A again", a), http.StatusConflict},
				{"update to a taken email", http.MethodPut, fmt.Sprintf("/users/%d", id), newUser("A", b), http.StatusConflict},
				{"missing user", http.MethodGet, "/users/999999", nil, http.StatusNotFound},
				{"update of a missing user", http.MethodPut, "/users/999999", newUser("Nobody", "nobody-"+tag+"@example.com"), http.StatusNotFound},
				{"unknown route", http.MethodGet, "/no/such/route", nil, http.StatusNotFound},
				{"invalid fields", http.MethodPost, "/users", newUser("", "not-an-email"), http.StatusUnprocessableEntity},
				{"NUL in the name", http.MethodPost, "/users", newUser("a\x00b", "nul-"+tag+"@example.com"), http.StatusUnprocessableEntity},
				{"malformed JSON", http.MethodPost, "/users", `{"name": "x", `, http.StatusBadRequest},
				{"unknown field", http.MethodPost, "/users", `{"name": "x", "email": "x-` + tag + `@example.com", "role": "admin"}`, http.StatusBadRequest},
				{"bad id", http.MethodGet, "/users/abc", nil, http.StatusBadRequest},
				{"bad sort", http.MethodGet, "/users?sort=password", nil, http.StatusBadRequest},
				{"bad cursor", http.MethodGet, "/users?cursor=" + url.QueryEscape("' OR 1=1 --"), nil, http.StatusBadRequest},
				{"wrong method", http.MethodPatch, "/users", nil, http.StatusMethodNotAllowed},
			} {
				r := p.mustDo(c.method, c.path, c.body)
				if r.Status != c.want {
					t.Errorf("%s: %s %s: %s, want %d", c.what, c.method, c.path, r, c.want)
				}
				if !r.isProblem() {
					t.Errorf("%s: Content-Type %q, want application/problem+json", c.what, r.Header.Get("Content-Type"))
				}
				for _, w := range append(leakWords, password) {
					if strings.Contains(string(r.Body), w) {
						t.Errorf("%s: the answer contains %q: %s", c.what, w, r.Body)
					}
				}
			}
			p.signal(syscall.SIGTERM)
			if code := p.waitExit(15 * time.Second); code != 0 {
				t.Errorf("exit code %d after SIGTERM", code)
			}
			checkOutput(t, p)
			if out := p.output(); !strings.Contains(out, user+":xxxxx@") {
				t.Errorf("the log does not name the database by its redacted URL (%s:xxxxx@…):\n%s", user, out)
			}
		})

		// The start fails with an error that shows the password nowhere.
		failing := []struct{ name, url string }{
			{"wrong password", withUser(databaseURL, user, wrong)},
			{"unknown user", withUser(databaseURL, "ft_e2e_nobody_"+suffix, password)},
			{"unreachable port", withUser(strings.Replace(databaseURL, hostPort(t, databaseURL), freeAddr(t), 1), user, password)},
		}
		for _, c := range failing {
			t.Run(c.name, func(t *testing.T) {
				if c.name == "wrong password" && !checksPasswords(t, c.url) {
					t.Logf("the %s server does not check passwords from 127.0.0.1 (trust): a wrong password connects", d)
					p := startApp(t, appBin, env(c.url))
					p.signal(syscall.SIGTERM)
					p.waitExit(15 * time.Second)
					checkOutput(t, p)
					return
				}
				p := startProcess(t, appBin, env(c.url))
				code := p.waitExit(20 * time.Second)
				if code == 0 {
					t.Errorf("the start succeeded")
				}
				checkOutput(t, p)
				t.Logf("exit %d: %s", code, lastLine(p.stderr.String()))
			})
		}
	})
}

// hostPort returns the host:port of a URL.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// checksPasswords reports whether the server refuses databaseURL, whose
// password is wrong: a server that trusts local connections does not.
func checksPasswords(t *testing.T, databaseURL string) bool {
	t.Helper()
	x := openNoPing(t, databaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return x.PingContext(ctx) != nil
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
