package requestscope_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// streamLatch lets the test release a handler it holds; releasing twice is
// harmless, so a cleanup can always release.
type streamLatch struct {
	ch   chan struct{}
	once sync.Once
}

func newStreamLatch() *streamLatch { return &streamLatch{ch: make(chan struct{})} }

func (l *streamLatch) release() { l.once.Do(func() { close(l.ch) }) }

func TestStreamingHandlerCommitsAtItsFirstFlush(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		latch := newStreamLatch()
		var finished atomic.Bool
		a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
			e.POST("/stream/:id", api.Handle(func(c *gin.Context, q db.Querier) error {
				if err := insert(c, q, idParam(c)); err != nil {
					return err
				}
				_, _ = c.Writer.WriteString("first\n")
				c.Writer.Flush()
				select {
				case <-latch.ch:
				case <-c.Request.Context().Done():
					return c.Request.Context().Err()
				}
				_, _ = c.Writer.WriteString("second\n")
				finished.Store(true)
				return nil
			}))
		}))
		t.Cleanup(latch.release) // runs before the app stops

		// Bounded, so that a response that never comes fails the test
		// instead of hanging it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/stream/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		body := bufio.NewReader(resp.Body)
		first, err := body.ReadString('\n')
		if err != nil || first != "first\n" {
			t.Fatalf("first chunk %q: %v", first, err)
		}
		// The handler is still blocked, yet its row is committed and its
		// connection is back in the pool.
		if finished.Load() {
			t.Fatal("the handler finished before it was released")
		}
		if !rowExists(t, a, 1) {
			t.Fatal("the row is not committed after the first flush")
		}
		a.RequireNoConnInUse(t)

		latch.release()
		rest, err := io.ReadAll(body)
		if err != nil || string(rest) != "second\n" {
			t.Fatalf("rest of the body %q: %v", rest, err)
		}
		if !finished.Load() {
			t.Fatal("the response ended before the handler finished")
		}
		a.RequireNoConnInUse(t)
	})
}

// holdOutcomes records what a handler saw of its transaction while writing.
type holdOutcomes struct {
	mu                          sync.Mutex
	beforeWrites, belowLimit    db.Outcome
	afterCrossing, afterWriting db.Outcome
}

func TestResponseOverTheHoldLimitCommitsBeforeItsFirstByte(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		const holdLimit, total, chunk = 1024, 64 << 10, 4 << 10
		payload := bytes.Repeat([]byte("0123456789abcdef"), total/16)
		for i := range payload {
			payload[i] += byte(i / chunk) // each chunk differs
		}
		cfg := fasttest.Config(u)
		cfg.HoldLimit = holdLimit
		seen := &holdOutcomes{}
		a, _ := startWith(t, cfg, fx.Invoke(func(e *gin.Engine) {
			e.POST("/big/:id", api.Handle(func(c *gin.Context, tx *db.Tx) error {
				if err := insert(c, tx, idParam(c)); err != nil {
					return err
				}
				seen.mu.Lock()
				defer seen.mu.Unlock()
				seen.beforeWrites = tx.Outcome()
				// 512 bytes fit in the hold buffer; the next 3584 do not.
				if _, err := c.Writer.Write(payload[:512]); err != nil {
					return err
				}
				seen.belowLimit = tx.Outcome()
				if _, err := c.Writer.Write(payload[512:chunk]); err != nil {
					return err
				}
				seen.afterCrossing = tx.Outcome()
				for off := chunk; off < total; off += chunk {
					if _, err := c.Writer.Write(payload[off : off+chunk]); err != nil {
						return err
					}
				}
				seen.afterWriting = tx.Outcome()
				return nil
			}))
		}))
		resp := a.Do(t, http.MethodPost, "/big/1", nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("status %d: %.200s", resp.Status, resp.Body)
		}
		if !bytes.Equal(resp.Body, payload) {
			t.Fatalf("received %d bytes, not the %d written", len(resp.Body), total)
		}
		seen.mu.Lock()
		got := []db.Outcome{seen.beforeWrites, seen.belowLimit, seen.afterCrossing, seen.afterWriting}
		seen.mu.Unlock()
		want := []db.Outcome{db.OutcomeOpen, db.OutcomeOpen, db.OutcomeCommitted, db.OutcomeCommitted}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("outcomes before writing, below the limit, after crossing it, after writing: %v, want %v", got, want)
			}
		}
		if !rowExists(t, a, 1) {
			t.Fatal("row missing")
		}
		a.RequireNoConnInUse(t)
	})
}

func TestStreamingHandlerPanickingAfterItsFirstFlush(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
			e.POST("/stream-panic/:id", api.Handle(func(c *gin.Context, q db.Querier) error {
				if err := insert(c, q, idParam(c)); err != nil {
					return err
				}
				_, _ = c.Writer.WriteString("first\n")
				c.Writer.Flush()
				panic("boom after the first flush")
			}))
		}))
		resp, err := a.DoContext(context.Background(), http.MethodPost, "/stream-panic/1", nil)
		// The status and the first chunk were sent; the connection is then
		// aborted, so the client sees a truncated body, not a complete one.
		if err == nil {
			t.Fatalf("the client read a complete response: %d %q", resp.Status, resp.Body)
		}
		if resp.Status != http.StatusOK || !strings.HasPrefix(string(resp.Body), "first\n") {
			t.Errorf("before the abort: status %d body %q", resp.Status, resp.Body)
		}
		t.Logf("client error: %v", err)
		// The row was committed at the flush, before the panic: nothing can
		// undo it.
		if !rowExists(t, a, 1) {
			t.Error("the row committed at the first flush is missing")
		}
		if !strings.Contains(a.Logs.String(), "panic in handler") {
			t.Error("the panic was not logged")
		}
		// The server goes on.
		if r := a.Do(t, http.MethodGet, "/healthz", nil); r.Status != http.StatusOK {
			t.Fatalf("/healthz after the panic: %d %s", r.Status, r.Body)
		}
		if r := a.Do(t, http.MethodPost, "/items/2", nil); r.Status != http.StatusCreated {
			t.Fatalf("POST after the panic: %d %s", r.Status, r.Body)
		}
		a.RequireNoConnInUse(t)
	})
}
