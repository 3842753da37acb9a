package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// A retried handler binds the whole body again with BindJSON, and starts
// from the response headers set before it ran, not from those its failed
// attempt set.
func TestRetryBindsTheBodyAgain(t *testing.T) {
	type in struct {
		Name string `json:"name" binding:"required"`
	}
	var bound []string
	var seenHeader []string
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/r", func(c *gin.Context) { c.Header("X-Before", "kept") },
			api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
				var v in
				if err := api.BindJSON(c, &v); err != nil {
					return nil, err
				}
				bound = append(bound, v.Name)
				h := c.Writer.Header()
				seenHeader = append(seenHeader, h.Get("X-Attempt")+"/"+h.Get("X-Before"))
				c.Header("X-Attempt", fmt.Sprint(len(bound)))
				c.Writer.Header().Set("X-Before", "changed by the handler")
				if err := insertV(c, q); err != nil {
					return nil, err
				}
				if len(bound) < 3 {
					return nil, fmt.Errorf("attempt %d: %w", len(bound), db.ErrRetryable)
				}
				return gin.H{"name": v.Name}, nil
			}, api.WithRetry(3)))
	})
	name := strings.Repeat("n", 3000) // over the first read buffer
	req := httptest.NewRequest(http.MethodPost, "/r", strings.NewReader(`{"name":"`+name+`"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), name) {
		t.Fatalf("status %d: %.200s", w.Code, w.Body.String())
	}
	if len(bound) != 3 || bound[0] != name || bound[1] != name || bound[2] != name {
		t.Fatalf("%d attempts bound names of lengths %v, want 3 of %d", len(bound), lengths(bound), len(name))
	}
	if strings.Join(seenHeader, ",") != "/kept,/kept,/kept" {
		t.Errorf("the attempts saw X-Attempt %q: a failed attempt's headers leaked into the next", seenHeader)
	}
	if got := w.Header().Get("X-Attempt"); got != "3" {
		t.Errorf("X-Attempt %q, want the last attempt's", got)
	}
	if rows(t, x) != 1 {
		t.Errorf("%d rows, want the last attempt's one", rows(t, x))
	}
}

func lengths(ss []string) []int {
	n := make([]int, len(ss))
	for i, s := range ss {
		n[i] = len(s)
	}
	return n
}
