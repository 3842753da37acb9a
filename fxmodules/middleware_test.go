package fxmodules_test

import (
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// fxmodules.ConfigureMiddleware reaches the middleware's settings that the
// configuration does not carry: the commit rule and the commit's problem.
func TestConfigureMiddleware(t *testing.T) {
	a := fasttest.StartWith(t, testConfig(testdb.New(t, db.SQLite)), nil,
		fxmodules.ConfigureMiddleware(func(c *api.MiddlewareConfig) {
			c.CommitStatus = func(status int) bool { return status < http.StatusInternalServerError }
		}),
		fxmodules.ConfigureMiddleware(func(c *api.MiddlewareConfig) {
			c.CommitProblem = func(err error) (api.Problem, bool) {
				return api.NewProblem(http.StatusTeapot, "the app's own answer"), true
			}
		}),
		fx.Invoke(func(e *gin.Engine) {
			e.POST("/not-found-commits", api.Handle(func(c *gin.Context, tx *db.Tx) error {
				if _, err := tx.ExecContext(c, "CREATE TABLE kept (v INT)"); err != nil {
					return err
				}
				c.Status(http.StatusNotFound)
				return nil
			}))
			e.POST("/commit-fails", api.Handle(func(c *gin.Context, tx *db.Tx) error {
				// A foreign key broken, checked at COMMIT.
				if _, err := tx.ExecContext(c, "PRAGMA defer_foreign_keys = ON"); err != nil {
					return err
				}
				for _, q := range []string{
					"CREATE TABLE parent (id INT PRIMARY KEY)",
					"CREATE TABLE child (id INT, parent_id INT REFERENCES parent(id))",
					"INSERT INTO child VALUES (1, 99)",
				} {
					if _, err := tx.ExecContext(c, q); err != nil {
						return err
					}
				}
				return nil
			}))
		}),
	)
	if resp := a.Do(t, http.MethodPost, "/not-found-commits", nil); resp.Status != http.StatusNotFound {
		t.Fatalf("/not-found-commits: %d %s", resp.Status, resp.Body)
	}
	var n int
	if err := a.DB.Get(&n, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'kept'"); err != nil || n != 1 {
		t.Fatalf("the 404's work was not committed under the app's rule (%d, %v)", n, err)
	}
	resp := a.Do(t, http.MethodPost, "/commit-fails", nil)
	if resp.Status != http.StatusTeapot || resp.JSON(t)["detail"] != "the app's own answer" {
		t.Fatalf("/commit-fails: %d %s", resp.Status, resp.Body)
	}
}
