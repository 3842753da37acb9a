package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the times of /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procStat is what replicabench reads of /proc/PID/stat.
type procStat struct {
	ppid int
	// cpu is utime + stime; children is cutime + cstime, the CPU time of
	// the children the process has waited for (for the postmaster: its
	// backends that have exited).
	cpu, children time.Duration
}

// readStat reads /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(data)
}

// parseStat parses the text of a /proc/PID/stat.
func parseStat(data []byte) (procStat, error) {
	// The command name, field 2, is in parentheses and may hold spaces and
	// parentheses: count the fields after its last closing one.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("unexpected /proc/PID/stat %q", data)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state), f[1] field 4 (ppid); utime, stime, cutime
	// and cstime are fields 14 to 17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("short /proc/PID/stat %q", data)
	}
	var n [5]int64
	for k, j := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[j], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/PID/stat field %d: %w", j+3, err)
		}
		n[k] = v
	}
	tick := func(t int64) time.Duration { return time.Duration(t) * time.Second / clockTicks }
	return procStat{ppid: int(n[0]), cpu: tick(n[1] + n[2]), children: tick(n[3] + n[4])}, nil
}

// treeCPU returns the CPU time a PostgreSQL server has used so far: its
// postmaster's (pid), its exited children's (the postmaster's cutime and
// cstime) and its live children's — every backend, the WAL sender or
// receiver, the startup process that replays WAL on a standby, the
// checkpointer and the other auxiliary processes. The difference of two
// calls is the server's CPU time in between, to 10 ms per process.
func treeCPU(pid int) (time.Duration, error) {
	root, err := readStat(pid)
	if err != nil {
		return 0, fmt.Errorf("the postmaster %d: %w", pid, err)
	}
	total := root.cpu + root.children
	eachChild(pid, func(_ int, st procStat) { total += st.cpu + st.children })
	return total, nil
}

// eachChild calls fn with the pid and the stat of each live child of pid.
func eachChild(pid int, fn func(child int, st procStat)) {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // ended since the listing
		}
		st, err := parseStat(data)
		if err != nil || st.ppid != pid {
			continue
		}
		if n, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			fn(n, st)
		}
	}
}

// postmasterPID returns the pid of the postmaster whose data directory is
// dir: the first line of its postmaster.pid, checked to be alive.
func postmasterPID(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("%s/postmaster.pid: %w", dir, err)
	}
	if _, err := readStat(pid); err != nil {
		return 0, fmt.Errorf("the postmaster of %s (pid %d) is not running: %w", dir, pid, err)
	}
	return pid, nil
}

// loadAverages returns the 1-, 5- and 15-minute load averages, as
// /proc/loadavg prints them.
func loadAverages() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
