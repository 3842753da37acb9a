package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestDatabaseOutage puts a TCP proxy between the service and its database
// server and cuts it until every request sent during the cut has answered,
// once refusing new connections (the server is down) and once black-holing
// them (the network drops everything). While it is cut, requests that need
// the database answer 503 problem+json within the request timeout, /readyz
// answers 503 and /healthz 200, and a transaction in flight does not
// commit. Once healed, the same process serves again, and the database
// holds exactly the users answered 201. Every request has a client deadline
// of a few request timeouts, so that a request timeout that no longer holds
// fails the test in seconds.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	eachDialect(t, serverDialects, func(t *testing.T, d db.Dialect) {
		for _, mode := range []cutMode{refuse, blackhole} {
			t.Run(mode.String(), func(t *testing.T) {
				t.Parallel()
				testOutage(t, d, testdb.New(t, d), mode)
			})
		}
	})
}

// timed is a response and how long it took.
type timed struct {
	what string
	r    response
	err  error
	took time.Duration
}

func testOutage(t *testing.T, d db.Dialect, databaseURL string, mode cutMode) {
	const (
		requestTimeout = 2 * time.Second
		// clientDeadline bounds each request of the test: far above the
		// request timeout, far below go test's.
		clientDeadline = 5 * requestTimeout
	)
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.addr
	p := startApp(t, testappBin, map[string]string{
		"DATABASE_URL":    u.String(),
		"REQUEST_TIMEOUT": requestTimeout.String(),
		"START_TIMEOUT":   "10s",
	})
	pid := p.cmd.Process.Pid
	// do sends a request with the client deadline.
	do := func(method, path string, body any) (response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), clientDeadline)
		defer cancel()
		return p.doCtx(ctx, method, path, body, nil)
	}
	admin := openDB(t, databaseURL) // straight to the server
	tag := randHex(t, 3)
	email := func(s string) string { return fmt.Sprintf("outage-%s-%s@example.com", tag, s) }

	created := []string{email("before")}
	r := p.mustDo(http.MethodPost, "/users", newUser("Before", created[0]))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /users before the cut: %s", r)
	}
	id := r.ID(t)
	if r := p.mustDo(http.MethodGet, "/readyz", nil); r.Status != http.StatusOK {
		t.Fatalf("GET /readyz before the cut: %s", r)
	}

	// A transaction in flight when the link goes: it sleeps past the cut,
	// then its commit fails.
	slow := make(chan timed, 1)
	go func() {
		start := time.Now()
		r, err := do(http.MethodPost, "/slow-users?ms=1500", newUser("In flight", email("inflight")))
		slow <- timed{"POST /slow-users (in its transaction at the cut)", r, err, time.Since(start)}
	}()
	waitInTransaction(t, d, admin, email("inflight"))
	// And a pooled connection, idle but used a moment ago, which the first
	// request during the cut takes. Twice: pgx checks a connection that
	// database/sql hands out again only when it was not for a second.
	for range 2 {
		if r := p.mustDo(http.MethodGet, fmt.Sprintf("/users/%d", id), nil); r.Status != http.StatusOK {
			t.Fatalf("GET /users/%d before the cut: %s", id, r)
		}
	}

	px.cut(mode)

	var (
		mu     sync.Mutex
		during []timed
		wg     sync.WaitGroup
	)
	send := func(what, method, path string, body any) {
		wg.Go(func() {
			start := time.Now()
			r, err := do(method, path, body)
			mu.Lock()
			during = append(during, timed{what, r, err, time.Since(start)})
			mu.Unlock()
		})
	}
	// The first request alone, so that it takes the dead pooled connection.
	send("POST /users (first, on the dead pooled connection)", http.MethodPost, "/users", newUser("During", email("during-1")))
	wg.Wait()
	send("POST /users", http.MethodPost, "/users", newUser("During", email("during-2")))
	send("GET /users/:id", http.MethodGet, fmt.Sprintf("/users/%d", id), nil)
	send("GET /users", http.MethodGet, "/users", nil)
	send("GET /readyz", http.MethodGet, "/readyz", nil)
	send("GET /healthz", http.MethodGet, "/healthz", nil)
	wg.Wait()
	during = append(during, <-slow) // answered within clientDeadline: the client gives up then
	px.heal()
	healedAt := time.Now()

	var seen []string
	for _, x := range during {
		if errors.Is(x.err, context.DeadlineExceeded) {
			t.Errorf("%s during the cut: no answer within %v: the configured %v REQUEST_TIMEOUT does not hold", x.what, clientDeadline, requestTimeout)
			continue
		}
		if x.err != nil {
			t.Errorf("%s during the cut: %v", x.what, x.err)
			continue
		}
		seen = append(seen, fmt.Sprintf("%s → %d in %v", x.what, x.r.Status, x.took.Round(time.Millisecond)))
		want := http.StatusServiceUnavailable
		if x.what == "GET /healthz" {
			want = http.StatusOK
		}
		if x.r.Status != want {
			t.Errorf("%s during the cut: %s, want %d", x.what, x.r, want)
		} else if want == http.StatusServiceUnavailable && !x.r.isProblem() {
			t.Errorf("%s during the cut: Content-Type %q, want application/problem+json", x.what, x.r.Header.Get("Content-Type"))
		}
		for _, w := range leakWords {
			if strings.Contains(string(x.r.Body), w) {
				t.Errorf("%s during the cut: the answer contains %q: %s", x.what, w, x.r.Body)
			}
		}
	}
	t.Logf("%s, %s: during the cut: %s", d, mode, strings.Join(seen, "; "))

	// The pool replaces its dead connections: a write succeeds again
	// within a few tries, without a restart.
	var tries []string
	for i := 0; ; i++ {
		e := email(fmt.Sprintf("after-%d", i))
		start := time.Now()
		r, err := do(http.MethodPost, "/users", newUser("After", e))
		if err != nil {
			t.Fatalf("POST /users after healing: %v", err)
		}
		tries = append(tries, fmt.Sprintf("%d in %v", r.Status, time.Since(start).Round(time.Millisecond)))
		if r.Status == http.StatusCreated {
			created = append(created, e)
			break
		}
		if time.Since(healedAt) > 10*time.Second {
			t.Fatalf("POST /users still fails 10 s after healing: %v, last %s", tries, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s, %s: after healing: POST /users answered %v", d, mode, tries)
	if r := p.mustDo(http.MethodGet, fmt.Sprintf("/users/%d", id), nil); r.Status != http.StatusOK || r.JSON(t)["email"] != created[0] {
		t.Errorf("GET /users/%d after healing: %s", id, r)
	}
	if r := p.mustDo(http.MethodGet, "/readyz", nil); r.Status != http.StatusOK {
		t.Errorf("GET /readyz after healing: %s", r)
	}
	if p.exited() || p.cmd.Process.Pid != pid {
		t.Fatalf("the process did not survive the outage: %v", p.waitErr)
	}

	rows := usersByEmail(t, admin)
	got := slices.Sorted(maps.Keys(rows))
	slices.Sort(created)
	if !slices.Equal(got, created) {
		t.Errorf("users in the database: %v, want exactly those answered 201: %v", got, created)
	}
}
