package replicas_test

import (
	"context"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/replicatest"
	"github.com/fasttrack-go/fasttrack/repo"
)

// replicaItem is a row of replica_items, for the query builder.
type replicaItem struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// TableName names the table.
func (replicaItem) TableName() string { return "replica_items" }

// The query builder's reads on the Cluster, outside a transaction, run on
// the replica; a read at a write's position, or one that locks rows, on
// the primary.
func TestQueryBuilderReadsOnTheReplica(t *testing.T) {
	a := start(t, nil)
	items, err := repo.NewTable[replicaItem](db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	name := repo.MustCol(items, func(i *replicaItem) *string { return &i.Name })
	replicatest.PauseReplay(t, a.replicaURL)
	ctx := context.Background()
	var tx *db.Tx
	if err := a.cluster.WithTx(ctx, db.TxOptions{}, func(t *db.Tx) error {
		tx = t
		_, err := t.ExecContext(ctx, "INSERT INTO replica_items (name) VALUES ('built'), ('built2')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pos := tx.Position()
	q := items.Query().On(a.cluster).Where(name.In("built", "built2"))
	replicaBefore, _ := a.cluster.Routed()

	count := func(ctx context.Context, q repo.Query[replicaItem]) int64 {
		t.Helper()
		n, err := q.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(ctx, q); n != 0 {
		t.Errorf("Count on the Cluster with replay paused = %d, want the replica's 0", n)
	}
	if all, err := q.All(ctx); err != nil || len(all) != 0 {
		t.Errorf("All = %v, %v; want the replica's none", all, err)
	}
	if n := count(db.WithPosition(ctx, pos), q); n != 2 {
		t.Errorf("Count at the write's position = %d, want 2, from the primary", n)
	}
	if all, err := q.ForUpdate().All(ctx); err != nil || len(all) != 2 {
		t.Errorf("All with a row lock = %v, %v; want both rows, from the primary", all, err)
	}
	if replica, _ := a.cluster.Routed(); replica < replicaBefore+2 {
		t.Errorf("%d reads routed to the replica, want at least 2", replica-replicaBefore)
	}
}
