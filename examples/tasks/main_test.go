package main

import (
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
)

// TestTasks runs the app on each dialect the test kit can reach (SQLite
// always; PostgreSQL and MySQL when their test servers are configured): a
// task is created, read back, refused without a title, and missing ids
// answer 404.
func TestTasks(t *testing.T) {
	migrations, err := fs.Sub(files, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	fasttest.Each(t, func(t *testing.T, _ db.Dialect, app *fasttest.App) {
		created := app.Do(t, http.MethodPost, "/tasks", map[string]any{"title": "write the docs"})
		if created.Status != http.StatusCreated {
			t.Fatalf("POST /tasks: %d %s", created.Status, created.Body)
		}
		id := created.JSON(t)["id"]
		got := app.Do(t, http.MethodGet, "/tasks/1", nil)
		if got.Status != http.StatusOK || got.JSON(t)["title"] != "write the docs" || id != float64(1) {
			t.Fatalf("GET /tasks/1: %d %s (created id %v)", got.Status, got.Body, id)
		}
		if r := app.Do(t, http.MethodPost, "/tasks", map[string]any{}); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("POST /tasks without a title: %d %s", r.Status, r.Body)
		}
		if r := app.Do(t, http.MethodGet, "/tasks/2", nil); r.Status != http.StatusNotFound {
			t.Fatalf("GET /tasks/2: %d %s", r.Status, r.Body)
		}
	}, migrations, features())
}

// TestREADMEShowsThisProgram checks that README.md's app of one's own is
// this file, from its package clause on, so that the README shows a
// program that compiles and whose tests pass.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	program := string(src[strings.Index(string(src), "package main"):])
	if !strings.Contains(string(readme), "```go\n"+program+"```\n") {
		t.Fatal("README.md does not show examples/tasks/main.go (from its package clause) in a go code block")
	}
}
