package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

// attempt is one POST /users of TestKillDuringWrites.
type attempt struct {
	name     string
	status   int
	id       int64     // from a 201
	err      error     // transport error: in flight at the kill, or sent after it
	sent, at time.Time // when the request was sent, answered or failed
}

// TestKillDuringWrites SIGKILLs the service while 32 clients create users,
// restarts it on the same database, and checks that every user answered
// 201 is there, whole, and that no other row exists but those of requests
// in flight at the kill (which may or may not have committed).
func TestKillDuringWrites(t *testing.T) {
	t.Parallel()
	eachDB(t, []db.Dialect{db.SQLite, db.Postgres, db.MySQL}, func(t *testing.T, d db.Dialect, databaseURL string) {
		env := map[string]string{"DATABASE_URL": databaseURL, "LOG_LEVEL": "warn"}
		p := startApp(t, appBin, env)

		const clients = 32
		var (
			mu       sync.Mutex
			attempts = map[string]*attempt{}
			created  atomic.Int64
			stopping atomic.Bool
			wg       sync.WaitGroup
		)
		client := newClient()
		defer client.CloseIdleConnections()
		tag := randHex(t, 3)
		for w := range clients {
			wg.Go(func() {
				for n := 0; !stopping.Load(); n++ {
					email := fmt.Sprintf("kill-%s-%d-%d@example.com", tag, w, n)
					a := &attempt{name: fmt.Sprintf("Killed %d.%d", w, n), sent: time.Now()}
					mu.Lock()
					attempts[email] = a
					mu.Unlock()
					r, err := p.doCtx(t.Context(), http.MethodPost, "/users", newUser(a.name, email), client)
					var id int64
					if err == nil && r.Status == http.StatusCreated {
						var body struct{ ID int64 }
						_ = json.Unmarshal(r.Body, &body) // an id of 0 fails the checks below
						id = body.ID
						created.Add(1)
					}
					mu.Lock()
					a.status, a.id, a.err, a.at = r.Status, id, err, time.Now()
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}

		// Kill after ~300 ms, or as soon as 50 users are created; but not
		// before a first one is, so that there is something to find.
		began := time.Now()
		for {
			n := created.Load()
			if n >= 50 || (n > 0 && time.Since(began) >= 300*time.Millisecond) {
				break
			}
			if time.Since(began) > 20*time.Second {
				stopping.Store(true)
				p.kill()
				wg.Wait()
				t.Fatalf("only %d users created in 20 s", n)
			}
			time.Sleep(2 * time.Millisecond)
		}
		// The clients go on until their requests fail, so that as many as
		// possible are in flight when the process dies.
		killedAt := time.Now()
		p.signal(syscall.SIGKILL)
		p.waitExit(10 * time.Second)
		deadAt := time.Now()
		stopping.Store(true)
		wg.Wait()

		// inFlight reports a request that may have reached the process
		// before it died.
		inFlight := func(a *attempt) bool { return a.err != nil && a.sent.Before(deadAt) }
		var answered201, inFlightN, afterDeath, otherStatus int
		statuses := map[int]int{}
		for email, a := range attempts {
			switch {
			case a.err != nil:
				if inFlight(a) {
					inFlightN++
				} else {
					afterDeath++
				}
				if a.at.Before(killedAt) {
					t.Errorf("POST %s failed before the kill: %v", email, a.err)
				}
			case a.status == http.StatusCreated:
				answered201++
			default:
				otherStatus++
				statuses[a.status]++
			}
		}
		t.Logf("%s: killed after %v: %d answered 201, %d in flight, %d sent after its death, %d other answers %v",
			d, killedAt.Sub(began).Round(time.Millisecond), answered201, inFlightN, afterDeath, otherStatus, statuses)
		for st := range statuses {
			if st != http.StatusServiceUnavailable {
				t.Errorf("%d requests answered %d before the kill", statuses[st], st)
			}
		}

		p2 := startApp(t, appBin, env)
		rows := usersByEmail(t, openDB(t, databaseURL))
		committedInFlight := 0
		for email, row := range rows {
			a, ok := attempts[email]
			switch {
			case !ok:
				t.Errorf("row %+v: no request sent that email", row)
				continue
			case a.status == http.StatusCreated:
				if row.ID != a.id {
					t.Errorf("row %+v: the 201 answered id %d", row, a.id)
				}
			case inFlight(a):
				committedInFlight++
			case a.err != nil:
				t.Errorf("row %+v exists, but its request was sent after the process had died", row)
			default:
				t.Errorf("row %+v exists, but its request was answered %d", row, a.status)
			}
			if row.Name == "" || row.Email == "" || row.Name != a.name {
				t.Errorf("row %+v is not whole: want name %q, email %q", row, a.name, email)
			}
		}
		missing := 0
		for email, a := range attempts {
			if a.status == http.StatusCreated {
				if _, ok := rows[email]; !ok {
					missing++
					t.Errorf("user %s (id %d) was answered 201 but is not in the database after the restart", email, a.id)
				}
			}
		}
		t.Logf("%s: after the restart: %d rows; %d of the %d requests in flight had committed; %d answered 201 missing",
			d, len(rows), committedInFlight, inFlightN, missing)

		// The restarted service serves the users answered 201 …
		checked := 0
		for email, a := range attempts {
			if a.status != http.StatusCreated || checked == 25 {
				continue
			}
			checked++
			r := p2.mustDo(http.MethodGet, fmt.Sprintf("/users/%d", a.id), nil)
			if r.Status != http.StatusOK || r.JSON(t)["email"] != email {
				t.Errorf("GET /users/%d after the restart: %s, want %s", a.id, r, email)
			}
		}
		// … and new writes.
		email := fmt.Sprintf("after-%s@example.com", tag)
		r := p2.mustDo(http.MethodPost, "/users", newUser("After the kill", email))
		if r.Status != http.StatusCreated {
			t.Fatalf("POST /users after the restart: %s", r)
		}
		if g := p2.mustDo(http.MethodGet, fmt.Sprintf("/users/%d", r.ID(t)), nil); g.Status != http.StatusOK || g.JSON(t)["email"] != email {
			t.Fatalf("GET of the user created after the restart: %s", g)
		}
	})
}
