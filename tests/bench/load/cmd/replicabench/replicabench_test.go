package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as postgres's
	// "postgres: user db 127.0.0.1(5432) idle" titles are not (they are in
	// /proc/PID/cmdline), but a comm may be.
	line := "4242 (po (st) gres) S 99 4242 4242 0 -1 4194560 500 0 0 0 150 25 7 3 20 0 1 0 100 0 0 18446744073709551615\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{ppid: 99, cpu: 1750 * time.Millisecond, children: 100 * time.Millisecond}
	if st != want {
		t.Fatalf("parseStat = %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "1 (x) S 2 3", "1 (x) S 2 3 4 5 6 7 8 9 10 11 x 12 13 14"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

// TestTreeCPU checks that a process tree's CPU time counts a child's, live
// and, once reaped, through the parent's cutime: this test's process is
// the root, and a shell spinning for a while its child.
func TestTreeCPU(t *testing.T) {
	self := os.Getpid()
	before, err := treeCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	// While it runs, the child's CPU time counts.
	var live time.Duration
	err = poll(context.Background(), 30*time.Second, func() error {
		st, err := readStat(cmd.Process.Pid)
		if err != nil {
			return err
		}
		if st.cpu == 0 {
			return os.ErrNotExist // not a tick yet
		}
		live = st.cpu
		return nil
	})
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	during, err := treeCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	if during-before < live {
		t.Errorf("tree CPU rose by %s while the child had used %s", during-before, live)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// Reaped: it counts through cutime + cstime.
	after, err := treeCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	if after-before < live {
		t.Errorf("tree CPU rose by %s in all, less than the child's %s", after-before, live)
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`# HELP fasttrack_db_read_units_total Read-only units of work.
# TYPE fasttrack_db_read_units_total counter
fasttrack_db_read_units_total{server="primary"} 3
fasttrack_db_read_units_total{server="replica"} 1.2345e+06
fasttrack_db_replica_up{replica="postgres://u@h:5434/d"} 1
fasttrack_db_replica_up{replica="postgres://u@h:5435/d"} 0
`))
	}))
	defer srv.Close()
	m, err := scrape(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m[readsOnReplica] != 1234500 || m[readsOnPrimary] != 3 || m.replicasUp() != 1 {
		t.Fatalf("scrape = %v", m)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
