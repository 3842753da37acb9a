// Package seed runs an application's seeders: functions that put example or
// reference data into the database, registered in an Fx value group by the
// feature modules and run together, in one transaction, by a command such as
// the reference app's `app seed`.
//
//	// in a feature's module:
//	seed.Provide(NewSeeder) // NewSeeder returns a seed.Seeder implementation
//
//	// in the command's Fx app:
//	seed.Module() // provides *seed.Set, the group's seeders by name
//	...
//	ran, err := set.Run(ctx, pool)          // every seeder
//	ran, err := set.Run(ctx, pool, "users") // only users
//
// A run is one unit of work (db.WithTx): when any seeder fails, nothing any
// of them wrote is kept. Seeders run in the order of their names, since an
// Fx value group has no defined order. Seeders should be idempotent, so that
// running them again adds nothing.
package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// Group is the Fx value group that holds the seeders.
const Group = "fasttrack.seeders"

// Seeder puts data into the database.
type Seeder interface {
	// Name identifies the seeder on the command line: unique in the
	// application, not empty, without spaces.
	Name() string
	// Seed writes through q, the run's transaction, and should leave alone
	// what is already there, so that running it twice adds nothing. An error
	// rolls back the whole run, every seeder's work included.
	Seed(ctx context.Context, q db.Querier) error
}

// Provide registers the seeder that ctor builds in the seeders' group. ctor
// is an Fx constructor (its parameters are singletons) returning a Seeder
// implementation, or one and an error. The seeder is built only by the
// commands that take the group.
func Provide(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.As(new(Seeder)), fx.ResultTags(`group:"`+Group+`"`)))
}

// In receives every registered seeder, in no particular order, in an Fx
// constructor or invoke.
type In struct {
	fx.In
	Seeders []Seeder `group:"fasttrack.seeders"`
}

// Module provides the *Set of the seeders registered with Provide. Two
// seeders of one name, or an invalid name, fail the app's construction.
func Module() fx.Option {
	return fx.Module("fasttrack.seed", fx.Provide(func(in In) (*Set, error) { return NewSet(in.Seeders...) }))
}

// Set is an application's seeders, by name.
type Set struct {
	seeders []Seeder // sorted by name
}

// NewSet returns the set of seeders. It fails on a nil seeder, an empty
// name, a name with white space, and two seeders of one name.
func NewSet(seeders ...Seeder) (*Set, error) {
	s := &Set{seeders: slices.Clone(seeders)}
	var errs []error
	for _, sd := range s.seeders {
		if sd == nil {
			return nil, errors.New("seed: nil seeder")
		}
		if n := sd.Name(); n == "" || strings.ContainsFunc(n, unicode.IsSpace) {
			errs = append(errs, fmt.Errorf("seed: seeder %T has the name %q: use a non-empty name without spaces", sd, n))
		}
	}
	slices.SortStableFunc(s.seeders, func(a, b Seeder) int { return strings.Compare(a.Name(), b.Name()) })
	for i := 1; i < len(s.seeders); i++ {
		if a, b := s.seeders[i-1], s.seeders[i]; a.Name() == b.Name() {
			errs = append(errs, fmt.Errorf("seed: two seeders are named %q: %T and %T", a.Name(), a, b))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Names returns the seeders' names, sorted.
func (s *Set) Names() []string {
	names := make([]string, len(s.seeders))
	for i, sd := range s.seeders {
		names[i] = sd.Name()
	}
	return names
}

// Select returns the seeders named, in name order (every seeder when names
// is empty; a name given twice counts once). An unknown name is an error
// that lists the known ones.
func (s *Set) Select(names ...string) ([]Seeder, error) {
	if len(names) == 0 {
		return slices.Clone(s.seeders), nil
	}
	var unknown []string
	for _, n := range names {
		if !slices.ContainsFunc(s.seeders, func(sd Seeder) bool { return sd.Name() == n }) && !slices.Contains(unknown, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		known := "none are registered"
		if len(s.seeders) > 0 {
			known = "known: " + strings.Join(s.Names(), ", ")
		}
		quoted := make([]string, len(unknown))
		for i, n := range unknown {
			quoted[i] = fmt.Sprintf("%q", n)
		}
		word := "seeder"
		if len(unknown) > 1 {
			word = "seeders"
		}
		return nil, fmt.Errorf("seed: unknown %s %s (%s)", word, strings.Join(quoted, ", "), known)
	}
	var out []Seeder
	for _, sd := range s.seeders {
		if slices.Contains(names, sd.Name()) {
			out = append(out, sd)
		}
	}
	return out, nil
}

// Run runs the seeders named (every one when names is empty) in name order,
// in one transaction on x, and returns their names once it has committed.
// When a seeder fails, or the commit does, the transaction is rolled back:
// nothing of any seeder is kept, and no name is returned. An unknown name
// runs nothing.
func (s *Set) Run(ctx context.Context, x *sqlx.DB, names ...string) ([]string, error) {
	seeders, err := s.Select(names...)
	if err != nil {
		return nil, err
	}
	ran := make([]string, 0, len(seeders))
	var failed error
	err = db.WithTx(ctx, x, func(tx *db.Tx) error {
		for _, sd := range seeders {
			if err := sd.Seed(ctx, tx); err != nil {
				failed = fmt.Errorf("seed: %s: %w (rolled back: nothing was seeded)", sd.Name(), err)
				return failed
			}
			ran = append(ran, sd.Name())
		}
		return nil
	})
	switch {
	case failed != nil:
		return nil, failed
	case err != nil:
		return nil, fmt.Errorf("seed: commit: %w (nothing was seeded)", err)
	}
	return ran, nil
}
