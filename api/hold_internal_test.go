package api

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// directProbe records, when it is encoded, whether the response it is
// written to still goes through the hold buffer.
type directProbe struct {
	c      *gin.Context
	direct bool
}

func (p *directProbe) MarshalJSON() ([]byte, error) {
	h, _ := p.c.Writer.(*holdWriter)
	p.direct = h != nil && h.direct
	return []byte(`{"big":"` + strings.Repeat("x", 4096) + `"}`), nil
}

// Once the last api.Handle handler of a checked route has committed, its
// result is written straight to the client, not copied through the hold
// buffer; with the route unchecked it is held until the end of the chain.
func TestCommittedResultIsNotHeld(t *testing.T) {
	for _, checked := range []bool{true, false} {
		reg := scope.NewRegistry()
		if err := reg.Compile(map[reflect.Type]any{}); err != nil {
			t.Fatal(err)
		}
		gin.SetMode(gin.TestMode)
		e := gin.New()
		m := NewMiddleware(reg, Options{})
		defer m.Close()
		e.Use(m.HandlerFunc())
		p := &directProbe{}
		e.POST("/p", Handle0(func(c *gin.Context) (*directProbe, error) {
			p.c = c
			c.Status(http.StatusCreated)
			return p, nil
		}))
		if checked {
			if err := CheckRoutes(e, reg); err != nil {
				t.Fatal(err)
			}
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/p", nil))
		if w.Code != http.StatusCreated || w.Body.Len() < 4096 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("checked=%v: %d %q, %d bytes", checked, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
		if p.direct != checked {
			t.Errorf("checked=%v: written directly = %v", checked, p.direct)
		}
	}
}
