package main

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// Clock is one of the existing app's own singletons.
type Clock struct{ Now func() time.Time }

// LogOutput is where the application's logger writes.
type LogOutput struct{ io.Writer }

// newLogger is the application's own logger: JSON, with its name on each
// record. FastTrack logs through it (fxmodules.WithAppLogger).
func newLogger(out LogOutput) *slog.Logger {
	return slog.New(slog.NewJSONHandler(out, nil)).With("app", "existingapp")
}

// ServedByHeader is the header the application's own engine sets on every
// response.
const ServedByHeader = "X-Served-By"

// newEngine is the application's own Gin engine, with a middleware and
// health routes of its own. FastTrack installs its body limit and request
// scope on it (fxmodules.WithAppEngine); the routes that use the request
// scope are added later, in an fx.Invoke.
func newEngine(x *sqlx.DB) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.Recovery(), func(c *gin.Context) { c.Header(ServedByHeader, "existingapp") })
	e.GET("/healthz", api.Healthz)
	e.GET("/readyz", api.Readyz(x, 2*time.Second))
	return e
}

// existing is the application as it was before FastTrack.
func existing() fx.Option {
	return fx.Module("existing",
		fx.Supply(&Clock{Now: time.Now}, LogOutput{os.Stderr}),
		fx.Provide(newLogger, newEngine),
	)
}
