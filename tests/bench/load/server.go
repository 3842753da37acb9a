package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/jmoiron/sqlx"
)

// Module is the path of the module whose binaries Build builds.
const Module = "github.com/fasttrack-go/fasttrack"

// ModuleRoot returns the folder of the module's go.mod, found from the
// working directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == Module {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("load: no go.mod of %s above the working directory", Module)
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Build runs `go build -o out pkg` in dir, the folder of the module that
// holds pkg: ModuleRoot for cmd/app, its tests/bench for the baseline.
func Build(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("load: go build -o %s %s: %w\n%s", out, pkg, err, b)
	}
	return nil
}

// ServerConfig configures StartServer.
type ServerConfig struct {
	// Name names the server in errors and its log files.
	Name string
	// Binary is the executable.
	Binary string
	// Env is added to the environment of this process (later entries win):
	// DATABASE_URL, LOG_LEVEL, … HTTP_ADDR is set by StartServer.
	Env []string
	// LogDir receives NAME.stdout and NAME.stderr.
	LogDir string
	// ReadyTimeout bounds the wait for GET /healthz to answer 200; default
	// 60s.
	ReadyTimeout time.Duration
}

// Server is a server process started by StartServer.
type Server struct {
	Name string
	// URL is the root of its HTTP API: http://127.0.0.1:PORT.
	URL string

	cmd        *exec.Cmd
	stderrPath string
	done       chan struct{}
	waitErr    error
}

// StartServer starts cfg.Binary on a free port of 127.0.0.1 and waits until
// GET /healthz answers 200. Should the port have been taken in between, it
// tries again on another one.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	var err error
	for range 3 {
		var s *Server
		s, err = startOnce(ctx, cfg)
		if err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, err
}

func startOnce(ctx context.Context, cfg ServerConfig) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	stdout, err := os.Create(filepath.Join(cfg.LogDir, cfg.Name+".stdout"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderrPath := filepath.Join(cfg.LogDir, cfg.Name+".stderr")
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()

	cmd := exec.Command(cfg.Binary)
	cmd.Env = append(append(os.Environ(), cfg.Env...), "HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: starting %s: %w", cfg.Name, err)
	}
	s := &Server{Name: cfg.Name, URL: "http://" + addr, cmd: cmd, stderrPath: stderrPath, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, cfg.ReadyTimeout); err != nil {
		_ = s.Stop(5 * time.Second)
		log, _ := s.Stderr()
		return nil, fmt.Errorf("load: %s did not start: %w\nstderr:\n%s", cfg.Name, err, tail(log, 4000))
	}
	return s, nil
}

// waitReady polls GET /healthz until it answers 200, the process exits or
// the timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := hc.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				hc.CloseIdleConnections()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from GET /healthz within %s (last: %v)", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pid returns the process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Exited reports whether the process has ended, and how.
func (s *Server) Exited() (bool, error) {
	select {
	case <-s.done:
		return true, s.waitErr
	default:
		return false, nil
	}
}

// Stderr returns what the process wrote on its standard error so far.
func (s *Server) Stderr() (string, error) {
	b, err := os.ReadFile(s.stderrPath)
	return string(b), err
}

// RSS returns the resident memory of the process in bytes (VmRSS of
// /proc/PID/status).
func (s *Server) RSS() (int64, error) { return RSS(s.Pid()) }

// PeakRSS returns the highest resident memory of the process so far, in
// bytes (VmHWM of /proc/PID/status).
func (s *Server) PeakRSS() (int64, error) { return procStatusKB(s.Pid(), "VmHWM") }

// RSS returns the resident memory of process pid in bytes (VmRSS of
// /proc/PID/status; Linux only).
func RSS(pid int) (int64, error) { return procStatusKB(pid, "VmRSS") }

