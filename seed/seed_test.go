package seed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// noteSeeder inserts one row of notes, its name, and records that it ran.
type noteSeeder struct {
	name string
	fail error // returned after the insert, when set
	log  *runLog
}

// runLog records the order seeders ran in.
type runLog struct {
	mu  sync.Mutex
	ran []string
}

func (l *runLog) add(name string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ran = append(l.ran, name)
}

func (l *runLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ran)
}

func (s *noteSeeder) Name() string { return s.name }

func (s *noteSeeder) Seed(ctx context.Context, q db.Querier) error {
	s.log.add(s.name)
	if _, err := q.ExecContext(ctx, q.Rebind("INSERT INTO notes (name) VALUES (?)"), s.name); err != nil {
		return err
	}
	return s.fail
}

// notesDB opens the fresh database at url and creates a notes table.
func notesDB(t *testing.T, url string) *sqlx.DB {
	t.Helper()
	x, _ := testdb.Open(t, url)
	if _, err := x.Exec("CREATE TABLE notes (name VARCHAR(100) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return x
}

func notes(t *testing.T, x *sqlx.DB) []string {
	t.Helper()
	var names []string
	if err := x.Select(&names, "SELECT name FROM notes ORDER BY name"); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestNewSetRejectsBadSeeders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seeders []seed.Seeder
		wantIn  []string
	}{
		{"nil seeder", []seed.Seeder{nil}, []string{"nil seeder"}},
		{"empty name", []seed.Seeder{&noteSeeder{name: ""}}, []string{`""`, "non-empty"}},
		{"name with a space", []seed.Seeder{&noteSeeder{name: "two words"}}, []string{`"two words"`}},
		{"two of one name", []seed.Seeder{&noteSeeder{name: "a"}, &noteSeeder{name: "b"}, &noteSeeder{name: "a"}}, []string{`two seeders are named "a"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := seed.NewSet(tc.seeders...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestSelect(t *testing.T) {
	set, err := seed.NewSet(&noteSeeder{name: "c"}, &noteSeeder{name: "a"}, &noteSeeder{name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Names() = %v, want them sorted", got)
	}
	for _, tc := range []struct {
		names   []string
		want    []string
		wantErr string
	}{
		{nil, []string{"a", "b", "c"}, ""},
		{[]string{"b"}, []string{"b"}, ""},
		{[]string{"c", "a", "c"}, []string{"a", "c"}, ""},
		{[]string{"x"}, nil, `seed: unknown seeder "x" (known: a, b, c)`},
		{[]string{"a", "x", "y", "x"}, nil, `seed: unknown seeders "x", "y" (known: a, b, c)`},
	} {
		t.Run(fmt.Sprint(tc.names), func(t *testing.T) {
			got, err := set.Select(tc.names...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name())
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("selected %v, want %v", names, tc.want)
			}
		})
	}
	empty, err := seed.NewSet()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Select("x"); err == nil || !strings.Contains(err.Error(), "none are registered") {
		t.Errorf("unknown name without seeders: %v", err)
	}
}

// TestRun runs seeders in one transaction on each database: in name order,
// only the named ones, and nothing kept when one fails.
func TestRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, _ db.Dialect, url string) {
		x := notesDB(t, url)
		ctx := context.Background()
		reset := func(t *testing.T) {
			t.Helper()
			if _, err := x.Exec("DELETE FROM notes"); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("all, in name order", func(t *testing.T) {
			reset(t)
			log := &runLog{}
			set, err := seed.NewSet(&noteSeeder{name: "b", log: log}, &noteSeeder{name: "a", log: log})
			if err != nil {
				t.Fatal(err)
			}
			ran, err := set.Run(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ran, []string{"a", "b"}) || !slices.Equal(log.names(), []string{"a", "b"}) {
				t.Errorf("ran %v (log %v), want a then b", ran, log.names())
			}
			if got := notes(t, x); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("rows %v", got)
			}
		})
		t.Run("one by name", func(t *testing.T) {
			reset(t)
			log := &runLog{}
			set, err := seed.NewSet(&noteSeeder{name: "b", log: log}, &noteSeeder{name: "a", log: log})
			if err != nil {
				t.Fatal(err)
			}
			ran, err := set.Run(ctx, x, "b")
			if err != nil || !slices.Equal(ran, []string{"b"}) || !slices.Equal(log.names(), []string{"b"}) {
				t.Fatalf("ran %v (log %v), %v; want b only", ran, log.names(), err)
			}
			if got := notes(t, x); !slices.Equal(got, []string{"b"}) {
				t.Errorf("rows %v", got)
			}
		})
		t.Run("unknown name runs nothing", func(t *testing.T) {
			reset(t)
			log := &runLog{}
			set, err := seed.NewSet(&noteSeeder{name: "a", log: log})
			if err != nil {
				t.Fatal(err)
			}
			ran, err := set.Run(ctx, x, "a", "nope")
			if err == nil || !strings.Contains(err.Error(), `"nope"`) || ran != nil || len(log.names()) != 0 {
				t.Fatalf("ran %v (log %v), %v", ran, log.names(), err)
			}
		})
		t.Run("a failure keeps nothing of any seeder", func(t *testing.T) {
			reset(t)
			boom := errors.New("boom")
			log := &runLog{}
			set, err := seed.NewSet(
				&noteSeeder{name: "a", log: log},
				&noteSeeder{name: "b", log: log, fail: boom},
				&noteSeeder{name: "c", log: log},
			)
			if err != nil {
				t.Fatal(err)
			}
			ran, err := set.Run(ctx, x)
			if !errors.Is(err, boom) || ran != nil {
				t.Fatalf("ran %v, %v; want the error of b", ran, err)
			}
			for _, want := range []string{"seed: b: boom", "nothing was seeded"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if !slices.Equal(log.names(), []string{"a", "b"}) {
				t.Errorf("ran %v, want a, b and not c", log.names())
			}
			if got := notes(t, x); len(got) != 0 {
				t.Errorf("rows %v kept after a failed run", got)
			}
		})
		t.Run("a canceled context commits nothing", func(t *testing.T) {
			reset(t)
			set, err := seed.NewSet(&noteSeeder{name: "a"})
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if ran, err := set.Run(cctx, x); err == nil || ran != nil {
				t.Fatalf("ran %v, %v on a canceled context", ran, err)
			}
			if got := notes(t, x); len(got) != 0 {
				t.Errorf("rows %v", got)
			}
		})
	})
}

// newInterfaceSeeder returns a seeder as the interface, with an error.
func newInterfaceSeeder() (seed.Seeder, error) { return &noteSeeder{name: "iface"}, nil }

// TestProvideAndModule: seeders given to Fx with seed.Provide, from
// constructors returning a concrete type or the interface, make the Set;
// two of one name fail the app.
func TestProvideAndModule(t *testing.T) {
	var set *seed.Set
	app := fx.New(fx.NopLogger,
		seed.Provide(func() *noteSeeder { return &noteSeeder{name: "zeta"} }),
		seed.Provide(newInterfaceSeeder),
		seed.Provide(func() (*noteSeeder, error) { return &noteSeeder{name: "alpha"}, nil }),
		seed.Module(),
		fx.Populate(&set),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if got := set.Names(); !slices.Equal(got, []string{"alpha", "iface", "zeta"}) {
		t.Errorf("Names() = %v", got)
	}

	app = fx.New(fx.NopLogger,
		seed.Provide(func() *noteSeeder { return &noteSeeder{name: "dup"} }),
		seed.Provide(func() seed.Seeder { return &noteSeeder{name: "dup"} }),
		seed.Module(),
		fx.Populate(&set),
	)
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), `two seeders are named "dup"`) {
		t.Errorf("two seeders of one name: %v", err)
	}

	app = fx.New(fx.NopLogger, seed.Module(), fx.Populate(&set))
	if err := app.Err(); err != nil || len(set.Names()) != 0 {
		t.Errorf("no seeders: %v, %v", set.Names(), err)
	}
}
