package api_test

import (
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// A route's WithTx takes the detector field by field: a threshold alone
// keeps the middleware's mode, a mode alone keeps its threshold.
// WithNPlusOne sets the route's mode outright: NPlusOneOff turns the
// detector off for the route, even over WithTx's.
func TestNPlusOneRouteInheritsFieldByField(t *testing.T) {
	rec := &nPlusOneRecorder{}
	opts := api.MiddlewareConfig{
		NPlusOne:   db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 3},
		OnNPlusOne: rec.record,
	}
	e, _, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
		e.POST("/threshold/:n", api.Handle(insertEach, api.WithTx(db.TxOptions{NPlusOne: db.NPlusOne{Threshold: 50}})))
		e.POST("/mode/:n", api.Handle(insertEach, api.WithTx(db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneLog}})))
		e.POST("/off/:n", api.Handle(insertEach, api.WithNPlusOne(db.NPlusOneOff, 0)))
		e.POST("/off-over-tx/:n", api.Handle(insertEach,
			api.WithTx(db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 2}}), api.WithNPlusOne(db.NPlusOneOff, 0)))
		e.POST("/log/:n", api.Handle(insertEach, api.WithNPlusOne(db.NPlusOneLog, 5)))
	})
	routes := api.DescribeRoutes(e)
	for route, want := range map[string]string{
		"POST /threshold/:n":   "n+1 threshold 50",
		"POST /mode/:n":        "n+1 log",
		"POST /off/:n":         "n+1 off",
		"POST /off-over-tx/:n": "n+1 off",
		"POST /log/:n":         "n+1 log, threshold 5",
	} {
		if got := routes[route].Policy; got != want {
			t.Errorf("%s described as %q, want %q", route, got, want)
		}
	}

	if w := serve(e, http.MethodPost, "/threshold/50"); w.Code != http.StatusCreated {
		t.Errorf("/threshold/50, within the route's threshold: %d %s", w.Code, w.Body)
	}
	if w := serve(e, http.MethodPost, "/threshold/51"); w.Code != http.StatusInternalServerError {
		t.Errorf("/threshold/51, past it in the middleware's error mode: %d %s, want 500", w.Code, w.Body)
	}
	if got := rec.take(); len(got) != 1 || got[0].Mode != db.NPlusOneFail || got[0].Threshold != 50 {
		t.Errorf("/threshold reports %+v, want one in error mode, threshold 50", got)
	}

	if w := serve(e, http.MethodPost, "/mode/4"); w.Code != http.StatusCreated {
		t.Errorf("/mode/4 in log mode: %d %s", w.Code, w.Body)
	}
	if got := rec.take(); len(got) != 1 || got[0].Mode != db.NPlusOneLog || got[0].Threshold != 3 || got[0].Count != 4 {
		t.Errorf("/mode reports %+v, want one in log mode, threshold 3, count 4", got)
	}

	for _, path := range []string{"/off/30", "/off-over-tx/30"} {
		if w := serve(e, http.MethodPost, path); w.Code != http.StatusCreated {
			t.Errorf("%s, detector off: %d %s", path, w.Code, w.Body)
		}
	}
	if got := rec.take(); got != nil {
		t.Errorf("detector off: reports %+v", got)
	}

	if w := serve(e, http.MethodPost, "/log/6"); w.Code != http.StatusCreated {
		t.Errorf("/log/6: %d %s", w.Code, w.Body)
	}
	if got := rec.take(); len(got) != 1 || got[0].Mode != db.NPlusOneLog || got[0].Threshold != 5 {
		t.Errorf("/log reports %+v, want one in log mode, threshold 5", got)
	}
}
