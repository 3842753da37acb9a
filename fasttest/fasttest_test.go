package fasttest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/repo"
	"go.uber.org/fx"
)

// TestParallelAppsAreIsolated starts several apps at once: each has its own
// database and server, so what one writes the others never see.
func TestParallelAppsAreIsolated(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint("app", i), func(t *testing.T) {
			t.Parallel()
			var table *repo.Table[users.User]
			app := fasttest.Start(t, migrations.FS, users.Module(), fx.Populate(&table))
			if table == nil {
				t.Fatal("fx.Populate gave nothing")
			}
			for j := range i + 1 {
				resp := app.Do(t, http.MethodPost, "/users", map[string]any{
					"name": "User", "email": fmt.Sprintf("u%d@example.com", j),
				})
				if resp.Status != http.StatusCreated {
					t.Fatalf("POST: %d %s", resp.Status, resp.Body)
				}
			}
			list := app.Do(t, http.MethodGet, "/users", nil).JSON(t)
			if list["total"] != float64(i+1) {
				t.Fatalf("app %d sees %v users, want %d: another test's rows leaked in", i, list["total"], i+1)
			}
			app.RequireNoConnInUse(t)
		})
	}
}
