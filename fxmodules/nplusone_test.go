package fxmodules_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// N_PLUS_ONE and N_PLUS_ONE_THRESHOLD reach the middleware's detector; in
// log mode a request's N+1 is logged with its route, and the request
// succeeds.
func TestNPlusOneFromConfig(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		threshold int
		want      db.NPlusOne
	}{
		{"off", 10, db.NPlusOne{Mode: db.NPlusOneOff, Threshold: 10}},
		{"error", 7, db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 7}},
		{"log", 2, db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 2}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := testConfig(testdb.New(t, db.SQLite))
			cfg.NPlusOne, cfg.NPlusOneThreshold = tc.mode, tc.threshold
			var got db.NPlusOne
			a := fasttest.StartWith(t, cfg, nil,
				fxmodules.ConfigureMiddleware(func(c *api.MiddlewareConfig) { got = c.NPlusOne }),
				fx.Invoke(func(e *gin.Engine) {
					e.GET("/loop/:id", api.Handle(func(c *gin.Context, q db.Querier) error {
						var n int
						for range 3 {
							if err := q.GetContext(c, &n, "SELECT 1"); err != nil {
								return err
							}
						}
						return nil
					}))
				}))
			if got != tc.want {
				t.Fatalf("middleware's detector %+v, want %+v", got, tc.want)
			}
			if tc.mode != "log" {
				return
			}
			if resp := a.Do(t, http.MethodGet, "/loop/1", nil); resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
				t.Fatalf("GET /loop/1 in log mode: %d %s", resp.Status, resp.Body)
			}
			logs := a.Logs.String()
			if !strings.Contains(logs, `level=WARN msg="N+1 query"`) || !strings.Contains(logs, `route=/loop/:id`) ||
				!strings.Contains(logs, `statement="SELECT 1" count=3`) {
				t.Fatalf("no warning naming the statement and the route:\n%s", logs)
			}
		})
	}
}

// A configuration built in code with an unknown N_PLUS_ONE fails the start,
// naming the variable.
func TestNPlusOneBadModeFailsStart(t *testing.T) {
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.NPlusOne = "on"
	app := fx.New(
		fxmodules.Framework(nil),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		fx.NopLogger,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := app.Err()
	if err == nil {
		if err = app.Start(ctx); err == nil {
			_ = app.Stop(ctx)
			t.Fatal("the app started with N_PLUS_ONE=on")
		}
	}
	requireContains(t, "start", err, "N_PLUS_ONE", `"on"`)
}
