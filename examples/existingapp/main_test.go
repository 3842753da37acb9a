package main

import (
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/fasttest"
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
