package repo_test

import (
	"fmt"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestRelationStitchDuplicateRows loads a has-many relation into a list
// that holds the same author twice: each holder gets the author's rows in
// the relation's order, and no two holders share them, nor can an append
// to one reach another author's rows.
func TestRelationStitchDuplicateRows(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		all, err := r.authors.On(r.x).Query().All(bg)
		must(t, err)
		m := byName(all)
		list := []Author{*m["ada"], *m["bob"], *m["ada"], *m["cyd"]}
		// By rank: a2 (ada, 1), a3 (bob, 1), a1 (ada, 2): ada's rows are not together in the result.
		must(t, repo.LoadMissing(bg, r.x, list, r.authorArticles.OrderBy(r.artRank.Asc())))
		want := []string{"a2,a1", "a3", "a2,a1", ""}
		got := make([][]Article, len(list))
		for i := range list {
			arts, err := list[i].Articles.Get()
			must(t, err)
			if titles(arts) != want[i] {
				t.Errorf("row %d (%s): %s, want %s", i, list[i].Name, titles(arts), want[i])
			}
			if cap(arts) != len(arts) {
				t.Errorf("row %d (%s): capacity %d, length %d", i, list[i].Name, cap(arts), len(arts))
			}
			got[i] = arts
		}
		got[0][0].Title = "changed"
		if got[2][0].Title != "a2" {
			t.Errorf("ada's second holder shares the first's rows: %s", titles(got[2]))
		}
		_ = append(got[0], Article{Title: "appended"})
		_ = append(got[3], Article{Title: "appended"})
		for i, name := range []string{"a3", "a2,a1"} {
			if g := titles(got[i+1]); g != name {
				t.Errorf("after appends, row %d: %s, want %s", i+1, g, name)
			}
		}
	})
}

// TestRelationStitchOneShared loads a belongs-to relation: articles of the
// same author point to the same row, an article whose author is deleted
// to none.
func TestRelationStitchOneShared(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		list, err := r.articles.On(r.x).Query().With(r.articleAuthor).All(bg)
		must(t, err)
		by := map[string]*repo.One[Author]{}
		for i := range list {
			by[list[i].Title] = &list[i].Author
		}
		a1, err := by["a1"].Get()
		must(t, err)
		a2, err := by["a2"].Get()
		must(t, err)
		if a1 == nil || a1 != a2 || a1.Name != "ada" {
			t.Errorf("a1's author %v and a2's %v: want the same ada", a1, a2)
		}
		if a3, err := by["a3"].Get(); err != nil || a3 == nil || a3.Name != "bob" {
			t.Errorf("a3's author = %v, %v", a3, err)
		}
		for _, n := range []string{"a5", "a6"} {
			if au, err := by[n].Get(); err != nil || au != nil {
				t.Errorf("%s's author = %v, %v, want none", n, au, err)
			}
		}
	})
}

// TestRelationStitchHasOneFirst loads a has-one relation of an author
// with two profiles: the author holds the first in the relation's order.
func TestRelationStitchHasOneFirst(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		extra := &Profile{AuthorID: r.ids["ada"], Bio: "ada's 2nd bio"}
		must(t, r.profiles.On(r.x).Create(bg, extra))
		bio := repo.MustCol(r.profiles, func(p *Profile) *string { return &p.Bio })
		for _, tc := range []struct {
			rel  repo.Relation[Author, Profile]
			want string
		}{
			{r.authorProfile, "ada's bio"},
			{r.authorProfile.OrderBy(bio.Asc()), "ada's 2nd bio"},
		} {
			list, err := r.authors.On(r.x).Query().With(tc.rel).All(bg)
			must(t, err)
			p, err := byName(list)["ada"].Profile.Get()
			if err != nil || p == nil || p.Bio != tc.want {
				t.Errorf("ada's profile = %v, %v, want %q", p, err, tc.want)
			}
		}
	})
}

// Memo has lines whose columns are behind an embedded pointer and in an
// embedded struct.
type Memo struct {
	ID    int64
	Title string
	Lines repo.Many[MemoLine]
}

