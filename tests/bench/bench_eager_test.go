package bench

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
)

// The eager-load data set: eagerUsers users with eagerPostsPer posts each,
// each post with eagerTagsPer tags taken from a pool of eagerTagPool.
const (
	eagerUsers    = 100
	eagerPostsPer = 10
	eagerTagsPer  = 3
	eagerTagPool  = 50
	eagerPosts    = eagerUsers * eagerPostsPer
)

// eagerTagsOf returns the ids of post p's tags: three distinct ids of the
// pool, a different mix for neighbouring posts.
func eagerTagsOf(p int64) [eagerTagsPer]int64 {
	b := p * 7
	return [eagerTagsPer]int64{b%eagerTagPool + 1, (b+13)%eagerTagPool + 1, (b+29)%eagerTagPool + 1}
}

// eagerTag, eagerPost and eagerUser are the library-neutral form of a
// result, to which each library's rows are converted before the loop to
// prove that every library loaded the same data.
type (
	eagerTag struct {
		ID   int64
		Name string
	}
	eagerPost struct {
		ID, UserID int64
		Title      string
		Tags       []eagerTag
	}
	eagerUser struct {
		ID          int64
		Name, Email string
		Posts       []eagerPost
	}
)

// canonical sorts each user's posts and each post's tags by id: the
// libraries need not agree on the order of related rows, only on the rows.
func canonical(us []eagerUser) []eagerUser {
	for i := range us {
		slices.SortFunc(us[i].Posts, func(a, b eagerPost) int { return int(a.ID - b.ID) })
		for j := range us[i].Posts {
			slices.SortFunc(us[i].Posts[j].Tags, func(a, b eagerTag) int { return int(a.ID - b.ID) })
		}
	}
	return us
}

// eagerWant is the data set as seeded, users in id order.
func eagerWant() []eagerUser {
	us := make([]eagerUser, eagerUsers)
	for u := range us {
		id := int64(u + 1)
		us[u] = eagerUser{ID: id, Name: fmt.Sprintf("User %d", id), Email: fmt.Sprintf("user%d@example.com", id)}
		for k := range eagerPostsPer {
			p := int64(u*eagerPostsPer + k + 1)
			post := eagerPost{ID: p, UserID: id, Title: fmt.Sprintf("Post %d", p)}
			for _, t := range eagerTagsOf(p) {
				post.Tags = append(post.Tags, eagerTag{ID: t, Name: fmt.Sprintf("tag-%d", t)})
			}
			us[u].Posts = append(us[u].Posts, post)
		}
	}
	return canonical(us)
}

// eagerDB returns a counting pool, at the default limits, on a new database
// of dialect d holding the data set (skipping when d's server URL is
// unset), and its counter.
func eagerDB(b *testing.B, d db.Dialect) (*sqlx.DB, *sqlcount.Counter) {
	b.Helper()
	x, n, err := sqlcount.Open(testdb.New(b, d))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = x.Close() })
	x.SetMaxOpenConns(db.DefaultMaxOpenConns)
	x.SetMaxIdleConns(db.DefaultMaxIdleConns)
	x.SetConnMaxLifetime(db.DefaultConnMaxLifetime)
	x.SetConnMaxIdleTime(db.DefaultConnMaxIdleTime)
	if err := seedEager(context.Background(), x, d); err != nil {
		b.Fatal(err)
	}
	return x, n
}

// seedEager creates users, posts, tags and post_tags and fills them with
// the data set, with literal values (all of them made here).
func seedEager(ctx context.Context, x *sqlx.DB, d db.Dialect) error {
	key := "BIGINT PRIMARY KEY"
	if d == db.SQLite {
		key = "INTEGER PRIMARY KEY"
	}
	var s strings.Builder
	rows := func(table string, n int, row func(i int) string) string {
		s.Reset()
		s.WriteString("INSERT INTO " + table + " VALUES ")
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			s.WriteString(row(i))
		}
		return s.String()
	}
	stmts := []string{
		"CREATE TABLE users (id " + key + ", name TEXT NOT NULL, email TEXT NOT NULL)",
		"CREATE TABLE posts (id " + key + ", user_id BIGINT NOT NULL REFERENCES users (id), title TEXT NOT NULL)",
		"CREATE INDEX posts_user_id ON posts (user_id)",
		"CREATE TABLE tags (id " + key + ", name TEXT NOT NULL)",
		"CREATE TABLE post_tags (post_id BIGINT NOT NULL REFERENCES posts (id), tag_id BIGINT NOT NULL REFERENCES tags (id), PRIMARY KEY (post_id, tag_id))",
		"CREATE INDEX post_tags_tag_id ON post_tags (tag_id)",
		rows("users", eagerUsers, func(i int) string {
			return fmt.Sprintf("(%d, 'User %d', 'user%d@example.com')", i+1, i+1, i+1)
		}),
		rows("posts", eagerPosts, func(i int) string {
			return fmt.Sprintf("(%d, %d, 'Post %d')", i+1, i/eagerPostsPer+1, i+1)
		}),
		rows("tags", eagerTagPool, func(i int) string { return fmt.Sprintf("(%d, 'tag-%d')", i+1, i+1) }),
		rows("post_tags", eagerPosts*eagerTagsPer, func(i int) string {
			p := int64(i/eagerTagsPer + 1)
			return fmt.Sprintf("(%d, %d)", p, eagerTagsOf(p)[i%eagerTagsPer])
		}),
		"ANALYZE",
	}
	for _, q := range stmts {
		if _, err := x.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed: %.60s: %w", q, err)
		}
	}
	return nil
}

