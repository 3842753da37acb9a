package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupPeriod is the CFS period of a server's CPU quota, in µs: short, so
// that a server that used its share waits milliseconds, not a tenth of a
// second, for the next.
const cgroupPeriod = 10000

// cpuCgroup is a CPU cgroup made for one PostgreSQL server: its processes
// may use at most a given number of CPUs, as on a machine of its own.
type cpuCgroup struct {
	dir  string // the cgroup's directory
	root string // the hierarchy's root, where release moves the processes back
}

// confine makes the CPU cgroup name, limited to cpus CPUs, and moves the
// server whose postmaster is pid into it, with every process of it: the
// processes it forks later (a new connection's backend) are born in it.
// It needs root and the cpu controller, of cgroup v1 (/sys/fs/cgroup/cpu)
// or v2 (/sys/fs/cgroup).
func confine(name string, pid int, cpus float64) (*cpuCgroup, error) {
	root, v2, err := cpuHierarchy()
	if err != nil {
		return nil, err
	}
	g := &cpuCgroup{dir: filepath.Join(root, name), root: root}
	if err := os.Mkdir(g.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("-server-cpus: %w", err)
	}
	quota := strconv.Itoa(int(cpus * cgroupPeriod))
	if v2 {
		err = write(g.dir, "cpu.max", quota+" "+strconv.Itoa(cgroupPeriod))
	} else if err = write(g.dir, "cpu.cfs_period_us", strconv.Itoa(cgroupPeriod)); err == nil {
		err = write(g.dir, "cpu.cfs_quota_us", quota)
	}
	if err != nil {
		_ = os.Remove(g.dir)
		return nil, fmt.Errorf("-server-cpus: %w", err)
	}
	for _, p := range append([]int{pid}, children(pid)...) {
		if err := write(g.dir, "cgroup.procs", strconv.Itoa(p)); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = g.release()
			return nil, fmt.Errorf("-server-cpus: moving process %d: %w", p, err)
		}
	}
	return g, nil
}

// release moves the cgroup's processes back to the hierarchy's root and
// removes the cgroup.
func (g *cpuCgroup) release() error {
	data, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	for _, p := range strings.Fields(string(data)) {
		_ = write(g.root, "cgroup.procs", p) // a process that ended is gone already
	}
	return os.Remove(g.dir)
}

// cpuHierarchy returns the root of the hierarchy holding the cpu
// controller, and whether it is cgroup v2.
func cpuHierarchy() (root string, v2 bool, err error) {
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil {
		return "/sys/fs/cgroup/cpu", false, nil
	}
	data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if err == nil && strings.Contains(" "+string(data)+" ", " cpu ") {
		return "/sys/fs/cgroup", true, nil
	}
	return "", false, errors.New("-server-cpus needs the cpu controller of cgroup v1 (/sys/fs/cgroup/cpu) or v2 (/sys/fs/cgroup)")
}

// children returns the pids of pid's live children.
func children(pid int) []int {
	var pids []int
	eachChild(pid, func(child int, _ procStat) { pids = append(pids, child) })
	return pids
}

// write writes value to the cgroup file name of dir.
func write(dir, name, value string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644)
}
