package api

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/fasttrack-go/fasttrack/db"
)

// NPlusOneReport is a statement text the N+1 detector found a request
// running more times than its threshold (see MiddlewareConfig.NPlusOne),
// reported once per text when the request ends.
type NPlusOneReport struct {
	RequestID string          // the request's id, when the middleware observes (AccessLog or Observer)
	Method    string          // the request's method
	Route     string          // the route's pattern (gin.Context.FullPath), or the path when no route matched
	Mode      db.NPlusOneMode // the detector's mode: db.NPlusOneLog or db.NPlusOneFail
	Query     string          // the statement's text
	Count     int             // how many times the request ran it
	Threshold int             // the detector's threshold
}

// String describes the report, such as
//
//	N+1 query in GET /users/:id: statement run 11 times (threshold 10): SELECT …
func (r NPlusOneReport) String() string {
	return fmt.Sprintf("N+1 query in %s %s: statement run %d times (threshold %d): %s", r.Method, r.Route, r.Count, r.Threshold, r.Query)
}

// reportNPlusOnes logs the statements the detector found in the request's
// transaction, one line per text — a warning in log mode, an error in
// error mode — and hands each to MiddlewareConfig.OnNPlusOne. It reports
// whether the request must fail: the detector, in error mode, found one.
func (r *request) reportNPlusOnes() (fail bool) {
	mode := r.policy.tx.NPlusOne.Mode
	if mode == db.NPlusOneOff || r.tx == nil {
		return false
	}
	found := r.tx.NPlusOnes()
	if len(found) == 0 {
		return false
	}
	route := r.c.FullPath()
	if route == "" {
		route = r.c.Request.URL.Path
	}
	level := slog.LevelWarn
	if mode == db.NPlusOneFail {
		level = slog.LevelError
	}
	for _, f := range found {
		rep := NPlusOneReport{
			RequestID: r.id, Method: r.c.Request.Method, Route: route, Mode: mode,
			Query: f.Query, Count: f.Count, Threshold: f.Threshold,
		}
		r.m.log.LogAttrs(r.rc, level, "N+1 query",
			slog.String("request_id", rep.RequestID),
			slog.String("method", rep.Method),
			slog.String("route", rep.Route),
			slog.String("statement", rep.Query),
			slog.Int("count", rep.Count),
			slog.Int("threshold", rep.Threshold))
		if r.m.opts.OnNPlusOne != nil {
			r.m.opts.OnNPlusOne(rep)
		}
	}
	return mode == db.NPlusOneFail
}

// answerNPlusOne replaces the held response of a request the N+1
// detector failed: its work was rolled back.
func (r *request) answerNPlusOne() {
	r.writeDirect(NewProblem(http.StatusInternalServerError, "internal server error"))
}
