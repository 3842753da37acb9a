package repo

import (
	"errors"
	"math"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
)

type note struct {
	ID    int64
	Title string `db:"title"`
	Timestamps
	SoftDelete
	Versioned
}

// TestStatementText pins the prebuilt statements: identifiers quoted,
// values bound in the dialect's style, managed columns handled.
func TestStatementText(t *testing.T) {
	cases := map[db.Dialect]map[string]string{
		db.Postgres: {
			"insert": `INSERT INTO "note" ("title", "created_at", "updated_at", "deleted_at", "version") VALUES ($1, $2, $3, $4, $5) RETURNING "id"`,
			"find":   `SELECT "id", "title", "created_at", "updated_at", "deleted_at", "version" FROM "note" WHERE "id" = $1 AND "deleted_at" IS NULL`,
			"findT":  `SELECT "id", "title", "created_at", "updated_at", "deleted_at", "version" FROM "note" WHERE "id" = $1`,
			"update": `UPDATE "note" SET "title" = $1, "updated_at" = $2, "version" = "version" + 1 WHERE "id" = $3 AND "version" = $4 AND "deleted_at" IS NULL`,
			"all":    `SELECT "id", "title", "created_at", "updated_at", "deleted_at", "version" FROM "note" WHERE "deleted_at" IS NULL ORDER BY "id" ASC LIMIT $1 OFFSET $2`,
			"count":  `SELECT COUNT(*) FROM "note" WHERE "deleted_at" IS NULL`,
			"exists": `SELECT 1 FROM "note" WHERE "id" = $1 AND "deleted_at" IS NULL`,
			"delete": `UPDATE "note" SET "deleted_at" = $1 WHERE "id" = $2 AND "deleted_at" IS NULL`,
			"force":  `DELETE FROM "note" WHERE "id" = $1`,
			"undo":   `UPDATE "note" SET "deleted_at" = NULL WHERE "id" = $1 AND "deleted_at" IS NOT NULL`,
			"first":  `SELECT "id", "title", "created_at", "updated_at", "deleted_at", "version" FROM "note" WHERE "title" = $1 AND "deleted_at" IS NULL ORDER BY "id" LIMIT 1`,
			"many2":  `INSERT INTO "note" ("title", "created_at", "updated_at", "deleted_at", "version") VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10) RETURNING "id"`,
		},
		db.MySQL: {
			"insert": "INSERT INTO `note` (`title`, `created_at`, `updated_at`, `deleted_at`, `version`) VALUES (?, ?, ?, ?, ?)",
			"find":   "SELECT `id`, `title`, `created_at`, `updated_at`, `deleted_at`, `version` FROM `note` WHERE `id` = ? AND `deleted_at` IS NULL",
			"update": "UPDATE `note` SET `title` = ?, `updated_at` = ?, `version` = `version` + 1 WHERE `id` = ? AND `version` = ? AND `deleted_at` IS NULL",
			"many2":  "INSERT INTO `note` (`title`, `created_at`, `updated_at`, `deleted_at`, `version`) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
		},
		db.SQLite: {
			"insert": `INSERT INTO "note" ("title", "created_at", "updated_at", "deleted_at", "version") VALUES (?, ?, ?, ?, ?) RETURNING "id"`,
		},
	}
	for d, want := range cases {
		tb, err := NewTable[note](d)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{
			"insert": tb.insertOne, "find": tb.st[0].find, "findT": tb.st[1].find, "update": tb.st[0].update,
			"all": tb.st[0].all, "count": tb.st[0].count, "exists": tb.st[0].exists, "delete": tb.softDel,
			"force": tb.hardDel, "undo": tb.restore, "first": tb.st[0].firstBy[1],
			"many2": tb.manyRows[:tb.manyEnds[1]] + tb.manySuffix,
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s %s:\n got %s\nwant %s", d, k, got[k], w)
			}
		}
		if tb.many != tb.manyRows[:tb.manyEnds[len(tb.manyEnds)-1]]+tb.manySuffix {
			t.Errorf("%s: the full batch is not its rows", d)
		}
		if tb.batchRows != maxBatchRows || len(tb.manyEnds) != maxBatchRows {
			t.Errorf("%s: batch of %d rows", d, tb.batchRows)
		}
	}
}

// wide has 100 columns: a batch must stay under maxBatchParams.
type wide struct {
	ID                                                                             int64
	A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, B0, B1, B2, B3, B4, B5, B6, B7, B8, B9 int
	C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, D0, D1, D2, D3, D4, D5, D6, D7, D8, D9 int
	E0, E1, E2, E3, E4, E5, E6, E7, E8, E9, F0, F1, F2, F3, F4, F5, F6, F7, F8, F9 int
	G0, G1, G2, G3, G4, G5, G6, G7, G8, G9, H0, H1, H2, H3, H4, H5, H6, H7, H8, H9 int
	I0, I1, I2, I3, I4, I5, I6, I7, I8, I9, J0, J1, J2, J3, J4, J5, J6, J7, J8, J9 int
}

func TestBatchRespectsParameterLimit(t *testing.T) {
	tb, err := NewTable[wide](db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if tb.batchRows*len(tb.insert) > maxBatchParams || tb.batchRows != maxBatchParams/100 {
		t.Fatalf("batch of %d rows × %d columns", tb.batchRows, len(tb.insert))
	}
}

func TestCursor(t *testing.T) {
	for _, id := range []int64{0, 1, 42, -7, math.MaxInt64, math.MinInt64} {
		c := encodeCursor(id)
		got, err := decodeCursor(c)
		if err != nil || got != id {
			t.Errorf("cursor of %d: %q → %d, %v", id, c, got, err)
		}
	}
	for _, c := range []string{"", "x", "ZnQxOg", "ZnQxOjk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"} { // "", "ft1:", overflow
		if _, err := decodeCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

func TestPageLimit(t *testing.T) {
	for in, want := range map[int]int{0: DefaultLimit, 1: 1, 100: 100, 101: MaxLimit, 1 << 40: MaxLimit} {
		if got, err := PageLimit(in); got != want || err != nil {
			t.Errorf("PageLimit(%d) = %d, %v", in, got, err)
		}
	}
	if _, err := PageLimit(-1); !errors.Is(err, ErrInvalidQuery) {
		t.Error("negative limit accepted")
	}
}