// procStatusKB returns a "NAME: N kB" field of /proc/PID/status, in bytes.
func procStatusKB(pid int, name string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("load: unexpected %s line %q", name, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("load: no %s in /proc/%d/status", name, pid)
}

// Stop sends SIGTERM and waits up to grace for the process to end, then
// kills it. It returns the exit error of a process that did not stop
// cleanly on SIGTERM. Stopping a stopped server does nothing.
func (s *Server) Stop(grace time.Duration) error {
	if done, _ := s.Exited(); done {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.waitErr
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("load: %s did not stop within %s of SIGTERM: killed", s.Name, grace)
	}
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// BusyMarkers are what SQLite's lock contention prints: a server log that
// contains one of them had a request fail on a lock.
var BusyMarkers = []string{"database is locked", "SQLITE_BUSY"}

// BusyLines returns the lines of log that contain one of BusyMarkers.
func BusyLines(log string) []string {
	var out []string
	for line := range strings.SplitSeq(log, "\n") {
		for _, m := range BusyMarkers {
			if strings.Contains(line, m) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// openPool opens and pings a pool on databaseURL.
func openPool(ctx context.Context, databaseURL string, conns int) (*sqlx.DB, error) {
	x, _, err := db.Open(databaseURL, db.Pool{MaxOpenConns: conns})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Ping(pctx, x, databaseURL); err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

// SameDatabase returns serverURL with the database (the path) of
// databaseURL: the URL of a database on another server of the same
// cluster, such as a replica's copy of a database made on its primary.
func SameDatabase(serverURL, databaseURL string) (string, error) {
	s, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	d, err := url.Parse(databaseURL)
	if err != nil {
		return "", err
	}
	s.Path = d.Path
	return s.String(), nil
}

// CreateDatabase creates an empty database on the PostgreSQL or MySQL
// server of serverURL and returns its URL and a function dropping it.
func CreateDatabase(ctx context.Context, serverURL string) (string, func() error, error) {
	t, err := dburl.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	if t.Dialect == dburl.SQLite {
		return "", nil, errors.New("load: CreateDatabase is for PostgreSQL and MySQL servers")
	}
	admin, err := openPool(ctx, serverURL, 1)
	if err != nil {
		return "", nil, err
	}
	name := "ft_load_" + NewRunID()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("load: creating database %s on %s: %w", name, dburl.Redact(serverURL), err)
	}
	drop := func() error {
		defer admin.Close()
		q := "DROP DATABASE IF EXISTS " + name
		if t.Dialect == dburl.Postgres {
			q += " WITH (FORCE)"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := admin.ExecContext(ctx, q)
		return err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		_ = drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// Check is what Verify found in the database.
type Check struct {
	// Rows is the number of rows of the users table.
	Rows int64
	// Missing lists created ids that are not in the table.
	Missing []int64
	// Duplicates lists ids answered by more than one 201.
	Duplicates []int64
}

// Verify counts the users rows of databaseURL and looks up every id of
// created (sorted). It returns an error when the count is not
// seeded+len(created), an id is missing, or one was answered twice.
func Verify(ctx context.Context, databaseURL string, seeded int, created []int64) (Check, error) {
	var c Check
	x, err := openPool(ctx, databaseURL, 2)
	if err != nil {
		return c, err
	}
	defer x.Close()
	if err := x.GetContext(ctx, &c.Rows, "SELECT COUNT(*) FROM users"); err != nil {
		return c, fmt.Errorf("load: counting users: %w", err)
	}
	var ids []int64
	if err := x.SelectContext(ctx, &ids, "SELECT id FROM users ORDER BY id"); err != nil {
		return c, fmt.Errorf("load: listing user ids: %w", err)
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	for i, id := range created {
		if i > 0 && created[i-1] == id {
			c.Duplicates = append(c.Duplicates, id)
		}
		if !have[id] {
			c.Missing = append(c.Missing, id)
		}
	}
	var errs []error
	if want := int64(seeded + len(created)); c.Rows != want {
		errs = append(errs, fmt.Errorf("%d users rows, want %d seeded + %d created = %d", c.Rows, seeded, len(created), want))
	}
	if len(c.Missing) > 0 {
		errs = append(errs, fmt.Errorf("%d created ids are not in the table, such as %v", len(c.Missing), c.Missing[:min(len(c.Missing), 10)]))
	}
	if len(c.Duplicates) > 0 {
		errs = append(errs, fmt.Errorf("%d ids were answered by more than one 201, such as %v", len(c.Duplicates), c.Duplicates[:min(len(c.Duplicates), 10)]))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("load: database check: %w", errors.Join(errs...))
	}
	return c, nil
}

// clockTicks is USER_HZ, the unit of the times of /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// CPUTime returns the CPU time the process has used so far, user and
// system, all threads (utime + stime of /proc/PID/stat), to 10 ms.
func (s *Server) CPUTime() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields after its closing one.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("load: unexpected /proc/%d/stat", s.Pid())
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("load: short /proc/%d/stat", s.Pid())
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("load: /proc/%d/stat: %w", s.Pid(), err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// LoadAverage returns the 1-minute load average of the machine
// (/proc/loadavg), or -1 when it cannot be read.
func LoadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
