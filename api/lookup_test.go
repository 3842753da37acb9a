package api_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// embeddingWriter wraps the writer as most gin middleware do (compression,
// caching): by embedding it. It upper-cases the body.
type embeddingWriter struct {
	gin.ResponseWriter
}

func (w *embeddingWriter) Write(p []byte) (int, error) {
	return w.ResponseWriter.Write(bytes.ToUpper(p))
}

// unwrappingWriter hides the writer in an unexported field and gives it
// back through Unwrap, the net/http convention.
type unwrappingWriter struct {
	gin.ResponseWriter // what gin needs, from a wrapper of its own
	inner              http.ResponseWriter
}

func (w *unwrappingWriter) Unwrap() http.ResponseWriter { return w.inner }

// hidingWriter keeps the writer where nobody can find it.
type hidingWriter struct {
	inner gin.ResponseWriter
}

func (w *hidingWriter) Header() http.Header                          { return w.inner.Header() }
func (w *hidingWriter) Write(p []byte) (int, error)                  { return w.inner.Write(p) }
func (w *hidingWriter) WriteHeader(code int)                         { w.inner.WriteHeader(code) }
func (w *hidingWriter) WriteString(s string) (int, error)            { return w.inner.WriteString(s) }
func (w *hidingWriter) Status() int                                  { return w.inner.Status() }
func (w *hidingWriter) Size() int                                    { return w.inner.Size() }
func (w *hidingWriter) Written() bool                                { return w.inner.Written() }
func (w *hidingWriter) WriteHeaderNow()                              { w.inner.WriteHeaderNow() }
func (w *hidingWriter) Flush()                                       { w.inner.Flush() }
func (w *hidingWriter) CloseNotify() <-chan bool                     { return w.inner.CloseNotify() }
func (w *hidingWriter) Pusher() http.Pusher                          { return w.inner.Pusher() }
func (w *hidingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.inner.Hijack() }

// A middleware after the request-scope middleware that wraps c.Writer does
// not hide the request scope from handlers, whether it embeds the writer or
// unwraps to it.
func TestWrappedWriterStillFindsTheScope(t *testing.T) {
	wrappers := map[string]func(w gin.ResponseWriter) gin.ResponseWriter{
		"embedding":  func(w gin.ResponseWriter) gin.ResponseWriter { return &embeddingWriter{w} },
		"unwrapping": func(w gin.ResponseWriter) gin.ResponseWriter { return &unwrappingWriter{ResponseWriter: w, inner: w} },
		"twice": func(w gin.ResponseWriter) gin.ResponseWriter {
			return &embeddingWriter{&unwrappingWriter{ResponseWriter: w, inner: w}}
		},
	}
	for name, wrap := range wrappers {
		t.Run(name, func(t *testing.T) {
			e, x, _ := txEngine(t, func(e *gin.Engine) {
				g := e.Group("/", func(c *gin.Context) { c.Writer = wrap(c.Writer) })
				g.POST("/handle", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
					return gin.H{"ok": "yes"}, insertV(c, q)
				}))
				g.POST("/resolve", api.Wrap(func(c *gin.Context) {
					tx, err := api.Resolve[*db.Tx](c)
					if err != nil {
						_ = c.Error(err)
						c.String(http.StatusInternalServerError, err.Error())
						return
					}
					if !tx.Options().ReadOnly {
						c.String(http.StatusInternalServerError, "the route's policy was lost")
						return
					}
					c.String(http.StatusOK, "resolved")
				}, api.WithReadOnly()))
			})
			w := serve(e, http.MethodPost, "/handle")
			if w.Code != http.StatusOK || rows(t, x) != 1 {
				t.Fatalf("/handle: %d %s, rows %d", w.Code, w.Body, rows(t, x))
			}
			if name != "unwrapping" && !strings.Contains(w.Body.String(), `"OK":"YES"`) {
				t.Errorf("the wrapper did not write the body: %s", w.Body)
			}
			if w := serve(e, http.MethodPost, "/resolve"); w.Code != http.StatusOK {
				t.Fatalf("/resolve: %d %s", w.Code, w.Body)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Errorf("InUse = %d", n)
			}
		})
	}
}

