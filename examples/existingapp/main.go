// Command existingapp shows FastTrack plugged into an Fx application that
// already exists: the app keeps its own modules (a clock, its JSON logger and
// its Gin engine), and adds fxmodules.Framework, told to use the app's
// logger and engine, plus one feature whose repository is request-scoped.
// cli.Main gives it FastTrack's command line, with a command of its own.
//
//	go run ./examples/existingapp                 # serves on :8080 with an SQLite file
//	curl -X POST localhost:8080/notes -d '{"body":"hello"}' -H 'Content-Type: application/json'
//	go run ./examples/existingapp add-note hi     # adds a note, in a transaction
//	go run ./examples/existingapp routes          # lists the routes; see --help for the rest
package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

//go:embed migrations
var migrationFiles embed.FS

// migrations returns the migrations folder, holding one folder per dialect.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the folder is embedded: it exists
	}
	return sub
}

// Clock is one of the existing app's own singletons.
type Clock struct{ Now func() time.Time }

// Note is a row of the notes table.
type Note struct {
	ID   int64  `db:"id" json:"id"`
	Body string `db:"body" json:"body"`
}

// TableName names Note's table.
func (Note) TableName() string { return "notes" }

// Notes is the notes repository, one per request, on its transaction.
type Notes struct {
	repo.Base[Note]
	clock *Clock
}

// NewNotes builds the repository; it takes a singleton (the clock) and the
// request's querier.
func NewNotes(t *repo.Table[Note], q db.Querier, clock *Clock) *Notes {
	return &Notes{Base: t.On(q), clock: clock}
}

// noteInput is the body of POST /notes.
type noteInput struct {
	Body string `json:"body" binding:"required,max=1000"`
}

// routes registers the notes API.
func routes(e *gin.Engine) {
	e.POST("/notes", api.Handle(func(c *gin.Context, notes *Notes) (*Note, error) {
		var in noteInput
		if err := api.BindJSON(c, &in); err != nil {
			return nil, err
		}
		n := &Note{Body: in.Body}
		if err := notes.Create(c.Request.Context(), n); err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return n, nil
	}))
	e.GET("/notes/:id", api.Handle(func(c *gin.Context, notes *Notes) (*Note, error) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return nil, api.NewError(http.StatusBadRequest, "the id must be a positive integer")
		}
		return notes.FindOrFail(c.Request.Context(), id)
	}, api.WithReadOnly()))
	e.GET("/time", func(c *gin.Context) {
		clock, err := api.Resolve[*Clock](c)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"now": clock.Now().UTC()})
	})
}

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

// features is the feature built on the request scope.
func features() fx.Option {
	return fx.Module("notes",
		fx.Provide(repo.NewTable[Note]),
		fxmodules.Scoped(NewNotes),
		fx.Invoke(routes),
	)
}

// addNotes adds a note per argument, in the command's transaction: when one
// fails (an empty one), none is kept.
func addNotes(ctx context.Context, args cli.Args, notes *Notes, cmd *cobra.Command) error {
	for _, body := range args {
		if body == "" {
			return errors.New("add-note: a note needs a body")
		}
		n := &Note{Body: body}
		if err := notes.Create(ctx, n); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "added note", n.ID)
	}
	return nil
}

func main() { cli.Main(app()) }

// app is the command line: FastTrack's commands over the whole application,
// and add-note.
func app() cli.App {
	return cli.App{
		Name: "existingapp",
		Options: fx.Options(
			fxmodules.Framework(migrations(), fxmodules.WithAppLogger(), fxmodules.WithAppEngine()),
			existing(),
			features(),
		),
		Migrations:    migrations(),
		Module:        "github.com/fasttrack-go/fasttrack",
		MigrationsDir: "examples/existingapp/migrations",
		Commands:      []*cli.Cmd{cli.Command("add-note", "Add a note per argument", addNotes)},
	}
}
