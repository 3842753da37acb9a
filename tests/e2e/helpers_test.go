package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
)

// serverDialects are the dialects with a database server.
var serverDialects = []db.Dialect{db.Postgres, db.MySQL}

// eachDialect runs fn as a parallel subtest per dialect.
func eachDialect(t *testing.T, dialects []db.Dialect, fn func(t *testing.T, d db.Dialect)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// eachDB runs fn as a parallel subtest per dialect, each on a fresh
// database (testdb.New: an SQLite file, or a new database on the test
// server, skipped when the server is not configured).
func eachDB(t *testing.T, dialects []db.Dialect, fn func(t *testing.T, d db.Dialect, databaseURL string)) {
	t.Helper()
	eachDialect(t, dialects, func(t *testing.T, d db.Dialect) {
		fn(t, d, testdb.New(t, d))
	})
}

// randHex returns n random bytes in hex.
func randHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeAddr returns 127.0.0.1:port for a port that was free a moment ago,
// picked at random. The port is below
// Linux's range of ephemeral ports (32768–60999), from which the kernel
// picks the local port of every outgoing connection, so that the tests'
// own database connections cannot take it before the app binds it.
func freeAddr(t testing.TB) string {
	t.Helper()
	for range 1000 {
		port := 20000 + mrand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		return addr
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

// openDB opens and pings a pool on databaseURL with the framework's own
// URL handling, closed when the test ends.
func openDB(t testing.TB, databaseURL string) *sqlx.DB {
	t.Helper()
	x := openNoPing(t, databaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.Ping(ctx, x, databaseURL); err != nil {
		t.Fatal(err)
	}
	return x
}

// openNoPing opens a pool on databaseURL, closed when the test ends,
// without connecting.
func openNoPing(t testing.TB, databaseURL string) *sqlx.DB {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = databaseURL
	cfg.DBMaxOpenConns = 2
	x, _, err := db.Open(cfg.DatabaseURL, db.Pool{MaxOpenConns: cfg.DBMaxOpenConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// userRow is a row of the users table, read directly.
type userRow struct {
	ID    int64  `db:"id"`
	Name  string `db:"name"`
	Email string `db:"email"`
}

// usersByEmail reads every row of users.
func usersByEmail(t testing.TB, x *sqlx.DB) map[string]userRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rows []userRow
	if err := x.SelectContext(ctx, &rows, "SELECT id, name, email FROM users"); err != nil {
		t.Fatalf("reading users: %v", err)
	}
	m := make(map[string]userRow, len(rows))
	for _, r := range rows {
		if _, dup := m[r.Email]; dup {
			t.Errorf("two rows with email %q", r.Email)
		}
		m[r.Email] = r
	}
	return m
}

// databaseName returns the database of a server URL (its path).
func databaseName(t testing.TB, databaseURL string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// process is a started binary.
type process struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	addr   string // HTTP_ADDR, 127.0.0.1:port
	base   string // http://addr
	client *http.Client

	stdout, stderr fasttest.SyncBuffer

	done    chan struct{} // closed when the process has exited
	waitErr error         // Wait's result, once done is closed
}

// startProcess starts bin with the environment of the test process plus
// env, and HTTP_ADDR on a free port unless env sets it. The process is
// killed when the test ends, and its output logged if the test failed.
func startProcess(t testing.TB, bin string, env map[string]string, args ...string) *process {
	t.Helper()
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if env["HTTP_ADDR"] == "" {
		env["HTTP_ADDR"] = freeAddr(t)
	}
	p := &process{
		t:      t,
		name:   fmt.Sprintf("%s@%s", bin[strings.LastIndexByte(bin, '/')+1:], env["HTTP_ADDR"]),
		addr:   env["HTTP_ADDR"],
		base:   "http://" + env["HTTP_ADDR"],
		client: newClient(),
		done:   make(chan struct{}),
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = os.Environ()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		p.cmd.Env = append(p.cmd.Env, k+"="+env[k])
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		p.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("%s (pid %d) stdout:\n%s\n%s stderr:\n%s", p.name, p.cmd.Process.Pid, tail(p.stdout.String()), p.name, tail(p.stderr.String()))
		}
	})
	return p
}

// tail returns the end of a long output.
func tail(s string) string {
	const max = 8000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// startApp starts bin and waits until it answers /healthz.
func startApp(t testing.TB, bin string, env map[string]string) *process {
	t.Helper()
	p := startProcess(t, bin, env)
	p.waitHealthy(30 * time.Second)
	return p
}

// waitHealthy waits until the process answers 200 on /healthz, failing the
// test if it exits or does not within timeout.
func (p *process) waitHealthy(timeout time.Duration) {
	p.t.Helper()
	if err := p.healthy(timeout); err != nil {
		p.t.Fatal(err)
	}
}

// healthy waits until the process answers 200 on /healthz, and reports why
// not if it exits or does not within timeout.
func (p *process) healthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r, err := p.doCtx(ctx, http.MethodGet, "/healthz", nil, nil)
		cancel()
		if err == nil && r.Status == http.StatusOK {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was healthy (%v):\n%s", p.name, p.waitErr, p.output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy within %v (last: %v %v)", p.name, timeout, err, r)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process.
func (p *process) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.exited() {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
}

// kill SIGKILLs the process, if it still runs, and waits for its end.
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// waitExit waits for the process to exit and returns its exit code; it
// fails the test if it does not exit within timeout.
func (p *process) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
	}
	if p.waitErr == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode()
	}
	p.t.Fatalf("waiting for %s: %v", p.name, p.waitErr)
	return -1
}

// output returns what the process wrote on stdout and stderr.
func (p *process) output() string { return p.stdout.String() + p.stderr.String() }

// newClient returns an HTTP client that keeps enough idle connections for
// the concurrent tests, and never waits forever.
func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 128
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// response is an answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return m
}

// ID returns the body's "id" as an integer.
func (r response) ID(t testing.TB) int64 {
	t.Helper()
	id, ok := r.JSON(t)["id"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("body %s has no id", r.Body)
	}
	return int64(id)
}

// isProblem reports an application/problem+json answer.
func (r response) isProblem() bool {
	return r.Header.Get("Content-Type") == "application/problem+json"
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// do sends a request to the process: body is sent as is when a string,
// else as JSON.
func (p *process) do(method, path string, body any) (response, error) {
	return p.doCtx(context.Background(), method, path, body, nil)
}

// mustDo is do, failing the test on a transport error.
func (p *process) mustDo(method, path string, body any) response {
	p.t.Helper()
	r, err := p.do(method, path, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// doCtx is do with a context and a client (the process's when nil).
func (p *process) doCtx(ctx context.Context, method, path string, body any, client *http.Client) (response, error) {
	req, err := fasttest.NewRequest(ctx, method, p.base+path, body)
	if err != nil {
		return response{}, err
	}
	if client == nil {
		client = p.client
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// newUser is a POST /users body.
func newUser(name, email string) map[string]any {
	return map[string]any{"name": name, "email": email}
}
