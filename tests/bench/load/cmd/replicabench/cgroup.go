package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// minServerCPUs is the least -server-cpus: the kernel takes no quota under
// 1 ms a period.
const minServerCPUs = 0.1

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
	if err := g.add(pid); err != nil {
		_ = g.release()
		return nil, fmt.Errorf("-server-cpus: moving the postmaster %d: %w", pid, err)
	}
	// The postmaster's children forked before it moved: until a pass
	// finds none left outside (those it forks now are born inside).
	for moved := true; moved; {
		moved = false
		members, err := g.members()
		if err != nil {
			_ = g.release()
			return nil, fmt.Errorf("-server-cpus: %w", err)
		}
		for _, p := range children(pid) {
			if slices.Contains(members, strconv.Itoa(p)) {
				continue
			}
			if err := g.add(p); err != nil {
				_ = g.release()
				return nil, fmt.Errorf("-server-cpus: moving process %d: %w", p, err)
			}
			moved = true
		}
	}
	return g, nil
}

// add moves process p into the cgroup; one that has ended is not an
// error.
func (g *cpuCgroup) add(p int) error {
	err := write(g.dir, "cgroup.procs", strconv.Itoa(p))
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// members returns the pids of the cgroup's processes, as text.
func (g *cpuCgroup) members() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// release moves the cgroup's processes to the hierarchy's root (where
// the pair's servers start) and removes the cgroup.
func (g *cpuCgroup) release() error {
	members, err := g.members()
	if err != nil {
		return err
	}
	for _, p := range members {
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
	// cgroup v2: the root must hand the cpu controller to its children.
	data, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	if err == nil && slices.Contains(strings.Fields(string(data)), "cpu") {
		return "/sys/fs/cgroup", true, nil
	}
	return "", false, errors.New("-server-cpus needs the cpu controller: cgroup v1's /sys/fs/cgroup/cpu, or cgroup v2 with cpu in /sys/fs/cgroup/cgroup.subtree_control")
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
