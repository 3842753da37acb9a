package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/tests/bench/load"
)

// row is one measured run.
type row struct {
	setup string
	round int
	res   *load.Result
	// The CPU time each used during the measured run.
	primaryCPU, replicaCPU, appCPU time.Duration
	// onReplica and onPrimary count the read units of work the app routed
	// to the replica and to the primary during the run; -1 without
	// replicas (the app does not report them).
	onReplica, onPrimary float64
	load1                float64
	problem              string // "" for a clean run
}

// perK returns d per 1,000 answered requests, in milliseconds.
func (r row) perK(d time.Duration) float64 {
	n := len(r.res.Latencies)
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond) / float64(n) * 1000
}

// reads returns how many reads (GET /users/:id) were answered.
func (r row) reads() int { return len(r.res.Ops[load.OpGet].Latencies) }

// readThroughput returns the reads answered per second.
func (r row) readThroughput() float64 {
	if r.res.Elapsed <= 0 {
		return 0
	}
	return float64(r.reads()) / r.res.Elapsed.Seconds()
}

// replicaShare returns the share of the answered reads that ran on the
// replica, or -1 without replicas.
func (r row) replicaShare() float64 {
	if r.onReplica < 0 || r.reads() == 0 {
		return -1
	}
	return r.onReplica / float64(r.reads())
}

