package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// TestExistingApp runs the notes feature with the test kit.
func TestExistingApp(t *testing.T) {
	app := fasttest.Start(t, migrations(), fx.Supply(&Clock{Now: time.Now}), features())
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

// TestTheAppKeepsItsLoggerAndEngine runs the application as main does —
// FastTrack with the app's own logger and Gin engine — and checks that
// requests go through the app's engine (its header, its health routes)
// with FastTrack's request scope on it, and that FastTrack logs through the
// app's JSON logger.
func TestTheAppKeepsItsLoggerAndEngine(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := &fasttest.SyncBuffer{}
	var srv *http.Server
	a := fxtest.New(t, app().Options, fx.Replace(cfg, LogOutput{logs}), fx.Populate(&srv))
	a.RequireStart()
	defer a.RequireStop()
	base := "http://" + srv.Addr

	resp, err := http.Post(base+"/notes", "application/json", strings.NewReader(`{"body":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(ServedByHeader) != "existingapp" {
		t.Fatalf("POST /notes: %d, %s %q: not the app's engine", resp.StatusCode, ServedByHeader, resp.Header.Get(ServedByHeader))
	}
	for _, path := range []string{"/notes/1", "/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get(ServedByHeader) != "existingapp" {
			t.Errorf("GET %s: %d, %s %q", path, resp.StatusCode, ServedByHeader, resp.Header.Get(ServedByHeader))
		}
	}
	// FastTrack's access log, in the app's JSON format with its name.
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"app":"existingapp"`) &&
			strings.Contains(line, `"route":"/notes"`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no access-log record of POST /notes through the app's logger:\n%s", logs.String())
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
	for _, want := range []string{"POST    /notes ", "GET     /notes/:id ", "read-only", "GET     /time ", "GET     /healthz ", "GET     /readyz "} {
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
