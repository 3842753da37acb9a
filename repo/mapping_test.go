package repo_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

type base struct {
	ID int64
}

// Extra is embedded through a pointer.
type Extra struct {
	Note *string
}

// Account maps through every rule: an unexported embedded struct, snake_case
// names, a tag with options, skipped fields, timestamps and an embedded
// pointer.
type Account struct {
	base
	FullName string
	HTTPCode int
	Email    string `db:"mail,omitempty"`
	Secret   string `db:"-"`
	internal int
	repo.Timestamps
	*Extra
}

type Box[V any] struct {
	ID int
	V  V
}

func TestMapping(t *testing.T) {
	accounts := mustTable[Account](t, db.Postgres)
	want := []string{"id", "full_name", "http_code", "mail", "created_at", "updated_at", "note"}
	if got := accounts.Columns(); !slices.Equal(got, want) {
		t.Fatalf("Columns() = %q, want %q", got, want)
	}
	if accounts.Name() != "account" || accounts.QuotedName() != `"account"` || accounts.Dialect() != db.Postgres {
		t.Fatalf("Name %q, QuotedName %q, Dialect %q", accounts.Name(), accounts.QuotedName(), accounts.Dialect())
	}
	if !accounts.HasColumn("full_name") || accounts.HasColumn("FullName") || accounts.HasColumn("secret") || accounts.HasColumn("internal") {
		t.Fatal("HasColumn")
	}
	if !accounts.Timestamped() || accounts.SoftDeletes() || accounts.Versioned() {
		t.Fatal("embedded features")
	}
	if got := accounts.SelectList(); got != `"id", "full_name", "http_code", "mail", "created_at", "updated_at", "note"` {
		t.Fatalf("SelectList() = %s", got)
	}
	cols := accounts.Columns()
	cols[0] = "changed"
	if accounts.Columns()[0] != "id" {
		t.Fatal("Columns() shares its slice")
	}

	if n := mustTable[User](t, db.MySQL).Name(); n != "users" {
		t.Fatalf("value-receiver TableName: %q", n)
	}
	if n := mustTable[Order](t, db.MySQL).QuotedName(); n != "`order`" {
		t.Fatalf("pointer-receiver TableName: %q", n)
	}
	if n := mustTable[Box[string]](t, db.SQLite).Name(); n != "box" {
		t.Fatalf("generic type name: %q", n)
	}
	if n := mustTable[schemaQualified](t, db.Postgres).QuotedName(); n != `"app"."user ""x"""` {
		t.Fatalf("schema-qualified: %s", n)
	}
	type OrderLine struct {
		ID  int32
		Qty int
	}
	if n := mustTable[OrderLine](t, db.SQLite).Name(); n != "order_line" {
		t.Fatalf("snake_case type name: %q", n)
	}
}

type schemaQualified struct {
	ID int64
	X  int
}

func (schemaQualified) TableName() string { return `app.user "x"` }

type noID struct{ Name string }
type stringID struct {
	ID   string
	Name string
}
type onlyID struct{ ID int64 }
type dupCols struct {
	ID int64
	A  string `db:"x"`
	B  string `db:"x"`
}
type dupEmbedded struct {
	ID        int64
	CreatedAt string
	repo.Timestamps
}
type taggedEmbed struct {
	ID              int64
	repo.Timestamps `db:"ts"`
}
type badName struct {
	ID int64
	X  int
}

func (badName) TableName() string { return "a..b" }

func TestNewTableErrors(t *testing.T) {
	cases := map[string]error{}
	_, cases["int"] = repo.NewTable[int](db.SQLite)
	_, cases["pointer"] = repo.NewTable[*User](db.SQLite)
	_, cases["no id"] = repo.NewTable[noID](db.SQLite)
	_, cases["string id"] = repo.NewTable[stringID](db.SQLite)
	_, cases["only id"] = repo.NewTable[onlyID](db.SQLite)
	_, cases["duplicate"] = repo.NewTable[dupCols](db.SQLite)
	_, cases["duplicate through embedding"] = repo.NewTable[dupEmbedded](db.SQLite)
	_, cases["tagged embed"] = repo.NewTable[taggedEmbed](db.SQLite)
	_, cases["unnamed"] = repo.NewTable[struct {
		ID int64
		X  int
	}](db.SQLite)
	_, cases["bad name"] = repo.NewTable[badName](db.SQLite)
	_, cases["dialect"] = repo.NewTable[User](db.Dialect("oracle"))
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "repo: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMappingRoundTrip stores and loads Account on every database: the
// embedded pointer is NULL when nil and allocated when loaded.
func TestMappingRoundTrip(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "account", "full_name VARCHAR(50) NOT NULL", "http_code INT NOT NULL", "mail VARCHAR(50) NOT NULL",
			"created_at {ts} NOT NULL", "updated_at {ts} NOT NULL", "note VARCHAR(50) NULL")
		r := mustTable[Account](t, d).On(x)
		a := &Account{FullName: "Ada", HTTPCode: 418, Email: "a@x", Secret: "s"}
		must(t, r.Create(bg, a))
		b := &Account{FullName: "Bob", HTTPCode: 200, Email: "b@x", Extra: &Extra{Note: ptr("hi")}}
		must(t, r.Create(bg, b))
		got, err := r.FindOrFail(bg, a.ID)
		must(t, err)
		if got.FullName != "Ada" || got.HTTPCode != 418 || got.Email != "a@x" || got.Secret != "" || got.Extra == nil || got.Note != nil {
			t.Fatalf("got %+v", got)
		}
		got, err = r.FindOrFail(bg, b.ID)
		must(t, err)
		if got.Note == nil || *got.Note != "hi" {
			t.Fatalf("got %+v", got)
		}
		list, err := r.FindBy(bg, "http_code", 418)
		must(t, err)
		if len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("FindBy = %+v", list)
		}
		if _, err := r.FindBy(bg, "HTTPCode", 418); !errors.Is(err, repo.ErrInvalidQuery) {
			t.Fatalf("FindBy on a field name: %v", err)
		}
	})
}
