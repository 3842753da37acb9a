package requestscope_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// A unique constraint checked at COMMIT (PostgreSQL, DEFERRABLE INITIALLY
// DEFERRED) answers 409 like one checked at the statement, whether the
// response was held or streamed; nothing of the handler's response and
// nothing of its rows remain.
func TestDeferredUniqueViolationAtCommitAnswers409(t *testing.T) {
	a, _ := start(t, testdb.New(t, db.Postgres))
	for _, path := range []string{"/tags/red", "/tags/blue?stream=1"} {
		t.Run(path, func(t *testing.T) {
			resp := a.Do(t, http.MethodPost, path, nil)
			if resp.Status != http.StatusConflict || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			if strings.Contains(string(resp.Body), "created") {
				t.Fatalf("the handler's response reached the client: %s", resp.Body)
			}
			var n int
			if err := a.DB.Get(&n, "SELECT COUNT(*) FROM tags"); err != nil || n != 0 {
				t.Fatalf("%d tags left (%v)", n, err)
			}
			a.RequireNoConnInUse(t)
		})
	}
}
