package factory_test

import (
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

func TestCreate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, table := setup(t, d, u)
		f := accounts()
		got, err := f.Create(bg, table, x, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("Create(3) returned %d values", len(got))
		}
		if n := countAccounts(t, x); n != 3 {
			t.Fatalf("Create(3) left %d rows", n)
		}
		r := table.On(x)
		ids := map[int64]bool{}
		for i, a := range got {
			if a.ID <= 0 || ids[a.ID] {
				t.Fatalf("value %d has id %d (ids so far %v)", i, a.ID, ids)
			}
			ids[a.ID] = true
			if a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
				t.Fatalf("value %d has no timestamps: %+v", i, a)
			}
			if seqOf(t, a) != i+1 {
				t.Fatalf("value %d built from sequence %d", i, seqOf(t, a))
			}
			row, err := r.FindOrFail(bg, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAccount(*row, a) {
				t.Fatalf("row %d reads back as %+v, Create returned %+v", a.ID, *row, a)
			}
		}

		one, err := f.With(func(a *Account) { a.Active = false }).CreateOne(bg, table, x)
		if err != nil {
			t.Fatal(err)
		}
		if one.ID <= 0 || ids[one.ID] || seqOf(t, one) != 4 || one.Active {
			t.Fatalf("CreateOne = %+v", one)
		}
		row, err := r.FindOrFail(bg, one.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameAccount(*row, one) {
			t.Fatalf("CreateOne's row reads back as %+v, want %+v", *row, one)
		}

		if none, err := f.Create(bg, table, x, 0); err != nil || len(none) != 0 {
			t.Fatalf("Create(0) = %v, %v", none, err)
		}
		if _, err := f.Create(bg, table, x, -1); err == nil {
			t.Fatal("Create(-1): no error")
		}
		if n := countAccounts(t, x); n != 4 {
			t.Fatalf("%d rows at the end, want 4", n)
		}
	})
}

func TestCreateRollsBackWithTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, table := setup(t, d, u)
		f := accounts()
		errStop := errors.New("stop")
		var inside int
		err := db.WithTx(bg, x, func(tx *db.Tx) error {
			if _, err := f.Create(bg, table, tx, 3); err != nil {
				return err
			}
			if _, err := f.CreateOne(bg, table, tx); err != nil {
				return err
			}
			if !tx.Begun() {
				return errors.New("Create did not run in the transaction")
			}
			var err error
			if err = tx.GetContext(bg, &inside, "SELECT COUNT(*) FROM accounts"); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("WithTx: %v", err)
		}
		if inside != 4 {
			t.Fatalf("the transaction saw %d rows, want 4", inside)
		}
		if n := countAccounts(t, x); n != 0 {
			t.Fatalf("%d rows left after the rollback", n)
		}

		// The same work committed stays.
		err = db.WithTx(bg, x, func(tx *db.Tx) error {
			_, err := f.Create(bg, table, tx, 2)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := countAccounts(t, x); n != 2 {
			t.Fatalf("%d rows after the commit, want 2", n)
		}
	})
}

func TestCreateConflict(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, table := setup(t, d, u)
		same := accounts().With(func(a *Account) { a.Email = "same@example.com" })
		if _, err := same.CreateOne(bg, table, x); err != nil {
			t.Fatal(err)
		}
		one, err := same.CreateOne(bg, table, x)
		if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("CreateOne of a taken email: %v", err)
		}
		if one != (Account{}) {
			t.Fatalf("CreateOne returned %+v with its error", one)
		}
		// Two equal values in one Create: nothing is inserted.
		vs, err := accounts().With(func(a *Account) { a.Email = "twice@example.com" }).Create(bg, table, x, 2)
		if !errors.Is(err, repo.ErrConflict) {
			t.Fatalf("Create of two equal emails: %v", err)
		}
		if vs != nil {
			t.Fatalf("Create returned %v with its error", vs)
		}
		if n := countAccounts(t, x); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
	})
}
