package bench

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/tests/bench/delayproxy"
	"github.com/jmoiron/sqlx"
)

// remoteDelay is what the proxy between each server and the database adds
// in each direction: a database in another zone.
const remoteDelay = time.Millisecond

// remoteClients is how many clients send requests at once.
const remoteClients = 8

// remoteBlock is how many requests one side serves before the other side's
// turn. A block lasts well under a second, so that no pooled connection
// sits idle for a second between two uses (pgx's stdlib then pings it
// before handing it out, on both sides).
const remoteBlock = 128

// remoteWarmup is how many requests of each route each side serves before
// the measurement: every pooled connection opens and has the statements
// prepared.
const remoteWarmup = 4 * remoteBlock

// BenchmarkRemotePostgres measures the latency of GET /users/:id and POST
// /users served over HTTP on 127.0.0.1 by FastTrack configured as cmd/app
// runs it (appEngine) and by the hand-written Gin + sqlx service
// (handEngine), each talking to a new database of the PostgreSQL server at
// TEST_POSTGRES_URL (skipped when it is unset) through a TCP proxy that
// adds remoteDelay each way, as a database in another zone does.
// remoteClients clients send requests at once; the two sides alternate in
// blocks of remoteBlock requests, the order alternating too, so that both
// see the machine in the same moments. b.N is the number of requests per
// side. It reports per side (ft-, hw-) the p50, p90 and p99 latency in
// milliseconds, as the client sees it, the round trips to the database
// per request (rt/req, counted by the proxy), the mean time the proxy
// forwarded a chunk after it was due (late-us/chunk: what the machine
// added to the delay), and the ratios FastTrack ÷ hand-written of the
// percentiles (ft/hw-p50, …).
func BenchmarkRemotePostgres(b *testing.B) { benchRemote(b, db.Postgres) }

// BenchmarkRemoteMySQL is BenchmarkRemotePostgres on the MySQL or MariaDB
// server at TEST_MYSQL_URL (MariaDB 10.5 or later, for INSERT … RETURNING).
func BenchmarkRemoteMySQL(b *testing.B) { benchRemote(b, db.MySQL) }

func benchRemote(b *testing.B, d db.Dialect) {
	env := newRemoteEnv(b, d)
	routes := []remoteRoute{
		{name: "GetUser", status: http.StatusOK, want: `"email":"user`, request: env.getRequest},
		{name: "PostUser", status: http.StatusCreated, want: `"email":"bench`, request: env.postRequest},
	}
	for _, r := range routes {
		for _, s := range env.sides {
			if _, err := s.run(r, 0, remoteWarmup); err != nil {
				b.Fatalf("%s warm-up, %s: %v", r.name, s.name, err)
			}
		}
	}
	trimUsers(b, env.direct)
	for _, r := range routes {
		b.Run(r.name, func(b *testing.B) {
			env.measure(b, r)
			if r.name == "PostUser" {
				trimUsers(b, env.direct)
			}
		})
	}
}

// remoteEnv is the database, the two proxies and the two servers of a
// remote benchmark.
type remoteEnv struct {
	direct *sqlx.DB // a pool on the database without the proxy, to seed and trim
	sides  [2]*remoteSide
}

// remoteSide is one of the two services: its HTTP server, the client
// that sends it requests, and the proxy between it and the database.
type remoteSide struct {
	name   string
	base   string
	client *http.Client
	proxy  *delayproxy.Proxy
}

// remoteRoute is a route both services serve, and the answer expected.
type remoteRoute struct {
	name    string
	status  int
	want    string
	request func(base string, i int) (*http.Request, error)
}

// newRemoteEnv makes a new database of dialect d's test server (skipping
// when it has none), seeds it with seedRows users, and starts, for each
// side, a proxy to it and an HTTP server whose pool connects through that
// proxy: FastTrack's pool opened by db.Open, the hand-written service's
// with sql.Open and the driver's own connector, as serverDB opens them.
func newRemoteEnv(b *testing.B, d db.Dialect) *remoteEnv {
	b.Helper()
	u := testdb.New(b, d)
	direct, _, err := db.Open(u, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = direct.Close() })
	if err := seed(direct); err != nil {
		b.Fatal(err)
	}
	target, err := dbAddress(u, d)
	if err != nil {
		b.Fatal(err)
	}
	env := &remoteEnv{direct: direct}

	ftProxy, ftURL := proxyTo(b, u, target)
	ft, _, err := db.Open(ftURL, db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ft.Close() })
	env.sides[0] = newRemoteSide(b, "fasttrack", appEngine(b, ft), ftProxy)

	hwProxy, hwURL := proxyTo(b, u, target)
	env.sides[1] = newRemoteSide(b, "handwritten", handEngine(handPool(b, hwURL)), hwProxy)
	return env
}

