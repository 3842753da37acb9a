package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfine moves a process tree (a shell and the sleep it waits for)
// into a CPU cgroup of half a CPU, then back out. It needs root and a cpu
// controller; it skips without them.
func TestConfine(t *testing.T) {
	if _, _, err := cpuHierarchy(); err != nil || os.Geteuid() != 0 {
		t.Skipf("no CPU cgroup to make here (root: %v): %v", os.Geteuid() == 0, err)
	}
	cmd := exec.Command("sh", "-c", "sleep 30 & wait")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	var kids []int
	if err := poll(t.Context(), 10*time.Second, func() error {
		if kids = children(pid); len(kids) == 0 {
			return os.ErrNotExist // sleep not forked yet
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	name := "fasttrack-replicabench-test-" + strconv.Itoa(os.Getpid())
	g, err := confine(name, pid, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			_ = g.release()
		}
	})
	procs := func() []int {
		data, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
		if err != nil {
			t.Fatal(err)
		}
		var ps []int
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			ps = append(ps, n)
		}
		return ps
	}
	in := procs()
	for _, p := range append([]int{pid}, kids...) {
		if !slices.Contains(in, p) {
			t.Errorf("process %d is not in the cgroup (%v)", p, in)
		}
	}
	quota := "cpu.cfs_quota_us"
	want := strconv.Itoa(cgroupPeriod / 2)
	if _, v2, _ := cpuHierarchy(); v2 {
		quota, want = "cpu.max", want+" "+strconv.Itoa(cgroupPeriod)
	}
	if data, err := os.ReadFile(filepath.Join(g.dir, quota)); err != nil || strings.TrimSpace(string(data)) != want {
		t.Errorf("%s = %q (%v), want %q", quota, data, err, want)
	}
	released = true
	if err := g.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.dir); !os.IsNotExist(err) {
		t.Errorf("the cgroup is still there: %v", err)
	}
}
