package main

import (
	"bytes"
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

// lookDot returns the path of Graphviz's dot command, or "" when it is not
// on PATH; under CI=true a missing dot fails the test, since CI installs it
// (.ci/run).
func lookDot(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Graphviz's dot is not on PATH, and CI=true: install Graphviz (apt-get install graphviz): %v", err)
		}
		return ""
	}
	return p
}

// checkDOT runs Graphviz on g when it is installed, and checks the text
// otherwise: a digraph with balanced braces.
func checkDOT(t *testing.T, g string) {
	t.Helper()
	if !strings.HasPrefix(g, "digraph {\n") || !strings.HasSuffix(g, "}\n") {
		t.Fatalf("not a digraph:\n%s", g)
	}
	if o, c := strings.Count(g, "{"), strings.Count(g, "}"); o != c {
		t.Fatalf("%d { and %d }", o, c)
	}
	dot := lookDot(t)
	if dot == "" {
		t.Log("Graphviz's dot is not installed: the graph's syntax is not checked")
		return
	}
	var stderr bytes.Buffer
	c := exec.Command(dot, "-Tcanon", "-o", filepath.Join(t.TempDir(), "canon.dot"))
	c.Stdin, c.Stderr = strings.NewReader(g), &stderr
	if err := c.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("dot rejects the graph: %v: %s\n%s", err, stderr.String(), g)
	}
}

const (
	scopedAttrs    = `style="rounded,filled"`
	transientAttrs = `style="rounded,dashed"`
)

// TestGraphCommand prints the reference app's graph: singletons from Fx,
// scoped providers from the registry, each drawn its own way.
func TestGraphCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	t.Setenv("LOG_LEVEL", "error")
	g, err := runCLI(t, context.Background(), "graph")
	if err != nil {
		t.Fatalf("app graph: %v", err)
	}
	checkDOT(t, g)

	for _, id := range []string{"*users.Repository", "*db.Tx", "db.Querier"} {
		if l := nodeLine(t, g, id); !strings.Contains(l, scopedAttrs) || !strings.Contains(l, "scoped · ") {
			t.Errorf("%s is not drawn as scoped: %s", id, l)
		}
	}
	if l := nodeLine(t, g, "*users.Repository"); !strings.Contains(l, "users.NewRepository") {
		t.Errorf("*users.Repository does not name its constructor: %s", l)
	}
	for _, id := range []string{"config.Config", "*sqlx.DB", "*scope.Registry", "*gin.Engine", "*repo.Table[github.com/fasttrack-go/fasttrack/cmd/app/users.User]"} {
		if l := nodeLine(t, g, id); strings.Contains(l, "style=") || strings.Contains(l, "shape=") {
			t.Errorf("singleton %s is not drawn as the default box: %s", id, l)
		}
	}
	if !strings.Contains(g, "\tnode [shape=box];\n") {
		t.Error("singletons are not boxes by default")
	}
	for _, edge := range []string{
		`"*users.Repository" -> "db.Querier"`,
		`"*users.Repository" -> "*repo.Table[github.com/fasttrack-go/fasttrack/cmd/app/users.User]"`,
		`"db.Querier" -> "*db.Tx"`,
		`constructor_`, // Fx's own edges are kept
	} {
		if !strings.Contains(g, edge) {
			t.Errorf("no edge %s", edge)
		}
	}
	for _, internal := range []string{"witness", "captiveTx", "captiveQuerier", "provided by nothing"} {
		if strings.Contains(g, internal) {
			t.Errorf("the graph shows %q", internal)
		}
	}
	if !strings.Contains(g, "subgraph cluster_legend") {
		t.Error("no legend")
	}
}

func TestGraphFormats(t *testing.T) {
	t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	t.Setenv("LOG_LEVEL", "error")
	t.Run("svg", func(t *testing.T) {
		if lookDot(t) == "" {
			t.Skip("Graphviz's dot is not installed")
		}
		out, err := runCLI(t, context.Background(), "graph", "--format", "svg")
		if err != nil {
			t.Fatalf("app graph --format svg: %v", err)
		}
		if !strings.HasPrefix(out, "<?xml") || !strings.Contains(out, "<svg") || !strings.Contains(out, "users.Repository") {
			t.Errorf("not an SVG of the graph: %.300s", out)
		}
	})
	t.Run("svg without dot", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		out, err := runCLI(t, context.Background(), "graph", "--format", "svg")
		if err == nil || !strings.Contains(err.Error(), `"dot"`) || !strings.Contains(err.Error(), "PATH") {
			t.Fatalf("without dot: %v (printed %d bytes)", err, len(out))
		}
		if out != "" {
			t.Errorf("printed %q", out)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		if _, err := runCLI(t, context.Background(), "graph", "--format", "png"); err == nil || !strings.Contains(err.Error(), `"png"`) {
			t.Fatalf("--format png: %v", err)
		}
	})
}
