package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/gin-gonic/gin"
)

// TestTypedHandlers runs each HandleN form: dependencies come from the
// request scope, results are answered like Handle's, an error is a problem
// and rolls back, and the route's options apply.
func TestTypedHandlers(t *testing.T) {
	type out struct{ A int }
	u := &unit{}
	e := engine(t, u, api.MiddlewareConfig{}, func(e *gin.Engine) {
		e.GET("/0", api.Handle0(func(c *gin.Context) (out, error) { return out{A: 0}, nil }))
		e.GET("/1", api.Handle1(func(c *gin.Context, v *unit) (*out, error) {
			if v != u {
				return nil, errors.New("wrong unit")
			}
			c.Status(http.StatusCreated)
			return &out{A: 1}, nil
		}))
		e.GET("/2", api.Handle2(func(c *gin.Context, ctx context.Context, v *unit) (*out, error) {
			if ctx == nil || v != u {
				return nil, errors.New("missing dependency")
			}
			return nil, nil // 204
		}))
		e.GET("/3", api.Handle3(func(c *gin.Context, a, b *unit, ctx context.Context) (any, error) {
			if a != b {
				return nil, errors.New("scoped unit built twice")
			}
			return nil, api.NewError(http.StatusConflict, "taken")
		}))
		e.GET("/retry", api.Handle1(func(c *gin.Context, v *unit) (bool, error) { return true, nil }, api.WithRetry(2)))
	})
	for _, tc := range []struct {
		path   string
		code   int
		body   string
		commit bool
	}{
		{"/0", 200, `{"A":0}`, true},
		{"/1", 201, `{"A":1}`, true},
		{"/2", 204, "", true},
		{"/3", 409, `"detail":"taken"`, false},
	} {
		before := len(u.outcomes())
		w := serve(e, http.MethodGet, tc.path)
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s: %d %s, want %d %s", tc.path, w.Code, w.Body, tc.code, tc.body)
		}
		got := u.outcomes()[before:]
		if tc.path == "/0" {
			if len(got) != 0 {
				t.Errorf("/0 resolved no unit but finished %v", got)
			}
			continue
		}
		if len(got) != 1 || got[0] != tc.commit {
			t.Errorf("%s: finished %v, want [%v]", tc.path, got, tc.commit)
		}
	}
	if got := api.DescribeRoutes(e)["GET /retry"]; got.Policy != "retry 2" || !strings.Contains(got.Handler, "TestTypedHandlers") {
		t.Errorf("DescribeRoutes: %+v", got)
	}
}

// TestTypedHandlerChecks checks that the HandleN forms are checked at start
// like Handle: a dependency nothing provides, or a nil func, fails
// CheckRoutes naming the route.
func TestTypedHandlerChecks(t *testing.T) {
	type missing struct{}
	reg := compiledRegistry(t)
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{}).HandlerFunc())
	e.GET("/missing", api.Handle1(func(c *gin.Context, m *missing) (int, error) { return 0, nil }))
	var nilFn func(*gin.Context) (int, error)
	e.GET("/nil", api.Handle0(nilFn))
	err := api.CheckRoutes(e, reg)
	for _, want := range []string{"route GET /missing", "*api_test.missing", "route GET /nil", "non-nil func"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRoutes: %v, want %q", err, want)
		}
	}
	if w := serve(e, http.MethodGet, "/nil"); w.Code != http.StatusInternalServerError {
		t.Errorf("a nil func answered %d, want 500", w.Code)
	}
}
