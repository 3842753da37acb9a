package replicas_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/replicatest"
)

func TestReadOnlyRouteReadsOnTheReplica(t *testing.T) {
	a := start(t, nil)
	c := client(t, false)
	id, resp := a.create(t, c, "first")
	if resp.Header.Get(api.PositionHeader) == "" {
		t.Errorf("a committed write answered without %s", api.PositionHeader)
	}
	a.waitReplayed(t)
	it := a.get(t, c, id)
	if !it.Found || it.Server != a.cluster.Replicas()[0].Name {
		t.Errorf("GET = %+v, want the row, read on the replica %s", it, a.cluster.Replicas()[0].Name)
	}
	if replica, _ := a.cluster.Routed(); replica == 0 {
		t.Error("no read counted as routed to the replica")
	}
}

func TestCreateThenReadInOneRequestSeesTheRow(t *testing.T) {
	a := start(t, nil)
	replicatest.PauseReplay(t, a.replicaURL)
	resp, err := client(t, false).Post(a.base+"/items/then-read?name=mine", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	var it item
	decode(t, resp, &it)
	if !it.Found || it.Name != "mine" || it.Server != db.RolePrimary {
		t.Errorf("create-then-read = %+v, want the row, read on the primary", it)
	}
}

func TestClientReadsItsWriteWhileReplayIsPaused(t *testing.T) {
	a := start(t, nil)
	replicatest.PauseReplay(t, a.replicaURL)
	browser, other := client(t, true), client(t, false)
	id, _ := a.create(t, browser, "written")

	// The writer carries its position (the cookie): the replica has not
	// replayed it, so its read goes to the primary.
	if it := a.get(t, browser, id); !it.Found || it.Server != db.RolePrimary {
		t.Errorf("the writer's read = %+v, want its row, from the primary", it)
	}
	// A client that carries nothing reads the replica's stale view.
	if it := a.get(t, other, id); it.Found || it.Server == db.RolePrimary {
		t.Errorf("another client's read = %+v, want the replica's view without the row", it)
	}
	// A forged or damaged position stands for none.
	for _, tok := range []string{"ffffffffff.AAAAAAAAAAAAAAAAAAAAAA", "garbage", strings.Repeat("f", 17) + ".x"} {
		if it := a.get(t, other, id, api.PositionHeader, tok); it.Found || it.Server == db.RolePrimary {
			t.Errorf("a read carrying %q = %+v, want the replica's view", tok, it)
		}
	}

	// Once the replica has replayed it, the writer reads on the replica.
	replicatest.ResumeReplay(t, a.replicaURL)
	a.waitReplayed(t)
	if it := a.get(t, browser, id); !it.Found || it.Server == db.RolePrimary {
		t.Errorf("the writer's read after replay = %+v, want its row, from the replica", it)
	}
}

func TestPositionHeaderCarriesTheWrite(t *testing.T) {
	a := start(t, nil)
	replicatest.PauseReplay(t, a.replicaURL)
	c := client(t, false)
	id, resp := a.create(t, c, "api-client")
	tok := resp.Header.Get(api.PositionHeader)
	var cookie string
	for _, ck := range resp.Cookies() {
		if ck.Name == api.PositionCookie {
			cookie = ck.Value
			if !ck.HttpOnly || ck.MaxAge <= 0 || ck.Path != "/" {
				t.Errorf("position cookie %+v: want HttpOnly, Path /, a positive Max-Age", ck)
			}
		}
	}
	if tok == "" || cookie != tok {
		t.Fatalf("header %q, cookie %q: want the same signed position in both", tok, cookie)
	}
	if it := a.get(t, c, id, api.PositionHeader, tok); !it.Found || it.Server != db.RolePrimary {
		t.Errorf("a read carrying the header = %+v, want the row, from the primary", it)
	}
}

func TestStickyWindowKeepsReadsOnThePrimary(t *testing.T) {
	a := start(t, func(c *config.Config) { c.ReplicaStickyWindow = time.Hour })
	replicatest.PauseReplay(t, a.replicaURL)
	c := client(t, false)
	id, _ := a.create(t, c, "window")
	if it := a.get(t, c, id); !it.Found || it.Server != db.RolePrimary {
		t.Errorf("a read in the sticky window = %+v, want the row, from the primary", it)
	}
}

func TestLaggingReplicaLeavesRotation(t *testing.T) {
	a := start(t, func(c *config.Config) { c.ReplicaMaxLag = 200 * time.Millisecond })
	replicatest.PauseReplay(t, a.replicaURL)
	c := client(t, false)
	id, _ := a.create(t, c, "lagging")
	// The replica has not replayed the write; once its lag passes the
	// maximum, it is out, and reads without a position see the write.
	a.waitInRotation(t, false)
	if it := a.get(t, c, id); !it.Found || it.Server != db.RolePrimary {
		t.Errorf("a read with the replica out = %+v, want the row, from the primary", it)
	}
	if st := a.cluster.Replicas()[0]; st.Lag <= 200*time.Millisecond {
		t.Errorf("replica out with lag %v, want over 200ms", st.Lag)
	}
	replicatest.ResumeReplay(t, a.replicaURL)
	a.waitInRotation(t, true)
	if it := a.get(t, c, id); !it.Found || it.Server == db.RolePrimary {
		t.Errorf("a read with the replica back = %+v, want the row, from the replica", it)
	}
}

func TestReplicaKilledMidLoadFailsNoRequest(t *testing.T) {
	a := start(t, nil)
	c := client(t, false)
	id, _ := a.create(t, c, "load")
	a.waitReplayed(t)

	var (
		ok, onReplica atomic.Int64
		failures      []error
		mu            sync.Mutex
		wg            sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				it, err := a.tryGet(c, id)
				if err == nil && !it.Found {
					err = io.ErrUnexpectedEOF // the row is on both servers
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					continue
				}
				ok.Add(1)
				if it.Server != db.RolePrimary {
					onReplica.Add(1)
				}
			}
		}()
	}
	waitFor(t, "reads on the replica", func() bool { return onReplica.Load() >= 50 })
	replicatest.StopReplica(t)
	a.waitInRotation(t, false)
	if resp, err := http.Get(a.base + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with the replica down: %v %v, want 200: readiness follows the primary", resp, err)
	} else {
		resp.Body.Close()
	}
	before := ok.Load()
	waitFor(t, "reads with the replica down", func() bool { return ok.Load() >= before+200 })
	replicatest.StartReplica(t)
	a.waitInRotation(t, true)
	back := onReplica.Load()
	waitFor(t, "reads on the replica again", func() bool { return onReplica.Load() >= back+50 })
	cancel()
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed; first: %v", len(failures), ok.Load()+int64(len(failures)), failures[0])
	}
}

