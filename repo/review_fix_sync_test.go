package repo_test

import (
	"fmt"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestSyncWithManyIDsOneInsertPerColumnSet syncs more ids than the N+1
// detector's threshold, in a transaction that fails an N+1: SyncWith sends
// one DELETE and one INSERT per set of pivot columns the values name,
// never one INSERT per id, and each pair gets its own values.
func TestSyncWithManyIDsOneInsertPerColumnSet(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		const n = 2*db.DefaultNPlusOneThreshold + 2
		related := map[int64]repo.PivotValues{}
		want := map[int64]string{}
		for i := range n {
			m := &Team{Name: fmt.Sprintf("t%d", i)}
			must(t, r.teams.On(r.x).Create(bg, m))
			switch i % 3 {
			case 0:
				related[m.ID] = nil // no pivot column set
				want[m.ID] = ""
			case 1:
				related[m.ID] = repo.PivotValues{"role": "lead"}
				want[m.ID] = "lead"
			default:
				related[m.ID] = repo.PivotValues{"role": fmt.Sprintf("r%d", i)}
				want[m.ID] = fmt.Sprintf("r%d", i)
			}
		}
		cyd := r.ids["cyd"]
		// A pair kept by the sync keeps a column its values do not name.
		must(t, r.authorTeams.AttachWith(bg, r.x, cyd, repo.PivotValues{"role": "old"}, r.ids["red"]))
		related[r.ids["red"]] = nil
		want[r.ids["red"]] = "old"
		opts := db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail}}
		stmts := r.statements(t, func() {
			must(t, db.WithTxOptions(bg, r.x, opts, func(tx *db.Tx) error {
				return r.authorTeams.SyncWith(bg, tx, cyd, related)
			}))
		})
		// BEGIN and COMMIT aside: one DELETE, one INSERT without the role
		// column, one with it.
		if stmts > 3+2 {
			t.Errorf("SyncWith of %d ids sent %d statements, want at most 5", len(related), stmts)
		}
		var rows []struct {
			Team int64   `db:"team_id"`
			Role *string `db:"role"`
		}
		must(t, r.x.SelectContext(bg, &rows, r.x.Rebind("SELECT team_id, role FROM team_members WHERE author_id = ?"), cyd))
		if len(rows) != len(want) {
			t.Fatalf("%d pivot rows, want %d", len(rows), len(want))
		}
		for _, p := range rows {
			got := ""
			if p.Role != nil {
				got = *p.Role
			}
			if w, ok := want[p.Team]; !ok || got != w {
				t.Errorf("team %d: role %q (paired: %v), want %q", p.Team, got, ok, w)
			}
		}
		if got := r.pairs(t, "ada"); got != "red:owner,blue:member" {
			t.Errorf("another author's pairs changed: %s", got)
		}
	})
}
