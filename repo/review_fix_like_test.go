package repo_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// likeRow is a row of like_rows, for the LIKE family on MySQL.
type likeRow struct {
	ID   int64
	Name string
}

func (likeRow) TableName() string { return "like_rows" }

// TestLikeUnderNoBackslashEscapes runs the LIKE family on MariaDB with and
// without sql_mode's NO_BACKSLASH_ESCAPES (on a one-connection pool, so
// the session's mode holds for every statement): the escape character is a
// backslash in both modes, so %, _ and \ match themselves.
func TestLikeUnderNoBackslashEscapes(t *testing.T) {
	x, _ := testdb.Open(t, testdb.New(t, db.MySQL))
	x.SetMaxOpenConns(1)
	createTable(t, x, db.MySQL, "like_rows", "name VARCHAR(100) NOT NULL")
	rows := mustTable[likeRow](t, db.MySQL)
	name := repo.MustCol(rows, func(r *likeRow) *string { return &r.Name })
	for _, n := range []string{`50%`, `500`, `a_b`, `axb`, `C:\dir`, `C:dir`, `A_B`} {
		must(t, rows.On(x).Create(bg, &likeRow{Name: n}))
	}
	cases := []struct {
		name string
		p    repo.Predicate[likeRow]
		want string
	}{
		{"Like", name.Like(`50%`), `50%`},
		{"Contains", name.Contains(`_`), `A_B,a_b`},
		{"StartsWith", name.StartsWith(`C:\`), `C:\dir`},
		{"EndsWith", name.EndsWith(`\dir`), `C:\dir`},
		{"LikePattern", name.LikePattern(`a\_%`), `A_B,a_b`},
		{"LikePattern backslash", name.LikePattern(`%\\%`), `C:\dir`},
		{"ILike", name.ILike(`A_b`), `A_B,a_b`},
		{"ILikePattern", name.ILikePattern(`c:\\D%`), `C:\dir`},
	}
	for _, mode := range []string{"default", "NO_BACKSLASH_ESCAPES"} {
		if mode != "default" {
			_, err := x.ExecContext(bg, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
			must(t, err)
		}
		for _, c := range cases {
			got, err := rows.On(x).Query().Where(c.p).All(bg)
			if err != nil {
				t.Errorf("%s, %s: %v", mode, c.name, err)
				continue
			}
			names := make([]string, len(got))
			for i, r := range got {
				names[i] = r.Name
			}
			slices.Sort(names)
			if g := strings.Join(names, ","); g != c.want {
				t.Errorf("%s, %s: %s, want %s", mode, c.name, g, c.want)
			}
		}
	}
}
