package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

// TestGracefulStopDrains sends SIGTERM while eight slow requests are in
// their transactions: the listener closes at once, each request still
// commits and answers 201, and the process exits 0 without an error in its
// log.
func TestGracefulStopDrains(t *testing.T) {
	t.Parallel()
	eachDB(t, []db.Dialect{db.SQLite, db.Postgres, db.MySQL}, func(t *testing.T, d db.Dialect, databaseURL string) {
		const (
			n     = 8
			sleep = 800 * time.Millisecond
		)
		appURL := databaseURL
		if d == db.SQLite {
			// SQLite has one writer at a time, and each slow request holds
			// the write lock for its whole sleep: the eight run one after
			// the other, 6.4 s in all, longer than the default 5 s
			// busy_timeout the last ones would wait for the lock.
			appURL += "?_pragma=busy_timeout(20000)"
		}
		p := startApp(t, testappBin, map[string]string{"DATABASE_URL": appURL, "STOP_TIMEOUT": "10s"})
		admin := openDB(t, databaseURL)

		type result struct {
			email string
			r     response
			err   error
			at    time.Time
		}
		// Each request asks for 100 Continue, which the server sends when
		// the handler reads the body: then the request is in the server,
		// past the listener's backlog, which closes with the listener.
		handling := make(chan struct{}, n)
		results := make(chan result, n)
		tag := randHex(t, 3)
		client := newClient()
		client.Transport = expectContinue{client.Transport}
		defer client.CloseIdleConnections()
		var sent []string
		for i := range n {
			email := fmt.Sprintf("drain-%s-%d@example.com", tag, i)
			sent = append(sent, email)
			go func() {
				ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
					Got100Continue: func() { handling <- struct{}{} },
				})
				path := fmt.Sprintf("/slow-users?ms=%d", sleep.Milliseconds())
				r, err := p.doCtx(ctx, http.MethodPost, path, newUser(fmt.Sprintf("Drained %d", i), email), client)
				results <- result{email, r, err, time.Now()}
			}()
		}
		timeout := time.After(10 * time.Second)
		for i := range n {
			select {
			case <-handling:
			case res := <-results:
				t.Fatalf("POST for %s ended before all were in their handler: %v %v", res.email, res.r, res.err)
			case <-timeout:
				t.Fatalf("after 10 s, %d of %d requests are in their handler", i, n)
			}
		}
		waitInTransaction(t, d, admin, sent...)

		sigAt := time.Now()
		p.signal(syscall.SIGTERM)

		// The listener closes while the requests drain.
		var refusedAfter time.Duration
		for {
			c, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond)
			if err != nil {
				refusedAfter = time.Since(sigAt)
				break
			}
			c.Close()
			if time.Since(sigAt) > 3*time.Second {
				t.Errorf("%s still accepts connections 3 s after SIGTERM", p.addr)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}

		var last time.Duration
		var emails []string
		for range n {
			select {
			case res := <-results:
				if res.err != nil {
					t.Errorf("POST for %s: %v", res.email, res.err)
					continue
				}
				if res.r.Status != http.StatusCreated {
					t.Errorf("POST for %s: %s, want 201", res.email, res.r)
					continue
				}
				emails = append(emails, res.email)
				last = max(last, res.at.Sub(sigAt))
			case <-time.After(15 * time.Second):
				t.Fatal("the in-flight requests were not answered within the configured 10 s STOP_TIMEOUT (and 5 s more)")
			}
		}
		code := p.waitExit(15 * time.Second)
		exitedAfter := time.Since(sigAt)
		t.Logf("%s: after SIGTERM: connections refused after %v, last of %d answers after %v, exit %d after %v",
			d, refusedAfter.Round(time.Millisecond), n, last.Round(time.Millisecond), code, exitedAfter.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}
		if exitedAfter > 12*time.Second {
			t.Errorf("exited %v after SIGTERM: not within the configured 10 s STOP_TIMEOUT (and a second)", exitedAfter)
		}

		rows := usersByEmail(t, admin)
		for _, e := range emails {
			if _, ok := rows[e]; !ok {
				t.Errorf("user %s was answered 201 but is not in the database", e)
			}
		}
		if len(rows) != len(emails) {
			t.Errorf("%d rows, want %d", len(rows), len(emails))
		}

		out := p.output()
		for _, bad := range []string{"database is closed", "level=ERROR"} {
			if strings.Contains(out, bad) {
				t.Errorf("the output contains %q:\n%s", bad, out)
			}
		}
		for line := range strings.SplitSeq(out, "\n") {
			if strings.Contains(line, "level=WARN") {
				t.Logf("warning in the output: %s", line)
			}
		}
	})
}

// expectContinue sends every request with "Expect: 100-continue", so that
// a trace's Got100Continue tells when the handler reads the body.
type expectContinue struct{ http.RoundTripper }

// RoundTrip sends a copy of r that expects 100 Continue.
func (e expectContinue) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Expect", "100-continue")
	return e.RoundTripper.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport.
func (e expectContinue) CloseIdleConnections() {
	if c, ok := e.RoundTripper.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
