package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/jmoiron/sqlx"
)

// TestExistingApp runs the example's whole application with the test kit:
// its own module, the framework and the notes feature.
func TestExistingApp(t *testing.T) {
	app := fasttest.Start(t, migrations(), features())
	created := app.Do(t, http.MethodPost, "/notes", map[string]any{"body": "hello"})
	if created.Status != http.StatusCreated {
		t.Fatalf("POST /notes: %d %s", created.Status, created.Body)
	}
	id := created.JSON(t)["id"]
	got := app.Do(t, http.MethodGet, "/notes/1", nil)
	if got.Status != http.StatusOK || got.JSON(t)["body"] != "hello" || id != float64(1) {
		t.Fatalf("GET /notes/1: %d %s", got.Status, got.Body)
	}
	if r := app.Do(t, http.MethodGet, "/time", nil); r.Status != http.StatusOK {
		t.Fatalf("GET /time: %d %s", r.Status, r.Body)
	}
	if r := app.Do(t, http.MethodPost, "/notes", map[string]any{}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("POST /notes without a body field: %d %s", r.Status, r.Body)
	}
}

// runCLI runs the example's command line in-process with args.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := cli.New(app())
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestCLI runs the example's command line on an SQLite file: routes lists
// the app's own routes beside FastTrack's; add-note commits its notes, or
// none of them when one fails; migrate status sees the migration applied.
func TestCLI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	t.Setenv("DATABASE_URL", "sqlite:"+path)
	t.Setenv("LOG_LEVEL", "error")

	out, err := runCLI(t, "routes")
	if err != nil {
		t.Fatalf("routes: %v", err)
	}
	for _, want := range []string{"POST    /notes ", "GET     /notes/:id ", "read-only", "GET     /time ", "GET     /healthz "} {
		if !strings.Contains(out, want) {
			t.Errorf("routes lacks %q:\n%s", want, out)
		}
	}

	if out, err := runCLI(t, "add-note", "first", "second"); err != nil || out != "added note 1\nadded note 2\n" {
		t.Fatalf("add-note: %q, %v", out, err)
	}
	// An empty note fails the command after "third" was added: the
	// transaction rolls back, and "third" is not kept.
	if out, err := runCLI(t, "add-note", "third", ""); err == nil || !strings.Contains(err.Error(), "needs a body") {
		t.Fatalf("add-note with an empty note: %q, %v", out, err)
	}

	x, err := sqlx.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var bodies []string
	if err := x.Select(&bodies, "SELECT body FROM notes ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bodies, []string{"first", "second"}) {
		t.Errorf("notes %q, want first and second", bodies)
	}
	if out, err := runCLI(t, "migrate", "status"); err != nil || !strings.Contains(out, "notes") || strings.Contains(out, "pending") {
		t.Errorf("migrate status: %q, %v", out, err)
	}
}
