package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
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

// TestGraphCommand prints the test application's graph: singletons from
// Fx, scoped and transient providers from the registry, each drawn its own
// way, and none of FastTrack's plumbing.
func TestGraphCommand(t *testing.T) {
	_, path := sqliteEnv(t)
	g, err := run(t, context.Background(), testApp(), "graph")
	if err != nil {
		t.Fatalf("graph: %v", err)
	}
	checkDOT(t, g)
	for _, id := range []string{"*cli.items", "*db.Tx", "db.Querier"} {
		if l := nodeLine(t, g, id); !strings.Contains(l, scopedAttrs) || !strings.Contains(l, "scoped · ") {
			t.Errorf("%s is not drawn as scoped: %s", id, l)
		}
	}
	if l := nodeLine(t, g, "*cli.stamp"); !strings.Contains(l, transientAttrs) || !strings.Contains(l, "transient · cli.newStamp") {
		t.Errorf("*cli.stamp is not drawn as transient: %s", l)
	}
	for _, id := range []string{"config.Config", "*sqlx.DB", "*cli.greeting", "*gin.Engine", "*http.Server"} {
		if l := nodeLine(t, g, id); strings.Contains(l, "style=") {
			t.Errorf("singleton %s is not drawn as the default box: %s", id, l)
		}
	}
	for _, internal := range []string{"witness", "captiveTx", "captiveQuerier", "provided by nothing"} {
		if strings.Contains(g, internal) {
			t.Errorf("the graph shows %q", internal)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("graph touched the database: %s exists", path)
	}
}

func TestGraphFormats(t *testing.T) {
	sqliteEnv(t)
	t.Run("svg", func(t *testing.T) {
		if lookDot(t) == "" {
			t.Skip("Graphviz's dot is not installed")
		}
		out, err := run(t, context.Background(), testApp(), "graph", "--format", "svg")
		if err != nil {
			t.Fatalf("graph --format svg: %v", err)
		}
		if !strings.HasPrefix(out, "<?xml") || !strings.Contains(out, "<svg") || !strings.Contains(out, "cli.items") {
			t.Errorf("not an SVG of the graph: %.300s", out)
		}
	})
	t.Run("svg without dot", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		out, err := run(t, context.Background(), testApp(), "graph", "--format", "svg")
		wantErr(t, err, `"dot"`, "PATH")
		if out != "" {
			t.Errorf("printed %q", out)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		_, err := run(t, context.Background(), testApp(), "graph", "--format", "png")
		wantErr(t, err, `"png"`)
	})
}

type (
	graphClock   struct{}
	graphService struct{}
	graphMissing struct{}
)

func newGraphClock(context.Context) *graphClock { return &graphClock{} }

func newGraphService(*graphClock, db.Querier, *graphMissing) *graphService { return &graphService{} }

// TestDependencyGraphLifetimes draws a transient provider, one taking the
// scope's context, and a dependency nothing provides.
func TestDependencyGraphLifetimes(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	var (
		fxGraph fx.DotGraph
		reg     *scope.Registry
		x       *sqlx.DB
	)
	app := fx.New(fx.NopLogger,
		fxmodules.Config(), fx.Replace(cfg), fxmodules.Logging(), fxmodules.Database(), fxmodules.RequestScope(),
		fxmodules.Transient(newGraphClock),
		fxmodules.Scoped(newGraphService),
		fx.Populate(&fxGraph, &reg, &x),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	g, err := dependencyGraph(string(fxGraph), reg.Providers())
	if err != nil {
		t.Fatal(err)
	}
	checkDOT(t, g)
	if l := nodeLine(t, g, "*cli.graphClock"); !strings.Contains(l, transientAttrs) || !strings.Contains(l, "transient · cli.newGraphClock") {
		t.Errorf("transient drawn as %s", l)
	}
	if l := nodeLine(t, g, "*cli.graphService"); !strings.Contains(l, scopedAttrs) || !strings.Contains(l, "scoped · cli.newGraphService") {
		t.Errorf("scoped drawn as %s", l)
	}
	if l := nodeLine(t, g, "*cli.graphMissing"); !strings.Contains(l, "color=red") || !strings.Contains(l, "provided by nothing") {
		t.Errorf("missing type drawn as %s", l)
	}
	if l := nodeLine(t, g, "context.Context"); !strings.Contains(l, "the scope's own") {
		t.Errorf("the scope's context drawn as %s", l)
	}
	for _, edge := range []string{
		`"*cli.graphClock" -> "context.Context"`,
		`"*cli.graphService" -> "*cli.graphClock"`,
		`"*cli.graphService" -> "db.Querier"`,
		`"*cli.graphService" -> "*cli.graphMissing"`,
	} {
		if !strings.Contains(g, edge) {
			t.Errorf("no edge %s", edge)
		}
	}
	if l := nodeLine(t, g, "config.Config"); strings.Contains(l, "style=") {
		t.Errorf("singleton drawn as %s", l)
	}

	if _, err := dependencyGraph("graph {}", nil); err == nil {
		t.Error("a non-digraph input was accepted")
	}
}
