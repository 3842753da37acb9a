package requestscope_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/scope"
)

var errWithTxTest = errors.New("the unit of work failed")

// wtxInsert adds item id through q, outside HTTP.
func wtxInsert(ctx context.Context, q db.Querier, id int) error {
	_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO items (id, name) VALUES (?, ?)"), id, "item-"+strconv.Itoa(id))
	return err
}

// wtxRecover runs fn and returns what it panicked with.
func wtxRecover(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// wtxCounts is a snapshot of a pool's counters.
type wtxCounts struct{ begins, statements, commits, rollbacks int64 }

func wtxSnapshot(a *fasttest.App) wtxCounts {
	return wtxCounts{a.Count.Begins.Load(), a.Count.Statements.Load(), a.Count.Commits.Load(), a.Count.Rollbacks.Load()}
}

func TestWithTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		// The app applies the migrations; a.DB is its counting pool
		// (internal/sqlcount), and nothing else uses it here.
		a, _ := start(t, u)
		ctx := context.Background()

		t.Run("commits when fn returns nil", func(t *testing.T) {
			var tx *db.Tx
			err := db.WithTx(ctx, a.DB, func(w *db.Tx) error {
				tx = w
				return wtxInsert(ctx, w, 1)
			})
			if err != nil {
				t.Fatal(err)
			}
			if tx.Outcome() != db.OutcomeCommitted || !rowExists(t, a, 1) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 1))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("rolls back when fn fails", func(t *testing.T) {
			var tx *db.Tx
			err := db.WithTx(ctx, a.DB, func(w *db.Tx) error {
				tx = w
				if err := wtxInsert(ctx, w, 2); err != nil {
					return err
				}
				return errWithTxTest
			})
			if !errors.Is(err, errWithTxTest) {
				t.Fatalf("WithTx returned %v, want fn's error", err)
			}
			if tx.Outcome() != db.OutcomeRolledBack || rowExists(t, a, 2) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 2))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("rolls back when fn panics and panics again", func(t *testing.T) {
			var tx *db.Tx
			p := wtxRecover(func() {
				_ = db.WithTx(ctx, a.DB, func(w *db.Tx) error {
					tx = w
					if err := wtxInsert(ctx, w, 3); err != nil {
						return err
					}
					panic("boom in the unit of work")
				})
			})
			if p != "boom in the unit of work" {
				t.Fatalf("recovered %v, want the unit of work's panic", p)
			}
			if tx.Outcome() != db.OutcomeRolledBack || rowExists(t, a, 3) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 3))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("SetRollbackOnly rolls back", func(t *testing.T) {
			var tx *db.Tx
			err := db.WithTx(ctx, a.DB, func(w *db.Tx) error {
				tx = w
				if err := wtxInsert(ctx, w, 4); err != nil {
					return err
				}
				w.SetRollbackOnly()
				return nil
			})
			if err != nil {
				t.Fatalf("WithTx returned %v for a rollback-only unit of work", err)
			}
			if tx.Outcome() != db.OutcomeRolledBack || rowExists(t, a, 4) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 4))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("AfterCommit runs after a commit only", func(t *testing.T) {
			var mu sync.Mutex
			var ran []string
			hook := func(tx *db.Tx, name string, id int) {
				tx.AfterCommit(func(ctx context.Context) {
					// Outside the transaction: the pool sees the row.
					var n int
					if err := a.DB.GetContext(ctx, &n, a.DB.Rebind("SELECT COUNT(*) FROM items WHERE id = ?"), id); err != nil {
						t.Error(err)
					}
					mu.Lock()
					ran = append(ran, name+":"+strconv.Itoa(n))
					mu.Unlock()
				})
			}
			if err := db.WithTx(ctx, a.DB, func(tx *db.Tx) error {
				if err := wtxInsert(ctx, tx, 5); err != nil {
					return err
				}
				hook(tx, "committed", 5)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			_ = db.WithTx(ctx, a.DB, func(tx *db.Tx) error {
				if err := wtxInsert(ctx, tx, 6); err != nil {
					return err
				}
				hook(tx, "failed", 6)
				return errWithTxTest
			})
			_ = db.WithTx(ctx, a.DB, func(tx *db.Tx) error {
				if err := wtxInsert(ctx, tx, 7); err != nil {
					return err
				}
				hook(tx, "rollback-only", 7)
				tx.SetRollbackOnly()
				return nil
			})
			_ = wtxRecover(func() {
				_ = db.WithTx(ctx, a.DB, func(tx *db.Tx) error {
					if err := wtxInsert(ctx, tx, 8); err != nil {
						return err
					}
					hook(tx, "panicked", 8)
					panic("boom")
				})
			})
			mu.Lock()
			got := slices.Clone(ran)
			mu.Unlock()
			// The hook ran before WithTx returned, once, and saw the row.
			if !slices.Equal(got, []string{"committed:1"}) {
				t.Fatalf("hooks ran: %v, want [committed:1]", got)
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("no statement sends no BEGIN", func(t *testing.T) {
			before := wtxSnapshot(a)
			var tx *db.Tx
			if err := db.WithTx(ctx, a.DB, func(w *db.Tx) error {
				tx = w
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := db.WithTx(ctx, a.DB, func(w *db.Tx) error { return errWithTxTest }); !errors.Is(err, errWithTxTest) {
				t.Fatalf("WithTx returned %v", err)
			}
			if got := wtxSnapshot(a); got != before {
				t.Fatalf("counts went from %+v to %+v for units of work without a statement", before, got)
			}
			if tx.Outcome() != db.OutcomeNone || tx.Begun() {
				t.Fatalf("outcome %v, begun %v", tx.Outcome(), tx.Begun())
			}
			a.RequireNoConnInUse(t)
		})
	})
}

// wtxRepo is a scoped repository on the scope's transaction.
type wtxRepo struct{ q db.Querier }

func (r *wtxRepo) add(ctx context.Context, id int) error { return wtxInsert(ctx, r.q, id) }

// wtxRegistry builds a registry like the app's — the framework's
// transaction providers on pool x — with a scoped *wtxRepo.
func wtxRegistry(t *testing.T, a *fasttest.App) *scope.Registry {
	t.Helper()
	reg := scope.NewRegistry()
	for _, p := range api.TxProviders(db.PrimaryOnly(a.DB, a.Dialect), nil, nil) {
		if err := reg.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := scope.NewProvider(scope.Scoped, func(q db.Querier) *wtxRepo { return &wtxRepo{q: q} })
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(repo); err != nil {
		t.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// wtxUnit resolves the scope's repository and transaction, adds item id,
// and reports the transaction.
func wtxUnit(s *scope.Scope, id int, tx **db.Tx) error {
	repo, err := scope.Get[*wtxRepo](s)
	if err != nil {
		return err
	}
	if *tx, err = scope.Get[*db.Tx](s); err != nil {
		return err
	}
	if repo.q != db.Querier(*tx) {
		return errors.New("the repository is not on the scope's transaction")
	}
	return repo.add(s.Context(), id)
}

func TestRegistryRunOutsideHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		reg := wtxRegistry(t, a)
		ctx := context.Background()

		t.Run("commits when fn returns nil", func(t *testing.T) {
			var tx *db.Tx
			if err := reg.Run(ctx, func(s *scope.Scope) error { return wtxUnit(s, 1, &tx) }); err != nil {
				t.Fatal(err)
			}
			if tx.Outcome() != db.OutcomeCommitted || !rowExists(t, a, 1) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 1))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("rolls back when fn fails", func(t *testing.T) {
			var tx *db.Tx
			err := reg.Run(ctx, func(s *scope.Scope) error {
				if err := wtxUnit(s, 2, &tx); err != nil {
					return err
				}
				return errWithTxTest
			})
			if !errors.Is(err, errWithTxTest) {
				t.Fatalf("Run returned %v, want fn's error", err)
			}
			if tx.Outcome() != db.OutcomeRolledBack || rowExists(t, a, 2) {
				t.Fatalf("outcome %v, row exists %v", tx.Outcome(), rowExists(t, a, 2))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("rolls back when fn panics", func(t *testing.T) {
			var tx *db.Tx
			p := wtxRecover(func() {
				_ = reg.Run(ctx, func(s *scope.Scope) error {
					if err := wtxUnit(s, 3, &tx); err != nil {
						return err
					}
					panic("boom in the scope")
				})
			})
			if p != "boom in the scope" {
				t.Fatalf("recovered %v", p)
			}
			if tx == nil || tx.Outcome() != db.OutcomeRolledBack || rowExists(t, a, 3) {
				t.Fatalf("tx %v, row exists %v", tx, rowExists(t, a, 3))
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("each run has its own instances", func(t *testing.T) {
			var first, second *wtxRepo
			for _, dst := range []**wtxRepo{&first, &second} {
				if err := reg.Run(ctx, func(s *scope.Scope) error {
					var err error
					*dst, err = scope.Get[*wtxRepo](s)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			if first == nil || first == second {
				t.Fatalf("two runs share one scoped repository: %p %p", first, second)
			}
			a.RequireNoConnInUse(t)
		})

		t.Run("a run without a statement sends no BEGIN", func(t *testing.T) {
			before := wtxSnapshot(a)
			if err := reg.Run(ctx, func(s *scope.Scope) error {
				_, err := scope.Get[*wtxRepo](s)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got := wtxSnapshot(a); got != before {
				t.Fatalf("counts went from %+v to %+v", before, got)
			}
			a.RequireNoConnInUse(t)
		})
	})
}
