package fxmodules

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

type graphScoped struct{}

func newGraphScoped(*sqlx.DB, db.Querier) *graphScoped { return &graphScoped{} }

// TestInternalNode reads Fx's graph of an app with a scoped provider: the
// witness nodes that Scoped adds are internal, the app's types are not.
func TestInternalNode(t *testing.T) {
	var g fx.DotGraph
	var x *sqlx.DB
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	app := fx.New(fx.NopLogger,
		Config(), fx.Replace(cfg), Logging(), Database(), RequestScope(),
		Scoped(newGraphScoped),
		fx.Populate(&g, &x),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	witnesses := 0
	for _, m := range regexp.MustCompile(`"[^"]*"`).FindAllString(string(g), -1) {
		id, err := strconv.Unquote(m)
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`witness`).MatchString(id) {
			witnesses++
			if !InternalNode(id) {
				t.Errorf("%s is not internal", id)
			}
		}
	}
	if witnesses == 0 {
		t.Fatalf("no witness in the graph:\n%s", g)
	}
	for _, id := range []string{"config.Config", "*sqlx.DB", "*scope.Registry", "*fxmodules.witnesses", "*cli.witness[name=x]"} {
		if InternalNode(id) {
			t.Errorf("%s is internal", id)
		}
	}
}

func TestScopeOwned(t *testing.T) {
	for typ, want := range map[reflect.Type]bool{
		reflect.TypeFor[context.Context](): true,
		reflect.TypeFor[*db.Tx]():          true,
		reflect.TypeFor[db.Querier]():      true,
		reflect.TypeFor[*sqlx.DB]():        false,
		reflect.TypeFor[*graphScoped]():    false,
	} {
		if got := ScopeOwned(typ); got != want {
			t.Errorf("ScopeOwned(%v) = %v, want %v", typ, got, want)
		}
	}
}
