package api_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// nPlusOneRecorder keeps what the middleware reports of the N+1 detector.
type nPlusOneRecorder struct {
	mu      sync.Mutex
	reports []api.NPlusOneReport
}

func (r *nPlusOneRecorder) record(rep api.NPlusOneReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
}

func (r *nPlusOneRecorder) take() []api.NPlusOneReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reports
	r.reports = nil
	return out
}

// nPlusOneLogs returns the "N+1 query" records of l, each as its level and
// attributes.
func nPlusOneLogs(l *recordLog) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if r.Message != "N+1 query" {
			continue
		}
		m := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	l.records = nil
	return out
}

const insertOne = "INSERT INTO t (v) VALUES (1)"

// insertEach inserts :n rows one statement each: an N+1 past the
// threshold. With ?drop=1 it drops the statements' errors and answers 201.
func insertEach(c *gin.Context, q db.Querier) (gin.H, error) {
	n, _ := strconv.Atoi(c.Param("n"))
	for range n {
		if _, err := q.ExecContext(c, insertOne); err != nil && c.Query("drop") == "" {
			return nil, err
		}
	}
	c.Status(http.StatusCreated)
	return gin.H{"inserted": n}, nil
}

// In error mode, a request that runs one text Threshold times succeeds;
// one more fails it: 500, nothing committed, the connection back, and one
// error log and one report naming the statement, its count, the method and
// the route — also when the handler dropped the statement's error.
func TestNPlusOneErrorFailsTheRequest(t *testing.T) {
	log, rec := &recordLog{}, &nPlusOneRecorder{}
	opts := api.MiddlewareConfig{
		Logger:     slog.New(log),
		NPlusOne:   db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 3},
		OnNPlusOne: rec.record,
	}
	e, x, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
		e.POST("/each/:n", api.Handle(insertEach))
	})
	if w := serve(e, http.MethodPost, "/each/3"); w.Code != http.StatusCreated {
		t.Fatalf("3 inserts: %d %s", w.Code, w.Body)
	}
	if got := rows(t, x); got != 3 {
		t.Fatalf("%d rows after 3 inserts", got)
	}
	if got := nPlusOneLogs(log); got != nil {
		t.Fatalf("at the threshold: logged %v", got)
	}
	for _, path := range []string{"/each/4", "/each/4?drop=1"} {
		w := serve(e, http.MethodPost, path)
		if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != api.ProblemContentType {
			t.Errorf("%s: %d %s, want a 500 problem", path, w.Code, w.Body)
		}
		if got := rows(t, x); got != 3 {
			t.Errorf("%s: %d rows, want the 3 from before: the request's were committed", path, got)
		}
		if n := x.Stats().InUse; n != 0 {
			t.Errorf("%s: %d connections in use", path, n)
		}
		want := api.NPlusOneReport{Method: http.MethodPost, Route: "/each/:n", Mode: db.NPlusOneFail, Query: insertOne, Count: 4, Threshold: 3}
		if got := rec.take(); len(got) != 1 || got[0] != want {
			t.Errorf("%s: reports %+v, want %+v", path, got, want)
		}
		logs := nPlusOneLogs(log)
		if len(logs) != 1 || logs[0]["level"] != "ERROR" || logs[0]["statement"] != insertOne ||
			logs[0]["route"] != "/each/:n" || logs[0]["method"] != http.MethodPost || logs[0]["count"] != "4" {
			t.Errorf("%s: logged %v, want one error naming the statement, route, method and count 4", path, logs)
		}
	}
}