// eagerSide is one library's way to load the users with their posts and
// the posts' tags.
type eagerSide struct {
	name string
	// load loads everything and returns the numbers of users and posts.
	load func(ctx context.Context) (users, posts int, err error)
	// result loads everything and returns it in the neutral form.
	result func(ctx context.Context) ([]eagerUser, error)
}

// newSide makes an eagerSide of a loader of []T, a conversion of its rows
// to the neutral form (for the check before the loop) and a count of the
// posts its rows hold (for the check of each iteration, cheap beside the
// load): both checks run the same loader.
func newSide[T any](name string, load func(context.Context) ([]T, error),
	conv func([]T) ([]eagerUser, error), posts func([]T) (int, error)) eagerSide {
	return eagerSide{
		name: name,
		load: func(ctx context.Context) (int, int, error) {
			rows, err := load(ctx)
			if err != nil {
				return 0, 0, err
			}
			n, err := posts(rows)
			return len(rows), n, err
		},
		result: func(ctx context.Context) ([]eagerUser, error) {
			rows, err := load(ctx)
			if err != nil {
				return nil, err
			}
			us, err := conv(rows)
			if err != nil {
				return nil, err
			}
			return canonical(us), nil
		},
	}
}

// BenchmarkEagerLoad loads 100 users, their 1,000 posts and the posts'
// 3,000 tag links (many-to-many through post_tags) on SQLite and on
// PostgreSQL (skipped when TEST_POSTGRES_URL is unset), through FastTrack
// (Query.With of a HasMany with a nested ManyToMany), hand-written sqlx
// (three statements, the related ones bound by one array or JSON
// parameter, stitched by maps), gorm (Preload("Posts.Tags")) and bun
// (Relation("Posts").Relation("Posts.Tags")), all on one counting pool.
// Before timing, each library's result is checked to be the seeded data
// set; each iteration checks the numbers of users and posts. stmts/op is
// the number of statements sent per load. "paired" runs FastTrack and the
// hand-written loader in each iteration, the order alternating, and
// reports ft/hand, their ratio of time.
func BenchmarkEagerLoad(b *testing.B) {
	for _, d := range queryDialects {
		b.Run(d.Name(), func(b *testing.B) {
			x, n := eagerDB(b, d)
			sides := []eagerSide{ftSide(b, x, d), handSide(x, d), gormSide(b, x, d), bunSide(x, d)}
			want := eagerWant()
			ctx := context.Background()
			for _, s := range sides {
				before := n.Statements.Load()
				got, err := s.result(ctx)
				if err != nil {
					b.Fatalf("%s: %v", s.name, err)
				}
				stmts := n.Statements.Load() - before
				if !reflect.DeepEqual(got, want) {
					b.Fatalf("%s: the result is not the seeded data set:\n%s", s.name, eagerDiff(got, want))
				}
				if s.name == "fasttrack" && stmts != 3 {
					b.Fatalf("fasttrack sent %d statements, want 3", stmts)
				}
			}
			for _, s := range sides {
				b.Run(s.name, func(b *testing.B) { runEager(b, n, s) })
			}
			b.Run("paired", func(b *testing.B) { runEagerPaired(b, sides[0], sides[1]) })
		})
	}
}

// runEager times s's load and reports stmts/op.
func runEager(b *testing.B, n *sqlcount.Counter, s eagerSide) {
	ctx := context.Background()
	b.ReportAllocs()
	before := n.Statements.Load()
	m := startMeter(b, false)
	for b.Loop() {
		checkEager(b, s, ctx)
	}
	m.stop(b)
	b.ReportMetric(float64(n.Statements.Load()-before)/float64(b.N), "stmts/op")
}

// runEagerPaired runs ft and hand in each iteration, the order alternating,
// and reports each one's time and their ratio.
func runEagerPaired(b *testing.B, ft, hand eagerSide) {
	ctx := context.Background()
	var tft, thand time.Duration
	timed := func(s eagerSide) time.Duration {
		start := time.Now()
		checkEager(b, s, ctx)
		return time.Since(start)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			tft += timed(ft)
			thand += timed(hand)
		} else {
			thand += timed(hand)
			tft += timed(ft)
		}
		i++
	}
	nf := float64(b.N)
	b.ReportMetric(float64(tft.Nanoseconds())/nf, "fasttrack-ns/op")
	b.ReportMetric(float64(thand.Nanoseconds())/nf, "handwritten-ns/op")
	if thand > 0 {
		b.ReportMetric(float64(tft)/float64(thand), "ft/hand")
	}
}

// checkEager runs one load of s and fails b unless it read every user and
// post.
func checkEager(b *testing.B, s eagerSide, ctx context.Context) {
	users, posts, err := s.load(ctx)
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	if users != eagerUsers || posts != eagerPosts {
		b.Fatalf("%s: %d users and %d posts, want %d and %d", s.name, users, posts, eagerUsers, eagerPosts)
	}
}

// eagerDiff describes the first difference between got and want.
func eagerDiff(got, want []eagerUser) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d users, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("user %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return "no difference"
}