// benchRun makes a fresh database on the primary, starts the app on it in
// setup s, seeds it, warms it up and measures o.duration of load: GET,
// and o.writes percent of POST.
func benchRun(ctx context.Context, o options, s setup, round int) (row, error) {
	r := row{setup: s.name, round: round, onReplica: -1, onPrimary: -1}
	dbURL, drop, err := load.CreateDatabase(ctx, o.primaryURL)
	if err != nil {
		return r, err
	}
	defer func() {
		if err := drop(); err != nil {
			progress("dropping the database: %v", err)
		}
	}()
	replicaDB, err := load.SameDatabase(o.replicaURL, dbURL)
	if err != nil {
		return r, err
	}
	// The replica has the database before the app starts.
	if err := waitReplayed(ctx, dbURL, replicaDB); err != nil {
		return r, err
	}
	env := []string{"DATABASE_URL=" + dbURL, "LOG_LEVEL=warn"}
	if s.replica {
		env = append(env, "DATABASE_REPLICA_URLS="+replicaDB, "REPLICA_POSITION_KEY="+o.key)
	}
	srv, err := load.StartServer(ctx, load.ServerConfig{
		Name: fmt.Sprintf("%s-%d", strings.ReplaceAll(s.name, " ", "-"), round), Binary: o.bin, Env: env, LogDir: o.tmp,
	})
	if err != nil {
		return r, err
	}
	defer func() { _ = srv.Stop(15 * time.Second) }()
	hc := load.NewClient(o.clients)
	defer hc.CloseIdleConnections()
	ids, err := load.Seed(ctx, nil, srv.URL, o.seedUsers, load.NewRunID())
	if err != nil {
		return r, err
	}
	// A read without a position goes to any replica in rotation: the
	// seeded users must be there first.
	if err := waitReplayed(ctx, dbURL, replicaDB); err != nil {
		return r, err
	}
	if s.replica {
		if err := waitReplicaUp(ctx, hc, srv.URL); err != nil {
			return r, fmt.Errorf("the app's replica: %w", err)
		}
	}
	opts := load.Options{BaseURL: srv.URL, Clients: o.clients, Mix: load.Mix{load.OpCreate: o.writes, load.OpGet: 100 - o.writes}, IDs: ids, Client: hc}
	if o.warmup > 0 {
		opts.Duration = o.warmup
		if _, err := load.Run(ctx, opts); err != nil {
			return r, err
		}
	}

	m0, err := scrape(ctx, hc, srv.URL)
	if err != nil {
		return r, err
	}
	p0, r0, a0, err := cpuTimes(o, srv)
	if err != nil {
		return r, err
	}
	opts.Duration = o.duration
	if r.res, err = load.Run(ctx, opts); err != nil {
		return r, err
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	p1, r1, a1, err := cpuTimes(o, srv)
	if err != nil {
		return r, err
	}
	r.primaryCPU, r.replicaCPU, r.appCPU = p1-p0, r1-r0, a1-a0
	r.load1 = load.LoadAverage()
	m1, err := scrape(ctx, hc, srv.URL)
	if err != nil {
		return r, err
	}

	var problems []string
	if !r.res.Clean() {
		problems = append(problems, fmt.Sprintf("%d unexpected answers, %d transport errors", r.res.Unexpected, r.res.TransportErrors))
		for _, smp := range r.res.Samples {
			progress("  sample: %s", smp)
		}
	}
	if v1, ok := m1[readsOnReplica]; ok {
		r.onReplica, r.onPrimary = v1-m0[readsOnReplica], m1[readsOnPrimary]-m0[readsOnPrimary]
	}
	switch share := r.replicaShare(); {
	case s.replica && share < 0:
		problems = append(problems, "the app reports no read units of work: no replica configured?")
	case s.replica && share < 0.99:
		problems = append(problems, fmt.Sprintf("only %.1f%% of the reads ran on the replica (%.0f on the primary)", 100*share, r.onPrimary))
	case !s.replica && share >= 0:
		problems = append(problems, "the primary-only app reports reads on a replica")
	}
	if exited, err := srv.Exited(); exited {
		problems = append(problems, fmt.Sprintf("the app exited during the run: %v", err))
	}
	r.problem = strings.Join(problems, "; ")
	return r, nil
}

// cpuTimes returns the CPU time used so far by the primary, the replica
// and the app.
func cpuTimes(o options, srv *load.Server) (primary, replica, app time.Duration, err error) {
	if primary, err = treeCPU(o.primaryPID); err != nil {
		return
	}
	if replica, err = treeCPU(o.replicaPID); err != nil {
		return
	}
	app, err = srv.CPUTime()
	return
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// printRows prints the runs' table, then the medians of each setup.
func printRows(w io.Writer, rows []row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "| setup | round | requests | req/s | reads/s | p50 (ms) | p99 (ms) | primary CPU ms / 1k req | replica CPU ms / 1k req | app CPU ms / 1k req | reads on the replica | load avg | problems |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		share := "–"
		if s := r.replicaShare(); s >= 0 {
			share = fmt.Sprintf("%.0f (%.1f%%)", r.onReplica, 100*s)
		}
		problem := r.problem
		if problem == "" {
			problem = "none"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %.0f | %s | %s | %.0f | %.0f | %.0f | %s | %.1f | %s |\n",
			r.setup, r.round, r.res.Requests, r.res.Throughput(), r.readThroughput(), ms(r.res.P(50)), ms(r.res.P(99)),
			r.perK(r.primaryCPU), r.perK(r.replicaCPU), r.perK(r.appCPU), share, r.load1, problem)
	}
	fmt.Fprintln(w)

	type summary struct{ rps, reads, p50, p99, primary, replica, app, total float64 }
	med := map[string]summary{}
	n := 0
	for _, s := range setups {
		var rps, reads, p50, p99, pc, rc, ac, tc []float64
		for _, r := range rows {
			if r.setup != s.name {
				continue
			}
			rps = append(rps, r.res.Throughput())
			reads = append(reads, r.readThroughput())
			p50 = append(p50, float64(r.res.P(50))/float64(time.Millisecond))
			p99 = append(p99, float64(r.res.P(99))/float64(time.Millisecond))
			pc = append(pc, r.perK(r.primaryCPU))
			rc = append(rc, r.perK(r.replicaCPU))
			ac = append(ac, r.perK(r.appCPU))
			tc = append(tc, r.perK(r.primaryCPU+r.replicaCPU))
		}
		n = max(n, len(rps))
		med[s.name] = summary{median(rps), median(reads), median(p50), median(p99), median(pc), median(rc), median(ac), median(tc)}
	}
	fmt.Fprintf(w, "| median of %d runs | req/s | reads/s | p50 (ms) | p99 (ms) | primary CPU ms / 1k req | replica CPU ms / 1k req | primary + replica CPU ms / 1k req | app CPU ms / 1k req |\n", n)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range setups {
		m := med[s.name]
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f |\n", s.name, m.rps, m.reads, m.p50, m.p99, m.primary, m.replica, m.total, m.app)
	}
	a, b := med[setups[0].name], med[setups[1].name]
	ratio := func(x, y float64) string {
		if y == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", x/y)
	}
	fmt.Fprintf(w, "| **with replica ÷ primary only** | **%s** | **%s** | **%s** | **%s** | **%s** | – | **%s** | **%s** |\n\n",
		ratio(b.rps, a.rps), ratio(b.reads, a.reads), ratio(b.p50, a.p50), ratio(b.p99, a.p99), ratio(b.primary, a.primary), ratio(b.total, a.total), ratio(b.app, a.app))
	fmt.Fprintln(w, "CPU times are utime + stime from /proc/PID/stat, to 10 ms per process: for a PostgreSQL server, its postmaster, "+
		"every live child (backends, WAL sender or receiver, the standby's startup process replaying WAL, auxiliary processes) "+
		"and the children it reaped during the run (cutime + cstime). Load avg is the 1-minute load average at the end of each run.")
	fmt.Fprintln(w)
}

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
