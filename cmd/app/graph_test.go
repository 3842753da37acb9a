package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nodeLine returns the line declaring node id, failing unless there is
// exactly one.
func nodeLine(t *testing.T, g, id string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\t+` + regexp.QuoteMeta(`"`+id+`"`) + ` \[.*\];$`)
	lines := re.FindAllString(g, -1)
	if len(lines) != 1 {
		t.Fatalf("node %q declared %d times, want once: %q", id, len(lines), lines)
	}
	return lines[0]
}

// TestGraphCommand prints the reference app's graph: the users feature's
// scoped repository and its singleton table beside the framework's types,
// each drawn its own way, and Graphviz renders it (cli.TestGraphCommand and
// TestGraphFormats cover the drawing and the formats on a test app).
func TestGraphCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	t.Setenv("LOG_LEVEL", "error")
	g, err := runCLI(t, context.Background(), "graph")
	if err != nil {
		t.Fatalf("app graph: %v", err)
	}
	const table = "*repo.Table[github.com/fasttrack-go/fasttrack/cmd/app/users.User]"
	for _, id := range []string{"*users.Repository", "*db.Tx", "db.Querier"} {
		if l := nodeLine(t, g, id); !strings.Contains(l, `style="rounded,filled"`) || !strings.Contains(l, "scoped · ") {
			t.Errorf("%s is not drawn as scoped: %s", id, l)
		}
	}
	if l := nodeLine(t, g, "*users.Repository"); !strings.Contains(l, "users.NewRepository") {
		t.Errorf("*users.Repository does not name its constructor: %s", l)
	}
	for _, id := range []string{"config.Config", "*scope.Registry", table} {
		if l := nodeLine(t, g, id); strings.Contains(l, "style=") || strings.Contains(l, "shape=") {
			t.Errorf("singleton %s is not drawn as the default box: %s", id, l)
		}
	}
	for _, want := range []string{
		"\tnode [shape=box];\n", // singletons are boxes by default
		`"*users.Repository" -> "db.Querier"`,
		`"*users.Repository" -> "` + table + `"`,
		`"db.Querier" -> "*db.Tx"`,
		`constructor_`, // Fx's own edges are kept
		"subgraph cluster_legend",
	} {
		if !strings.Contains(g, want) {
			t.Errorf("the graph lacks %s", want)
		}
	}

	// Graphviz accepts the graph, generic type names included.
	if _, err := exec.LookPath("dot"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("Graphviz's dot is not installed")
	}
	svg, err := runCLI(t, context.Background(), "graph", "--format", "svg")
	if err != nil {
		t.Fatalf("app graph --format svg: %v", err)
	}
	if !strings.Contains(svg, "<svg") || !strings.Contains(svg, "users.Repository") {
		t.Errorf("not an SVG of the graph: %.300s", svg)
	}
}
