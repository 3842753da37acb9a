package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/db"
)

// TestRollingStart starts four instances at the same moment on one fresh
// database with pending migrations (MIGRATE_ON_START=true): all four become
// healthy and serve writes, and goose_db_version records each migration
// exactly once. The README claims it for PostgreSQL (goose's advisory lock)
// and MySQL (goose's lock table).
func TestRollingStart(t *testing.T) {
	t.Parallel()
	eachDB(t, serverDialects, func(t *testing.T, d db.Dialect, databaseURL string) {
		const instances = 4
		env := map[string]string{"DATABASE_URL": databaseURL, "MIGRATE_ON_START": "true", "START_TIMEOUT": "30s"}
		procs := make([]*process, instances)
		for i := range procs {
			procs[i] = startProcess(t, appBin, env)
		}
		errs := make([]error, instances)
		var wg sync.WaitGroup
		for i, p := range procs {
			wg.Go(func() { errs[i] = p.healthy(30 * time.Second) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		tag := randHex(t, 3)
		for i, p := range procs {
			email := fmt.Sprintf("rolling-%s-%d@example.com", tag, i)
			if r := p.mustDo(http.MethodPost, "/users", newUser(fmt.Sprintf("Instance %d", i), email)); r.Status != http.StatusCreated {
				t.Errorf("instance %d: POST /users: %s", i, r)
			}
		}
		for i, p := range procs {
			r := p.mustDo(http.MethodGet, "/users?q=instance", nil)
			if r.Status != http.StatusOK || r.JSON(t)["total"] != float64(instances) {
				t.Errorf("instance %d: GET /users?q=instance: %s, want the %d users", i, r, instances)
			}
		}

		var rows []struct {
			Version int64 `db:"version_id"`
			N       int   `db:"n"`
		}
		admin := openDB(t, databaseURL)
		if err := admin.Select(&rows, "SELECT version_id, COUNT(*) AS n FROM goose_db_version GROUP BY version_id ORDER BY version_id"); err != nil {
			t.Fatal(err)
		}
		var versions []int64
		for _, r := range rows {
			versions = append(versions, r.Version)
			if r.N != 1 {
				t.Errorf("goose_db_version holds version %d %d times, want once", r.Version, r.N)
			}
		}
		want := migrationVersions(t, d)
		for _, v := range want {
			if !slices.Contains(versions, v) {
				t.Errorf("goose_db_version lacks version %d (holds %v)", v, versions)
			}
		}
		applied := 0
		for _, p := range procs {
			if strings.Contains(p.stderr.String(), `"migrations applied" count=1`) {
				applied++
			}
		}
		t.Logf("%s: goose_db_version %v (migrations %v); %d of %d instances applied the migration", d, rows, want, applied, instances)
	})
}

// migrationVersions lists the versions of the reference app's migrations
// for d.
func migrationVersions(t *testing.T, d db.Dialect) []int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, d.Name())
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(path.Base(e.Name()), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		vs = append(vs, v)
	}
	return vs
}
