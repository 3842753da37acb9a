package fxmodules_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

// logRecord is one record kept by recordHandler: its level, message and
// attributes (with their values resolved).
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

// recordHandler is a slog.Handler that keeps every record, and wakes the
// waiters of waitFor on each one.
type recordHandler struct {
	mu      sync.Mutex
	records []logRecord
	changed chan struct{} // closed and replaced on each record
}

func newRecordHandler() *recordHandler {
	return &recordHandler{changed: make(chan struct{})}
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, rec)
	close(h.changed)
	h.changed = make(chan struct{})
	return nil
}

// WithAttrs and WithGroup drop what they are given: the records this test
// looks at carry their attributes themselves.
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// snapshot returns the records kept so far.
func (h *recordHandler) snapshot() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// waitFor waits until a record with message msg was kept, failing the test
// after a generous bound.
func (h *recordHandler) waitFor(t *testing.T, msg string) logRecord {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		h.mu.Lock()
		for _, r := range h.records {
			if r.msg == msg {
				h.mu.Unlock()
				return r
			}
		}
		changed := h.changed
		h.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %q logged; logged %v", msg, messages(h.snapshot()))
		}
	}
}

// messages returns the messages of records whose message starts with
// "http server", in order.
func messages(recs []logRecord) []string {
	var out []string
	for _, r := range recs {
		if strings.HasPrefix(r.msg, "http server") {
			out = append(out, r.msg)
		}
	}
	return out
}

// slowApp is a started app with a route, /slow, that holds each request
// until release is closed.
type slowApp struct {
	app     *fxtest.App
	logs    *recordHandler
	entered chan struct{} // closed when /slow is entered
	release chan struct{} // close to let /slow answer
	answer  chan result   // what the client got from /slow
}

// result is what a client got: a body or an error.
type result struct {
	body string
	err  error
}

// startSlowApp starts the framework with stopTimeout, logging into a
// recordHandler, and sends one request to /slow, returning once the handler
// holds it.
func startSlowApp(t *testing.T, stopTimeout time.Duration) *slowApp {
	t.Helper()
	a := &slowApp{
		logs:    newRecordHandler(),
		entered: make(chan struct{}),
		release: make(chan struct{}),
		answer:  make(chan result, 1),
	}
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.StopTimeout = stopTimeout
	var srv *http.Server
	a.app = fxtest.New(t,
		fxmodules.Framework(migrationsFS()),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(a.logs) }),
		fx.Populate(&srv),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/slow", func(c *gin.Context) {
				close(a.entered)
				<-a.release
				c.String(http.StatusOK, "done")
			})
		}),
	)
	a.app.RequireStart()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(client.CloseIdleConnections)
	go func() {
		resp, err := client.Get("http://" + srv.Addr + "/slow")
		if err != nil {
			a.answer <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		a.answer <- result{string(b), err}
	}()
	select {
	case <-a.entered:
	case r := <-a.answer:
		t.Fatalf("/slow answered before its handler was entered: %q, %v", r.body, r.err)
	}
	return a
}

// TestStopLogsTheDrain stops the app while a request is in flight: the
// server logs, at info level and in this order, the start of the shutdown
// with the one request in flight, the drain once that request has finished,
// and the end of the stop with its duration.
func TestStopLogsTheDrain(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a := startSlowApp(t, 10*time.Second)
	stopped := make(chan error, 1)
	go func() { stopped <- a.app.Stop(context.Background()) }()
	start := a.logs.waitFor(t, "http server shutting down")
	// The request is still held: the drain cannot have finished.
	if got := messages(a.logs.snapshot()); slices.Contains(got, "http server drained") || slices.Contains(got, "http server shut down") {
		t.Errorf("logged %q while a request was still in flight", got)
	}
	close(a.release)
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	if r := <-a.answer; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request during stop: %q, %v", r.body, r.err)
	}

	want := []string{"http server shutting down", "http server drained", "http server shut down"}
	var got []string
	for _, m := range messages(a.logs.snapshot()) {
		if slices.Contains(want, m) {
			got = append(got, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("logged %q, want %q in this order", got, want)
	}
	drained := a.logs.waitFor(t, "http server drained")
	stop := a.logs.waitFor(t, "http server shut down")
	for _, r := range []logRecord{start, drained, stop} {
		if r.level != slog.LevelInfo {
			t.Errorf("%q logged at %v, want INFO", r.msg, r.level)
		}
	}
	for _, r := range []logRecord{start, drained} {
		if v, ok := r.attrs["in_flight"]; !ok || v.Kind() != slog.KindInt64 || v.Int64() != 1 {
			t.Errorf("%q: in_flight = %v, want 1", r.msg, v)
		}
	}
	if v, ok := start.attrs["stop_timeout"]; !ok || v.Kind() != slog.KindDuration || v.Duration() != 10*time.Second {
		t.Errorf("%q: stop_timeout = %v, want 10s", start.msg, v)
	}
	if v, ok := stop.attrs["duration"]; !ok || v.Kind() != slog.KindDuration || v.Duration() < 0 {
		t.Errorf("%q: duration = %v, want a duration", stop.msg, v)
	}
}

// TestStopLogsADrainThatRunsOutOfTime holds a request past STOP_TIMEOUT: the
// stop fails, and the server warns that the drain did not finish, with the
// request still in flight, instead of reporting it drained.
func TestStopLogsADrainThatRunsOutOfTime(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a := startSlowApp(t, time.Millisecond)
	err := a.app.Stop(context.Background())
	close(a.release) // the handler answers after the failed drain
	if r := <-a.answer; r.err != nil || r.body != "done" {
		t.Errorf("held request: %q, %v", r.body, r.err)
	}
	if err == nil || !strings.Contains(err.Error(), "graceful shutdown") {
		t.Fatalf("stop: %v, want the graceful shutdown's error", err)
	}
	warn := a.logs.waitFor(t, "http server drain did not finish")
	if warn.level != slog.LevelWarn {
		t.Errorf("%q logged at %v, want WARN", warn.msg, warn.level)
	}
	for _, k := range []string{"in_flight", "still_in_flight"} {
		if v := warn.attrs[k]; v.Kind() != slog.KindInt64 || v.Int64() != 1 {
			t.Errorf("%q: %s = %v, want 1", warn.msg, k, v)
		}
	}
	want := []string{"http server shutting down", "http server drain did not finish", "http server shut down"}
	var got []string
	for _, m := range messages(a.logs.snapshot()) {
		if m != "http server listening" {
			got = append(got, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// TestStopWithNothingInFlight checks that a stop without requests reports
// none in flight.
func TestStopWithNothingInFlight(t *testing.T) {
	logs := newRecordHandler()
	app := fxtest.New(t,
		fxmodules.Framework(migrationsFS()),
		fx.Replace(testConfig(testdb.New(t, db.SQLite))),
		fx.Decorate(func() *slog.Logger { return slog.New(logs) }),
	)
	app.RequireStart()
	app.RequireStop()
	for _, msg := range []string{"http server shutting down", "http server drained"} {
		if v := logs.waitFor(t, msg).attrs["in_flight"]; v.Kind() != slog.KindInt64 || v.Int64() != 0 {
			t.Errorf("%q: in_flight = %v, want 0", msg, v)
		}
	}
}