// A writer that hides the one it wraps makes the scope unreachable: the
// handler answers 500 and writes nothing, and the error says why.
func TestHiddenWriterIsAClearError(t *testing.T) {
	var resolveErr error
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		g := e.Group("/", func(c *gin.Context) { c.Writer = &hidingWriter{inner: c.Writer} })
		g.POST("/handle", api.Handle(func(c *gin.Context, q db.Querier) error { return insertV(c, q) }))
		g.POST("/resolve", func(c *gin.Context) {
			_, resolveErr = api.Resolve[db.Querier](c)
			c.Status(http.StatusNoContent)
		})
	})
	if w := serve(e, http.MethodPost, "/handle"); w.Code != http.StatusInternalServerError || rows(t, x) != 0 {
		t.Fatalf("/handle: %d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
	serve(e, http.MethodPost, "/resolve")
	if resolveErr == nil || !strings.Contains(resolveErr.Error(), "Unwrap") {
		t.Fatalf("Resolve = %v, want the error that explains wrapping", resolveErr)
	}
}

// Goroutines of a request resolve from api.Scope(c), concurrently: they
// share the request's instances. A c.Copy() has no scope.
func TestScopeForGoroutines(t *testing.T) {
	var copyErr error
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/fan-out", func(c *gin.Context) {
			s, err := api.Scope(c)
			if err != nil {
				c.String(http.StatusInternalServerError, err.Error())
				return
			}
			_, copyErr = api.Resolve[*db.Tx](c.Copy())
			const n = 8
			txs := make([]*db.Tx, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { txs[i], _ = scope.Get[*db.Tx](s) })
			}
			wg.Wait()
			for _, tx := range txs {
				if tx == nil || tx != txs[0] {
					c.String(http.StatusInternalServerError, "goroutines got different transactions")
					return
				}
			}
			if err := insertV(c, txs[0]); err != nil {
				_ = c.Error(err)
				return
			}
			c.String(http.StatusCreated, "ok")
		})
	})
	if w := serve(e, http.MethodPost, "/fan-out"); w.Code != http.StatusCreated || rows(t, x) != 1 {
		t.Fatalf("%d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
	if copyErr == nil || !strings.Contains(copyErr.Error(), "api.Scope") {
		t.Errorf("Resolve on a c.Copy() = %v, want the error that points to api.Scope", copyErr)
	}
}

// Without the middleware, Scope and Resolve fail with the same error.
func TestScopeWithoutMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	var scopeErr, resolveErr error
	e.GET("/", func(c *gin.Context) {
		_, scopeErr = api.Scope(c)
		_, resolveErr = api.Resolve[*db.Tx](c)
	})
	serve(e, http.MethodGet, "/")
	if scopeErr == nil || resolveErr == nil || scopeErr.Error() != resolveErr.Error() {
		t.Fatalf("Scope = %v, Resolve = %v", scopeErr, resolveErr)
	}
}

// Goroutines of a request that each call api.Scope(c) first, at the same
// time, open one scope between them: they share one transaction, and every
// write is kept.
func TestScopeOpenedConcurrently(t *testing.T) {
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/race", func(c *gin.Context) {
			const n = 4
			txs := make([]*db.Tx, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					s, err := api.Scope(c)
					if err == nil {
						txs[i], err = scope.Get[*db.Tx](s)
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil || txs[i] != txs[0] {
					c.String(http.StatusInternalServerError, "goroutine %d: %v (tx %p, first %p)", i, errs[i], txs[i], txs[0])
					return
				}
			}
			if err := insertV(c, txs[0]); err != nil {
				_ = c.Error(err)
				return
			}
			c.Status(http.StatusCreated)
		})
	})
	for i := range 20 {
		if w := serve(e, http.MethodPost, "/race"); w.Code != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if n := rows(t, x); n != 20 {
		t.Errorf("%d rows, want 20", n)
	}
	if n := x.Stats().InUse; n != 0 {
		t.Errorf("InUse = %d", n)
	}
}

// nilInner wraps a typed nil writer.
type nilInner struct {
	gin.ResponseWriter
	inner *unwrappingWriter
}

func (w *nilInner) Unwrap() http.ResponseWriter { return w.inner }

// A wrapper whose Unwrap gives a typed nil is a clear error, not a panic.
func TestTypedNilWriterIsAClearError(t *testing.T) {
	var resolveErr error
	e, _, _ := txEngine(t, func(e *gin.Engine) {
		g := e.Group("/", func(c *gin.Context) { c.Writer = &nilInner{ResponseWriter: c.Writer} })
		g.GET("/x", func(c *gin.Context) {
			_, resolveErr = api.Resolve[db.Querier](c)
			c.Status(http.StatusNoContent)
		})
	})
	if w := serve(e, http.MethodGet, "/x"); w.Code != http.StatusNoContent {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if resolveErr == nil || !strings.Contains(resolveErr.Error(), "Unwrap") {
		t.Fatalf("Resolve = %v", resolveErr)
	}
}
