package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// Greeter is a request-scoped service.
type Greeter struct{ name string }

// Handle adapts a function whose parameters come from the request scope.
// With Fx, fxmodules.Framework installs the middleware and compiles the
// registry; here they are assembled by hand.
func ExampleHandle() {
	reg := scope.NewRegistry()
	p, _ := scope.NewProvider(scope.Scoped, func(ctx context.Context) *Greeter { return &Greeter{name: "FastTrack"} })
	_ = reg.Add(p)
	_ = reg.Compile(map[reflect.Type]any{})

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{}).HandlerFunc())
	e.GET("/hello", api.Handle(func(c *gin.Context, g *Greeter) (gin.H, error) {
		return gin.H{"hello": g.name}, nil
	}))
	fmt.Println(api.CheckRoutes(e, reg)) // what the HTTP module runs on start

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hello", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// <nil>
	// 200 {"hello":"FastTrack"}
}
