package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// routesTable splits a printed table into its rows of fields (the policy
// column may hold spaces: it is the rest of the line). The header is checked
// and dropped.
func routesTable(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"METHOD", "PATH", "HANDLER", "TX", "POLICY"}) {
		t.Fatalf("header %q", lines[0])
	}
	col := strings.Index(lines[0], "TX POLICY")
	var rows [][]string
	for _, l := range lines[1:] {
		if len(l) < col {
			t.Fatalf("row %q is shorter than the header", l)
		}
		f := strings.Fields(l[:col])
		if len(f) != 3 {
			t.Fatalf("row %q: want method, path and handler before the policy column", l)
		}
		rows = append(rows, append(f, strings.TrimSpace(l[col:])))
	}
	return rows
}

// TestRoutesCommand lists the reference app's routes without touching the
// database.
func TestRoutesCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	t.Setenv("DATABASE_URL", "sqlite:"+path)
	t.Setenv("LOG_LEVEL", "error")
	out, err := runCLI(t, context.Background(), "routes")
	if err != nil {
		t.Fatalf("app routes: %v", err)
	}
	t.Logf("app routes:\n%s", out)
	rows := routesTable(t, out)
	want := [][2]string{
		{"GET", "/healthz"}, {"GET", "/metrics"},
		{"GET", "/posts"}, {"POST", "/posts"}, {"GET", "/posts/:id"}, {"DELETE", "/posts/:id"},
		{"GET", "/readyz"},
		{"GET", "/users"}, {"POST", "/users"},
		{"GET", "/users/:id"}, {"PUT", "/users/:id"}, {"DELETE", "/users/:id"},
	}
	details := map[string][2]string{ // handler and policy, by "METHOD /path"
		"GET /healthz":      {"api.Healthz", "-"},
		"GET /posts":        {"posts.list", "read-only"},
		"POST /posts":       {"posts.create", "retry 3"},
		"GET /posts/:id":    {"posts.show", "read-only"},
		"DELETE /posts/:id": {"posts.remove", "default"},
		"GET /users":        {"users.list", "read-only"},
		"POST /users":       {"users.create", "retry 3"},
		"GET /users/:id":    {"users.show", "read-only"},
		"PUT /users/:id":    {"users.update", "retry 3"},
		"DELETE /users/:id": {"users.remove", "default"},
	}
	var got [][2]string
	for _, r := range rows {
		got = append(got, [2]string{r[0], r[1]})
		if want, ok := details[r[0]+" "+r[1]]; ok && (r[2] != want[0] || r[3] != want[1]) {
			t.Errorf("%s %s: handler %q, policy %q; want %q, %q", r[0], r[1], r[2], r[3], want[0], want[1])
		}
		if r[3] == "" {
			t.Errorf("%s %s: empty policy column", r[0], r[1])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes %v, want %v (sorted by path, then method)", got, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("app routes touched the database: %s exists (%v)", path, err)
	}
}