func (Memo) TableName() string { return "memos" }

// MemoLine is a line of a Memo.
type MemoLine struct {
	ID     int64
	MemoID int64
	*LineText
	LinePos
}

func (MemoLine) TableName() string { return "memo_lines" }

// LineText is embedded in MemoLine by pointer.
type LineText struct{ Text string }

// LinePos is embedded in MemoLine by value.
type LinePos struct{ Pos int }

// TestRelationScanEmbedded loads related rows whose fields are in embedded
// structs, by value and through a pointer the scan allocates.
func TestRelationScanEmbedded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		r := openRels(t, d, u)
		createTable(t, r.x, d, "memos", "title VARCHAR(100) NOT NULL")
		createTable(t, r.x, d, "memo_lines", "memo_id BIGINT NOT NULL", "text VARCHAR(100) NOT NULL", "pos INT NOT NULL")
		memos := mustTable[Memo](t, d)
		lines := mustTable[MemoLine](t, d)
		memoLines := repo.HasMany(memos, lines, repo.MustCol(lines, func(l *MemoLine) *int64 { return &l.MemoID }),
			func(m *Memo) *repo.Many[MemoLine] { return &m.Lines })
		must(t, memoLines.Err())
		for _, title := range []string{"m1", "m2"} {
			m := &Memo{Title: title}
			must(t, memos.On(r.x).Create(bg, m))
			for i := range 2 {
				l := &MemoLine{MemoID: m.ID, LineText: &LineText{Text: title + "-" + string(rune('a'+i))}, LinePos: LinePos{Pos: 10 + i}}
				must(t, lines.On(r.x).Create(bg, l))
			}
		}
		got, err := memos.On(r.x).Query().With(memoLines).All(bg)
		must(t, err)
		for _, m := range got {
			ls, err := m.Lines.Get()
			must(t, err)
			if len(ls) != 2 {
				t.Fatalf("%s: %d lines, want 2", m.Title, len(ls))
			}
			for i, l := range ls {
				if l.MemoID != m.ID || l.LineText == nil || l.Text != m.Title+"-"+string(rune('a'+i)) || l.Pos != 10+i {
					t.Errorf("%s line %d = %+v (text %v)", m.Title, i, l, l.LineText)
				}
			}
		}
	})
}

// BenchmarkRelationLoad loads 100 memos with 10 lines each from SQLite,
// the stitching of a has-many relation.
func BenchmarkRelationLoad(b *testing.B) {
	x, d := testdb.Open(b, testdb.New(b, db.SQLite))
	createTable(b, x, d, "memos", "title VARCHAR(100) NOT NULL")
	createTable(b, x, d, "memo_lines", "memo_id BIGINT NOT NULL", "text VARCHAR(100) NOT NULL", "pos INT NOT NULL")
	memos := mustTable[Memo](b, d)
	lines := mustTable[MemoLine](b, d)
	memoLines := repo.HasMany(memos, lines, repo.MustCol(lines, func(l *MemoLine) *int64 { return &l.MemoID }),
		func(m *Memo) *repo.Many[MemoLine] { return &m.Lines })
	must(b, memoLines.Err())
	for m := range 100 {
		_, err := x.ExecContext(bg, fmt.Sprintf("INSERT INTO memos (id, title) VALUES (%d, 'm%d')", m+1, m+1))
		must(b, err)
		for l := range 10 {
			_, err := x.ExecContext(bg, fmt.Sprintf("INSERT INTO memo_lines (memo_id, text, pos) VALUES (%d, 'line %d', %d)", m+1, l, l))
			must(b, err)
		}
	}
	q := memos.On(x).Query().With(memoLines)
	b.ReportAllocs()
	for b.Loop() {
		got, err := q.All(bg)
		must(b, err)
		if ls, err := got[99].Lines.Get(); err != nil || len(ls) != 10 {
			b.Fatalf("memo 100: %d lines, %v", len(ls), err)
		}
	}
}