// In log mode the request runs and commits; each offending text is logged
// once, as a warning, with its final count and the route.
func TestNPlusOneLogWarnsOncePerText(t *testing.T) {
	log, rec := &recordLog{}, &nPlusOneRecorder{}
	opts := api.MiddlewareConfig{
		Logger:     slog.New(log),
		NPlusOne:   db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 2},
		OnNPlusOne: rec.record,
	}
	const count = "SELECT COUNT(*) FROM t"
	e, x, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
		e.POST("/mixed/:n", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			if _, err := insertEach(c, q); err != nil {
				return nil, err
			}
			var n int
			for range 3 {
				if err := q.GetContext(c, &n, count); err != nil {
					return nil, err
				}
			}
			return gin.H{"rows": n}, q.GetContext(c, &n, "SELECT 1") // once: not an N+1
		}))
	})
	if w := serve(e, http.MethodPost, "/mixed/5"); w.Code != http.StatusCreated {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if got := rows(t, x); got != 5 {
		t.Fatalf("%d rows, want 5 committed", got)
	}
	logs := nPlusOneLogs(log)
	if len(logs) != 2 {
		t.Fatalf("logged %v, want one warning per offending text", logs)
	}
	for i, want := range []struct{ statement, count string }{{insertOne, "5"}, {count, "3"}} {
		l := logs[i]
		if l["level"] != "WARN" || l["statement"] != want.statement || l["count"] != want.count ||
			l["route"] != "/mixed/:n" || l["method"] != http.MethodPost || l["threshold"] != "2" {
			t.Errorf("log %d: %v, want a warning for %s run %s times on POST /mixed/:n", i, l, want.statement, want.count)
		}
	}
	if got := rec.take(); len(got) != 2 || got[0].Mode != db.NPlusOneLog {
		t.Errorf("reports %+v, want 2 in log mode", got)
	}
}

// Each request counts its own statements: two requests running at once,
// each below the threshold, are not added together.
func TestNPlusOneCountsPerRequest(t *testing.T) {
	rec := &nPlusOneRecorder{}
	opts := api.MiddlewareConfig{
		NPlusOne:   db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 3},
		OnNPlusOne: rec.record,
	}
	var arrived sync.WaitGroup
	arrived.Add(2)
	e, _, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
		e.GET("/three", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			var n int
			const count = "SELECT COUNT(*) FROM t"
			first, second := q.GetContext(c, &n, count), q.GetContext(c, &n, count)
			// Both requests have run two statements, in two open
			// transactions, before either runs its third.
			arrived.Done()
			arrived.Wait()
			if err := errors.Join(first, second, q.GetContext(c, &n, count)); err != nil {
				return nil, err
			}
			return gin.H{"rows": n}, nil
		}, api.WithReadOnly()))
	})
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i] = serve(e, http.MethodGet, "/three").Code })
	}
	wg.Wait()
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
		t.Fatalf("statuses %v, want both 200", codes)
	}
	if got := rec.take(); got != nil {
		t.Fatalf("reports %+v: two requests' counts were added together", got)
	}
}

// A route's WithTx sets its own detector; a WithTx without one keeps the
// middleware's. With the detector off, nothing is counted.
func TestNPlusOnePerRoute(t *testing.T) {
	rec := &nPlusOneRecorder{}
	opts := api.MiddlewareConfig{
		NPlusOne:   db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 3},
		OnNPlusOne: rec.record,
	}
	e, _, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
		e.POST("/import/:n", api.Handle(insertEach, api.WithTx(db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 100}})))
		e.POST("/timed/:n", api.Handle(insertEach, api.WithTx(db.TxOptions{Timeout: 0})))
	})
	if got := api.DescribeRoutes(e)["POST /import/:n"].Policy; got != "n+1 log, threshold 100" {
		t.Errorf("POST /import/:n described as %q", got)
	}
	if w := serve(e, http.MethodPost, "/import/50"); w.Code != http.StatusCreated {
		t.Errorf("/import/50 under its own threshold: %d %s", w.Code, w.Body)
	}
	if w := serve(e, http.MethodPost, "/timed/4"); w.Code != http.StatusInternalServerError {
		t.Errorf("/timed/4, the middleware's detector: %d %s, want 500", w.Code, w.Body)
	}
	if got := rec.take(); len(got) != 1 || got[0].Route != "/timed/:n" {
		t.Errorf("reports %+v, want one for /timed/:n", got)
	}

	off, x, _ := txEngineWith(t, api.MiddlewareConfig{OnNPlusOne: rec.record}, nil, func(e *gin.Engine) {
		e.POST("/each/:n", api.Handle(insertEach))
	})
	if w := serve(off, http.MethodPost, "/each/30"); w.Code != http.StatusCreated || rows(t, x) != 30 {
		t.Errorf("detector off: %d %s", w.Code, w.Body)
	}
	if got := rec.take(); got != nil {
		t.Errorf("detector off: reports %+v", got)
	}
}

func TestNPlusOneReportString(t *testing.T) {
	r := api.NPlusOneReport{Method: "GET", Route: "/users/:id", Query: "SELECT 1", Count: 11, Threshold: 10}
	want := "N+1 query in GET /users/:id: statement run 11 times (threshold 10): SELECT 1"
	if got := fmt.Sprint(r); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