// dbAddress returns the host:port of the server of databaseURL, with the
// dialect's default port when the URL names none.
func dbAddress(databaseURL string, d db.Dialect) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("parsing the database URL: %w", err)
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	port := "5432"
	if d == db.MySQL {
		port = "3306"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// proxyTo starts a delaying proxy to target, the server of databaseURL, and
// returns it with databaseURL pointing at the proxy instead.
func proxyTo(b *testing.B, databaseURL, target string) (*delayproxy.Proxy, string) {
	b.Helper()
	p, err := delayproxy.Start(target, remoteDelay)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	u, err := url.Parse(databaseURL)
	if err != nil {
		b.Fatal(err)
	}
	u.Host = p.Addr()
	return p, u.String()
}

// newRemoteSide serves h over HTTP on 127.0.0.1 and returns the side, with a
// client that keeps a connection per concurrent client.
func newRemoteSide(b *testing.B, name string, h http.Handler, p *delayproxy.Proxy) *remoteSide {
	srv := httptest.NewServer(h)
	tr := &http.Transport{MaxIdleConns: 2 * remoteClients, MaxIdleConnsPerHost: 2 * remoteClients}
	b.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &remoteSide{name: name, base: srv.URL, client: &http.Client{Transport: tr}, proxy: p}
}

// getRequest is the i-th GET /users/:id, over the seeded users.
func (*remoteEnv) getRequest(base string, i int) (*http.Request, error) {
	return http.NewRequest(http.MethodGet, base+userPaths[i%seedRows], nil)
}

// postRequest is a POST /users of a new user.
func (*remoteEnv) postRequest(base string, _ int) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/users", newUserBody())
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// run sends requests from..from+n-1 of route r from remoteClients clients
// at once and returns each request's latency, from sending the request to
// reading the whole answer.
func (s *remoteSide) run(r remoteRoute, from, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		next.Store(int64(n)) // the other clients stop
	}
	var wg sync.WaitGroup
	for range remoteClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				d, err := s.do(r, from+i)
				if err != nil {
					fail(err)
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	return lat, firstErr
}

// do sends request i of route r and times it.
func (s *remoteSide) do(r remoteRoute, i int) (time.Duration, error) {
	req, err := r.request(s.base, i)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	_ = resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != r.status || !strings.Contains(string(body), r.want) {
		return 0, fmt.Errorf("%s: status %d, body %q; want %d with %q", s.name, resp.StatusCode, body, r.status, r.want)
	}
	return d, nil
}

// measure runs b.N requests of r on each side, in alternating blocks, and
// reports the percentiles, their ratios and the round trips per request.
func (env *remoteEnv) measure(b *testing.B, r remoteRoute) {
	var lat [2][]time.Duration
	var trips, conns, chunks [2]int64
	var late [2]time.Duration
	for i := range env.sides {
		lat[i] = make([]time.Duration, 0, b.N)
		conns[i] = env.sides[i].proxy.Connections()
	}
	b.ResetTimer()
	for done, k := 0, 0; done < b.N; k++ {
		n := min(remoteBlock, b.N-done)
		for j := range 2 {
			i := (j + k) % 2 // FastTrack first in even blocks
			s := env.sides[i]
			before := s.proxy.RoundTrips()
			chunksBefore, lateBefore := s.proxy.Lateness()
			l, err := s.run(r, remoteWarmup+done, n)
			trips[i] += s.proxy.RoundTrips() - before
			chunksAfter, lateAfter := s.proxy.Lateness()
			chunks[i] += chunksAfter - chunksBefore
			late[i] += lateAfter - lateBefore
			if err != nil {
				b.Fatal(err)
			}
			lat[i] = append(lat[i], l...)
		}
		done += n
	}
	b.StopTimer()
	var p [2][3]float64
	for i, s := range env.sides {
		if opened := s.proxy.Connections() - conns[i]; opened > 0 {
			b.Logf("%s opened %d connections to the database during the measurement", s.name, opened)
		}
		p[i] = percentiles(lat[i])
	}
	for k, q := range []string{"p50", "p90", "p99"} {
		b.ReportMetric(p[0][k], "ft-"+q+"-ms")
		b.ReportMetric(p[1][k], "hw-"+q+"-ms")
		b.ReportMetric(p[0][k]/p[1][k], "ft/hw-"+q)
	}
	b.ReportMetric(float64(trips[0])/float64(b.N), "ft-rt/req")
	b.ReportMetric(float64(trips[1])/float64(b.N), "hw-rt/req")
	for i, side := range []string{"ft", "hw"} {
		if chunks[i] > 0 {
			b.ReportMetric(float64(late[i].Microseconds())/float64(chunks[i]), side+"-late-us/chunk")
		}
	}
	b.ReportMetric(0, "ns/op") // the time of both sides' blocks: not a latency
}

// percentiles returns the 50th, 90th and 99th percentiles of lat, in
// milliseconds (nearest rank).
func percentiles(lat []time.Duration) [3]float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	var out [3]float64
	if len(s) == 0 {
		return out
	}
	for k, q := range []int{50, 90, 99} {
		rank := max((q*len(s)+99)/100, 1) // ⌈q·n/100⌉
		out[k] = float64(s[rank-1]) / float64(time.Millisecond)
	}
	return out
}

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted
	}
	for _, c := range []struct {
		name string
		lat  []time.Duration
		want [3]float64
	}{
		{"none", nil, [3]float64{}},
		{"one", ms(7), [3]float64{7, 7, 7}},
		{"two", ms(9, 1), [3]float64{1, 9, 9}},
		{"hundred", ms(hundred...), [3]float64{50, 90, 99}},
		{"ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), [3]float64{5, 9, 10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := percentiles(c.lat); got != c.want {
				t.Fatalf("percentiles = %v, want %v", got, c.want)
			}
		})
	}
}
