package requestscope_test

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

// mineRoute writes the client's token through the request's scoped *Svc and
// reads it back through the request's db.Querier: both are the request's
// one transaction, so the uncommitted row is visible.
func mineRoute(e *gin.Engine) {
	e.POST("/mine/:id", api.Handle(func(c *gin.Context, s *Svc, q db.Querier) (gin.H, error) {
		var body struct {
			Token string `json:"token" binding:"required"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return nil, api.NewError(http.StatusBadRequest, "bad body")
		}
		ctx := c.Request.Context()
		id := idParam(c)
		if _, err := s.Q.ExecContext(ctx, s.Q.Rebind("INSERT INTO items (id, name) VALUES (?, ?)"), id, body.Token); err != nil {
			return nil, err
		}
		var row struct {
			ID   int    `db:"id"`
			Name string `db:"name"`
		}
		if err := q.GetContext(ctx, &row, q.Rebind("SELECT id, name FROM items WHERE id = ?"), id); err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return gin.H{"svc": s.N, "id": row.ID, "name": row.Name, "same_tx": s.Q == q}, nil
	}))
}

func TestConcurrentRequestsHaveTheirOwnScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		leaks := goleak.IgnoreCurrent()
		t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the app stops
		a, _ := start(t, u, fx.Invoke(mineRoute))
		const n = 200
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i] = strings.ToLower(rand.Text())
		}
		resps := fire(t, a, n, http.MethodPost,
			func(i int) string { return "/mine/" + strconv.Itoa(i+1) },
			func(i int) any { return map[string]string{"token": tokens[i]} })
		svcs := map[float64]int{}
		for i, r := range resps {
			if r.Status/100 != 2 {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				continue
			}
			body := r.JSON(t)
			if body["name"] != tokens[i] || body["id"] != float64(i+1) || body["same_tx"] != true {
				t.Errorf("request %d with token %s got %v", i, tokens[i], body)
			}
			svc, _ := body["svc"].(float64)
			if j, dup := svcs[svc]; dup {
				t.Errorf("requests %d and %d share the scoped *Svc %v", j, i, svc)
			}
			svcs[svc] = i
		}
		var rows int
		if err := a.DB.Get(&rows, "SELECT COUNT(*) FROM items"); err != nil {
			t.Fatal(err)
		}
		if rows != n {
			t.Errorf("%d rows after %d requests", rows, n)
		}
		var names []string
		if err := a.DB.Select(&names, "SELECT name FROM items ORDER BY id"); err != nil {
			t.Fatal(err)
		}
		for i, name := range names {
			if i < n && name != tokens[i] {
				t.Errorf("row %d holds %q, want %q", i+1, name, tokens[i])
			}
		}
		if logs := a.Logs.String(); strings.Contains(logs, "database is locked") || strings.Contains(logs, "SQLITE_BUSY") {
			t.Errorf("a request met a locked database:\n%s", logs)
		}
		a.RequireNoConnInUse(t)
	})
}
