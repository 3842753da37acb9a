package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestRoutesCommand lists the test application's routes without touching
// the database: handler names and policies come from api.Handle.
func TestRoutesCommand(t *testing.T) {
	_, path := sqliteEnv(t)
	out, err := run(t, context.Background(), testApp(), "routes")
	if err != nil {
		t.Fatalf("routes: %v", err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	want := [][]string{
		{"METHOD", "PATH", "HANDLER", "TX", "POLICY"},
		{"GET", "/healthz", "api.Healthz", "-"},
		{"GET", "/hello", "cli.testRoutes.func2", "-"},
		{"POST", "/items", "cli.testRoutes.func1", "retry", "2"},
		{"GET", "/metrics"},
		{"GET", "/readyz"},
	}
	// The handlers of /metrics and /readyz are closures whose names
	// depend on inlining: only their method and path are compared.
	if len(rows) == len(want) {
		rows[len(rows)-2], rows[len(rows)-1] = rows[len(rows)-2][:2], rows[len(rows)-1][:2]
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("routes printed\n%s\nwant rows %q", out, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("routes touched the database: %s exists (%v)", path, err)
	}
}

func TestPrintRoutes(t *testing.T) {
	routes := gin.RoutesInfo{
		{Method: "DELETE", Path: "/b", Handler: "example.com/x/api.(*handler).serve-fm"},
		{Method: "POST", Path: "/a", Handler: "github.com/fasttrack-go/fasttrack/api.(*handler).serve-fm"},
		{Method: "GET", Path: "/b", Handler: "github.com/gin-gonic/gin.WrapH.func1"},
		{Method: "GET", Path: "/a", Handler: "main.plain"},
	}
	policy := func(method, path string) string {
		if method == "POST" {
			return "serializable, retry 3"
		}
		return ""
	}
	handler := func(method, path string) string {
		if method == "POST" && path == "/a" {
			return "users.create"
		}
		return ""
	}
	for _, tc := range []struct {
		name            string
		handler, policy routeLookup
		want            string
	}{
		{"without lookups", nil, nil, "" +
			"METHOD  PATH  HANDLER                  TX POLICY\n" +
			"GET     /a    main.plain               -\n" +
			"POST    /a    api.(*handler).serve-fm  -\n" +
			"GET     /b    gin.WrapH.func1          -\n" +
			"DELETE  /b    api.(*handler).serve-fm  -\n"},
		{"with lookups", handler, policy, "" +
			"METHOD  PATH  HANDLER                  TX POLICY\n" +
			"GET     /a    main.plain               -\n" +
			"POST    /a    users.create             serializable, retry 3\n" +
			"GET     /b    gin.WrapH.func1          -\n" +
			"DELETE  /b    api.(*handler).serve-fm  -\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := printRoutes(&b, routes, tc.handler, tc.policy); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("printed\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}
