package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
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