func TestMetricsReportTheReplica(t *testing.T) {
	a := start(t, nil)
	resp, err := http.Get(a.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	name := a.cluster.Replicas()[0].Name
	for _, want := range []string{
		`fasttrack_db_replica_up{replica="` + name + `"} 1`,
		`fasttrack_db_replica_lag_seconds{replica="` + name + `"}`,
		`fasttrack_db_replica_connections_open{replica="` + name + `"}`,
		`fasttrack_db_read_units_total{server="replica"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, err = http.Get(a.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", resp.StatusCode)
	}
}

// waitFor polls cond until it holds, for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 30s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Each replica has a pool of its own, of REPLICA_MAX_OPEN_CONNS
// connections, whatever the primary's DB_MAX_OPEN_CONNS.
func TestReplicaPoolHasItsOwnLimit(t *testing.T) {
	a := start(t, func(c *config.Config) { c.ReplicaMaxOpenConns = 3; c.DBMaxOpenConns = 7 })
	if got := a.cluster.Replicas()[0].MaxOpen; got != 3 {
		t.Errorf("the replica pool's limit = %d, want 3 (REPLICA_MAX_OPEN_CONNS)", got)
	}
	if got := a.cluster.Primary().Stats().MaxOpenConnections; got != 7 {
		t.Errorf("the primary pool's limit = %d, want 7 (DB_MAX_OPEN_CONNS)", got)
	}
}
