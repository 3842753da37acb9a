// Command tasks is the README's app of one's own: a model, a request-scoped
// repository, two routes, migrations per dialect, configuration from the
// environment and FastTrack's command line. README.md shows this file as it
// is.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"strconv"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

//go:embed migrations
var files embed.FS

// Task is a row of the tasks table.
type Task struct {
	ID    int64  `db:"id" json:"id"`
	Title string `db:"title" json:"title"`
	Done  bool   `db:"done" json:"done"`
}

// TableName names Task's table.
func (Task) TableName() string { return "tasks" }

// Tasks is request-scoped: each request gets one, on its own transaction.
type Tasks struct{ repo.Base[Task] }

// NewTasks builds the repository on the request's querier.
func NewTasks(t *repo.Table[Task], q db.Querier) *Tasks { return &Tasks{Base: t.On(q)} }

func routes(e *gin.Engine) {
	e.POST("/tasks", api.Handle(func(c *gin.Context, tasks *Tasks) (*Task, error) {
		var in struct {
			Title string `json:"title" binding:"required,max=200"`
		}
		if err := api.BindJSON(c, &in); err != nil {
			return nil, err // 400, 413, 415 or 422, saying what is wrong
		}
		t := Task{Title: in.Title}
		if err := tasks.Create(c, &t); err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return &t, nil // committed before the client sees the 201
	}, api.WithRetry(3)))
	e.GET("/tasks/:id", api.Handle(func(c *gin.Context, tasks *Tasks) (*Task, error) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return nil, api.NewError(http.StatusBadRequest, "the id must be a positive integer")
		}
		return tasks.FindOrFail(c, id) // repo.ErrNotFound answers 404
	}, api.WithReadOnly()))
}

// features is the app's own part: the repository and the routes.
func features() fx.Option {
	return fx.Options(fx.Provide(repo.NewTable[Task]), fxmodules.Scoped(NewTasks), fx.Invoke(routes))
}

func main() {
	migrations, err := fs.Sub(files, "migrations")
	if err != nil {
		log.Fatal(err)
	}
	cli.Main(cli.App{ // serve (the default), migrate, seed, routes, graph, jobs, version
		Name:       "tasks",
		Options:    fx.Options(fxmodules.Framework(migrations), features()),
		Migrations: migrations,
	})
}
