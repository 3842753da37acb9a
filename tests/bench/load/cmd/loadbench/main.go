// Command loadbench runs the same HTTP load against the FastTrack reference
// app (cmd/app) and against a hand-written Gin + sqlx baseline
// (tests/bench/load/baseline), alternating, and prints Markdown tables:
// throughput, p50 and p99 of each run, and FastTrack ÷ baseline. With
// -memory it also reports the resident memory (VmRSS) of each server after
// 100,000 requests, and with -memory-long after 1,000,000.
//
// Every run gets a fresh database (an SQLite file, or a new database on the
// PostgreSQL server) and a fresh process, seeded with 100 users through the
// API, so that no run inherits another's rows. After each run the table is
// checked: its rows must be the seeded users plus every 201.
//
// It lives in the benchmark module (tests/bench), so run it from there:
//
//	cd tests/bench
//	go run ./load/cmd/loadbench -db sqlite -duration 10s
//	go run ./load/cmd/loadbench -db postgres   # on $TEST_POSTGRES_URL
//	go run ./load/cmd/loadbench -db sqlite -memory -memory-long
//	go run ./load/cmd/loadbench -db postgres -together
//	go run ./load/cmd/loadbench -db postgres -slice 1s
//
// With -together, each round runs both servers at the same time, each with
// half the clients, so that both see the same machine at the same moment:
// their ratio does not move with the machine's drift between runs. But
// they compete for the CPUs, and the kernel's share between them weighs on
// the ratio.
//
// With -slice, each round starts both servers and sends the whole load to
// one, then the other, in turns of that length, the order alternating, until
// each has had -duration of load: each server has the machine to itself
// while it is measured, and both are measured across the same seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/tests/bench/load"
)

type options struct {
	dbKind     string
	serverURL  string
	clients    int
	duration   time.Duration
	requests   int64
	rounds     int
	seedUsers  int
	memory     bool
	memoryLong bool
	together   bool          // both servers at once, half the clients each
	slice      time.Duration // > 0: both servers started, the load sent to each in turn
	mix        load.Mix
	tmp        string
}

type target struct {
	name, bin string
}

// runRow is one measured run.
type runRow struct {
	round  int
	target string
	res    *load.Result
	cpu    time.Duration // the server's CPU time during the run
	load1  float64       // the machine's 1-minute load average at the end
	check  string        // "ok" or what went wrong
}

// cpuPerRequest is the server's CPU time per answered request.
func (r runRow) cpuPerRequest() time.Duration {
	if n := len(r.res.Latencies); n > 0 {
		return r.cpu / time.Duration(n)
	}
	return 0
}

func main() {
	var o options
	flag.StringVar(&o.dbKind, "db", "sqlite", "database: sqlite or postgres")
	flag.StringVar(&o.serverURL, "url", os.Getenv("TEST_POSTGRES_URL"), "PostgreSQL server URL (-db postgres); a fresh database is created on it for each run")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each run")
	flag.Int64Var(&o.requests, "requests", 0, "when > 0, each run sends exactly this many requests instead of running for -duration")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds; each runs FastTrack and the baseline, the odd rounds FastTrack first, the even ones the baseline first")
	flag.IntVar(&o.seedUsers, "seed-users", 100, "users created before each run, the ids GET and PUT pick from")
	flag.BoolVar(&o.memory, "memory", false, "also measure each server's VmRSS after 100,000 requests")
	flag.BoolVar(&o.memoryLong, "memory-long", false, "with -memory, go on to 1,000,000 requests and measure again")
	flag.BoolVar(&o.together, "together", false, "run both servers at the same time in each round, each with half the clients")
	flag.DurationVar(&o.slice, "slice", 0, "when > 0, start both servers in each round and send the whole load to each in turn, for this long a turn, until each has had -duration")
	mix := flag.String("mix", "20,60,10,10", "weights of POST, GET by id, PUT and list; 0,80,10,10 keeps the table's size steady")
	flag.Parse()
	if _, err := fmt.Sscanf(*mix, "%d,%d,%d,%d", &o.mix[load.OpCreate], &o.mix[load.OpGet], &o.mix[load.OpUpdate], &o.mix[load.OpList]); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: -mix wants four comma-separated weights:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	switch o.dbKind {
	case "sqlite":
	case "postgres":
		if o.serverURL == "" {
			return errors.New("-db postgres needs -url or TEST_POSTGRES_URL")
		}
	default:
		return fmt.Errorf("-db %q: want sqlite or postgres", o.dbKind)
	}
	if o.clients < 1 || o.rounds < 1 || o.seedUsers < 1 || (o.duration <= 0 && o.requests <= 0) {
		return errors.New("-clients, -rounds and -seed-users must be ≥ 1, and -duration or -requests positive")
	}
	if o.slice < 0 || o.slice > 0 && (o.together || o.requests > 0 || o.slice > o.duration) {
		return errors.New("-slice must be positive, at most -duration, and goes with neither -together nor -requests")
	}
	if o.memoryLong && !o.memory {
		o.memory = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := load.ModuleRoot()
	if err != nil {
		return err
	}
	if o.tmp, err = os.MkdirTemp("", "loadbench-*"); err != nil {
		return err
	}
	defer os.RemoveAll(o.tmp)

	targets := []target{{"FastTrack", filepath.Join(o.tmp, "app")}, {"baseline", filepath.Join(o.tmp, "baseline")}}
	// cmd/app is in the framework's module, the baseline in the benchmark
	// module: each is built in its own module's folder.
	for _, b := range []struct{ dir, pkg, bin string }{
		{root, "./cmd/app", targets[0].bin},
		{filepath.Join(root, "tests", "bench"), "./load/baseline", targets[1].bin},
	} {
		progress("building %s", b.pkg)
		if err := load.Build(ctx, b.dir, b.pkg, b.bin); err != nil {
			return err
		}
	}

	failed := false
	fmt.Printf("## loadbench: %s, %d clients, %s, %d seeded users, mix %d%% POST / %d%% GET by id / %d%% PUT / %d%% list\n\n",
		o.dbKind, o.clients, o.budget(), o.seedUsers,
		o.mix[load.OpCreate], o.mix[load.OpGet], o.mix[load.OpUpdate], o.mix[load.OpList])
	fmt.Printf("%s/%s, %d CPUs, %s; load generator and server on the same machine\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())

	if o.together {
		fmt.Printf("Both servers run at the same time in each round, %d clients each.\n\n", max(o.clients/2, 1))
	}
	if o.slice > 0 {
		fmt.Printf("Both servers run in each round; the load goes to each in turn, %s a turn, the order alternating.\n\n", o.slice)
	}
	var rows []runRow
	// With -together or -slice, each round runs both servers at once.
	var both func(context.Context, options, []target, int) ([]runRow, error)
	switch {
	case o.together:
		both = benchTogether
	case o.slice > 0:
		both = benchSlices
	}
	for round := 1; round <= o.rounds && both != nil; round++ {
		progress("round %d: both servers", round)
		pair, err := both(ctx, o, targets, round)
		if err != nil {
			return err
		}
		for _, row := range pair {
			progress("  %s: %s", row.target, row.res.Summary())
			if !row.res.Clean() || row.check != "ok" {
				failed = true
			}
		}
		rows = append(rows, pair...)
	}
	for round := 1; round <= o.rounds && both == nil; round++ {
		// Alternate which server goes first, so that neither always runs
		// on a machine the other has just warmed up (or worn out).
		order := targets
		if round%2 == 0 {
			order = []target{targets[1], targets[0]}
		}
		for _, t := range order {
			progress("round %d: %s", round, t.name)
			row, err := benchRun(ctx, o, t, round)
			if err != nil {
				return err
			}
			progress("  %s", row.res.Summary())
			rows = append(rows, row)
			if !row.res.Clean() || row.check != "ok" {
				failed = true
			}
		}
	}
	printRuns(os.Stdout, rows)

	if o.memory {
		var mems []memRow
		for _, t := range targets {
			m, err := memRun(ctx, o, t)
			if m.seeded > 0 {
				mems = append(mems, m)
			}
			if err != nil {
				// Interrupted or failed: print what was measured.
				printMemory(os.Stdout, o, mems)
				return err
			}
			if m.problem != "" {
				failed = true
			}
		}
		printMemory(os.Stdout, o, mems)
	}
	if failed {
		return errors.New("some runs had unexpected answers, transport errors or a wrong row count (see the tables)")
	}
	return nil
}

func (o options) budget() string {
	if o.requests > 0 {
		return fmt.Sprintf("%d requests per run", o.requests)
	}
	return o.duration.String() + " per run"
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadbench: "+format+"\n", args...)
}

// env is a started server on a fresh, seeded database.
type env struct {
	srv    *load.Server
	dbURL  string
	dropDB func() error
	ids    []int64
	runID  string
}

// startEnv makes a fresh database, starts t's binary on it and seeds it.
func startEnv(ctx context.Context, o options, t target, tag string) (*env, error) {
	e := &env{runID: load.NewRunID()}
	switch o.dbKind {
	case "sqlite":
		path := filepath.Join(o.tmp, tag+".db")
		e.dbURL = "sqlite:" + path
		e.dropDB = func() error {
			var errs []error
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}
	case "postgres":
		var err error
		if e.dbURL, e.dropDB, err = load.CreateDatabase(ctx, o.serverURL); err != nil {
			return nil, err
		}
	}
	srv, err := load.StartServer(ctx, load.ServerConfig{
		Name:   tag,
		Binary: t.bin,
		Env:    []string{"DATABASE_URL=" + e.dbURL, "LOG_LEVEL=warn"},
		LogDir: o.tmp,
	})
	if err != nil {
		_ = e.dropDB()
		return nil, err
	}
	e.srv = srv
	if e.ids, err = load.Seed(ctx, nil, srv.URL, o.seedUsers, e.runID); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// finish stops the server, then checks the database: rows, created ids,
// lock errors in the server's log, a clean exit. It returns "ok" or the
// problems found.
func (e *env) finish(ctx context.Context, o options, created []int64) string {
	var problems []string
	if exited, err := e.srv.Exited(); exited {
		problems = append(problems, fmt.Sprintf("the server exited during the run: %v", err))
	}
	if err := e.srv.Stop(15 * time.Second); err != nil {
		problems = append(problems, "stop: "+err.Error())
	}
	if log, err := e.srv.Stderr(); err == nil {
		if busy := load.BusyLines(log); len(busy) > 0 {
			problems = append(problems, fmt.Sprintf("%d lock errors in the log", len(busy)))
		}
	}
	if _, err := load.Verify(ctx, e.dbURL, o.seedUsers, created); err != nil {
		problems = append(problems, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(problems) == 0 {
		return "ok"
	}
	return strings.Join(problems, "; ")
}

func (e *env) close() {
	_ = e.srv.Stop(15 * time.Second)
	if err := e.dropDB(); err != nil {
		progress("dropping the database: %v", err)
	}
}

// benchRun is one measured run of t on a fresh database.
func benchRun(ctx context.Context, o options, t target, round int) (runRow, error) {
	e, err := startEnv(ctx, o, t, fmt.Sprintf("%s-%d", t.name, round))
	if err != nil {
		return runRow{}, err
	}
	defer e.close()
	row, err := measure(ctx, o, e, t, round)
	if err != nil {
		return runRow{}, err
	}
	row.check = e.finish(ctx, o, row.res.Created)
	return row, nil
}

// startEnvs starts every target on a fresh database. On an error it returns
// those it started, for closeEnvs.
func startEnvs(ctx context.Context, o options, targets []target, round int) ([]*env, error) {
	envs := make([]*env, 0, len(targets))
	for _, t := range targets {
		e, err := startEnv(ctx, o, t, fmt.Sprintf("%s-%d", t.name, round))
		if err != nil {
			return envs, err
		}
		envs = append(envs, e)
	}
	return envs, nil
}

// closeEnvs stops the servers of envs and drops their databases.
func closeEnvs(envs []*env) {
	for _, e := range envs {
		e.close()
	}
}

// benchTogether starts every target on a fresh database, runs the load
// against all of them at once, half the clients each, then stops and
// checks each.
func benchTogether(ctx context.Context, o options, targets []target, round int) ([]runRow, error) {
	envs, err := startEnvs(ctx, o, targets, round)
	defer closeEnvs(envs)
	if err != nil {
		return nil, err
	}
	half := o
	half.clients = max(o.clients/2, 1)
	rows := make([]runRow, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { rows[i], errs[i] = measure(ctx, half, envs[i], t, round) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, e := range envs {
		rows[i].check = e.finish(ctx, o, rows[i].res.Created)
	}
	return rows, nil
}

// benchSlices starts every target on a fresh database, then sends the
// whole load to each in turn, o.slice a turn, until each has had
// o.duration; the order alternates from one pair of turns to the next. Each
// target's turns are combined into its row; its CPU time is all it used
// from its first turn to its last (idle, between turns, it uses next to
// none). Then each is stopped and checked.
func benchSlices(ctx context.Context, o options, targets []target, round int) ([]runRow, error) {
	envs, err := startEnvs(ctx, o, targets, round)
	defer closeEnvs(envs)
	if err != nil {
		return nil, err
	}
	clients := make([]*http.Client, len(envs))
	defer func() { // on an error; the servers' connections are closed before they stop
		for _, hc := range clients {
			if hc != nil {
				hc.CloseIdleConnections()
			}
		}
	}()
	cpu0 := make([]time.Duration, len(envs))
	for i, e := range envs {
		clients[i] = load.NewClient(o.clients)
		var err error
		if cpu0[i], err = e.srv.CPUTime(); err != nil {
			return nil, err
		}
	}
	runs := make([][]*load.Result, len(envs))
	turns := int((o.duration + o.slice - 1) / o.slice)
	for turn := range turns {
		d := min(o.slice, o.duration-time.Duration(turn)*o.slice)
		for k := range envs {
			i := k
			if turn%2 == 1 {
				i = len(envs) - 1 - k
			}
			e := envs[i]
			res, err := load.Run(ctx, load.Options{
				BaseURL: e.srv.URL, Clients: o.clients, Duration: d,
				IDs: e.ids, Client: clients[i], RunID: fmt.Sprintf("%s-%d", e.runID, turn), Mix: o.mix,
			})
			if err != nil {
				return nil, err
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			runs[i] = append(runs[i], res)
		}
	}
	for _, hc := range clients {
		hc.CloseIdleConnections()
	}
	rows := make([]runRow, len(envs))
	for i, e := range envs {
		cpu1, err := e.srv.CPUTime()
		if err != nil {
			return nil, err
		}
		res := load.Combine(runs[i]...)
		rows[i] = runRow{round: round, target: targets[i].name, res: res, cpu: cpu1 - cpu0[i], load1: load.LoadAverage()}
		for _, smp := range res.Samples {
			progress("  sample: %s", smp)
		}
	}
	for i, e := range envs {
		rows[i].check = e.finish(ctx, o, rows[i].res.Created)
	}
	return rows, nil
}

// measure runs o's load against the server of e and returns the run's row,
// without its database check.
func measure(ctx context.Context, o options, e *env, t target, round int) (runRow, error) {
	hc := load.NewClient(o.clients)
	defer hc.CloseIdleConnections()
	cpu0, err := e.srv.CPUTime()
	if err != nil {
		return runRow{}, err
	}
	res, err := load.Run(ctx, load.Options{
		BaseURL: e.srv.URL, Clients: o.clients, Duration: o.duration, Requests: o.requests,
		IDs: e.ids, Client: hc, RunID: e.runID, Mix: o.mix,
	})
	if err != nil {
		return runRow{}, err
	}
	if ctx.Err() != nil {
		return runRow{}, ctx.Err()
	}
	cpu1, err := e.srv.CPUTime()
	if err != nil {
		return runRow{}, err
	}
	row := runRow{round: round, target: t.name, res: res, cpu: cpu1 - cpu0, load1: load.LoadAverage()}
	for _, s := range res.Samples {
		progress("  sample: %s", s)
	}
	return row, nil
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func printRuns(w io.Writer, rows []runRow) {
	fmt.Fprintln(w, "| round | server | requests | req/s | p50 (ms) | p99 (ms) | server CPU µs/req | unexpected | transport errors | load avg | database check |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %d | %s | %d | %.0f | %s | %s | %.0f | %d | %d | %.1f | %s |\n", r.round, r.target, r.res.Requests,
			r.res.Throughput(), ms(r.res.P(50)), ms(r.res.P(99)), float64(r.cpuPerRequest())/float64(time.Microsecond),
			r.res.Unexpected, r.res.TransportErrors, r.load1, r.check)
	}
	fmt.Fprintln(w)

	type sums struct {
		rps, p50, p99, cpu float64
		n                  int
	}
	agg := map[string]*sums{"FastTrack": {}, "baseline": {}}
	for _, r := range rows {
		s := agg[r.target]
		s.rps += r.res.Throughput()
		s.p50 += float64(r.res.P(50))
		s.p99 += float64(r.res.P(99))
		s.cpu += float64(r.cpuPerRequest())
		s.n++
	}
	ft, bl := agg["FastTrack"], agg["baseline"]
	if ft.n == 0 || bl.n == 0 {
		return
	}
	mean := func(s *sums) (float64, time.Duration, time.Duration, float64) {
		n := float64(s.n)
		return s.rps / n, time.Duration(s.p50 / n), time.Duration(s.p99 / n), s.cpu / n / float64(time.Microsecond)
	}
	fr, f50, f99, fc := mean(ft)
	br, b50, b99, bc := mean(bl)
	fmt.Fprintf(w, "| mean of %d rounds | req/s | p50 (ms) | p99 (ms) | server CPU µs/req |\n", ft.n)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| FastTrack | %.0f | %s | %s | %.0f |\n", fr, ms(f50), ms(f99), fc)
	fmt.Fprintf(w, "| baseline | %.0f | %s | %s | %.0f |\n", br, ms(b50), ms(b99), bc)
	fmt.Fprintf(w, "| **FastTrack / baseline** | **%.2f×** | **%.2f×** | **%.2f×** | **%.2f×** |\n", fr/br, float64(f50)/float64(b50), float64(f99)/float64(b99), fc/bc)
	fmt.Fprintln(w)

	// Per-round ratios show the spread.
	var per []string
	for i := 0; i+1 < len(rows); i += 2 {
		ft, bl := rows[i], rows[i+1]
		if ft.target == "baseline" {
			ft, bl = bl, ft
		}
		if ft.target == "FastTrack" && bl.target == "baseline" && ft.round == bl.round {
			per = append(per, fmt.Sprintf("round %d: %.2f×", ft.round, ft.res.Throughput()/bl.res.Throughput()))
		}
	}
	fmt.Fprintf(w, "Throughput ratio per round: %s. For p50, p99 and CPU per request a ratio above 1 means FastTrack costs more. "+
		"Load avg is the machine's 1-minute load average at the end of the run: the generator itself keeps about 1 CPU busy, "+
		"so a figure well above the CPU count means other processes competed.\n\n", strings.Join(per, ", "))
}

// memRow is one server's memory measurement.
type memRow struct {
	target         string
	seeded, at100k int64 // VmRSS, bytes
	at1m           int64 // 0 when not measured
	peak           int64 // VmHWM at the end
	t100k, t1m     time.Duration
	requests       int64
	interrupted    bool
	problem        string
}

// memRun starts t on a fresh database and measures its VmRSS after the seed,
// after 100,000 requests and, with -memory-long, after 1,000,000.
func memRun(ctx context.Context, o options, t target) (memRow, error) {
	m := memRow{target: t.name}
	e, err := startEnv(ctx, o, t, t.name+"-memory")
	if err != nil {
		return m, err
	}
	defer e.close()
	hc := load.NewClient(o.clients)
	defer hc.CloseIdleConnections()
	if m.seeded, err = e.srv.RSS(); err != nil {
		return m, err
	}
	progress("memory: %s: VmRSS %s MiB after seeding", t.name, mib(m.seeded))
	var created []int64
	var problems []string
	phase := func(n int64) (time.Duration, int64, error) {
		progress("memory: %s: %d requests", t.name, n)
		res, err := load.Run(ctx, load.Options{
			BaseURL: e.srv.URL, Clients: o.clients, Requests: n, Mix: o.mix,
			IDs: e.ids, Client: hc, RunID: fmt.Sprintf("%s-%d", e.runID, m.requests),
		})
		if err != nil {
			return 0, 0, err
		}
		if ctx.Err() != nil {
			rss, _ := e.srv.RSS()
			progress("memory: %s: interrupted after %d more requests in %s (%.0f req/s), VmRSS %s MiB",
				t.name, res.Requests, res.Elapsed.Round(time.Second), res.Throughput(), mib(rss))
			m.interrupted = true
			m.peak, _ = e.srv.PeakRSS()
			return 0, 0, ctx.Err()
		}
		progress("  %s", res.Summary())
		m.requests += res.Requests
		created = append(created, res.Created...)
		if !res.Clean() {
			problems = append(problems, fmt.Sprintf("%d unexpected, %d transport errors, %d bad bodies", res.Unexpected, res.TransportErrors, res.BadBodies))
		}
		rss, err := e.srv.RSS()
		progress("memory: %s: VmRSS %s MiB after %d requests", t.name, mib(rss), m.requests)
		return res.Elapsed, rss, err
	}
	if m.t100k, m.at100k, err = phase(100_000); err != nil {
		return m, err
	}
	if o.memoryLong {
		if m.t1m, m.at1m, err = phase(900_000); err != nil {
			return m, err
		}
		m.t1m += m.t100k
	}
	if m.peak, err = e.srv.PeakRSS(); err != nil {
		return m, err
	}
	if check := e.finish(ctx, o, created); check != "ok" {
		problems = append(problems, check)
	}
	m.problem = strings.Join(problems, "; ")
	return m, nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func printMemory(w io.Writer, o options, rows []memRow) {
	fmt.Fprintf(w, "Resident memory (VmRSS of /proc/PID/status, MiB) of each server, on one process per server, %d clients, the same mix:\n\n", o.clients)
	fmt.Fprintln(w, "| server | after seeding | after 100k requests (time) | after 1M requests (time) | peak (VmHWM) | database check |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	for _, m := range rows {
		long := "not measured (-memory-long)"
		if m.at100k == 0 {
			fmt.Fprintf(w, "| %s | %s | interrupted | | | |\n", m.target, mib(m.seeded))
			continue
		}
		if m.at1m > 0 {
			long = fmt.Sprintf("%s (%s)", mib(m.at1m), m.t1m.Round(time.Second))
		} else if m.interrupted {
			long = "interrupted"
		}
		check := "ok"
		if m.problem != "" {
			check = m.problem
		}
		fmt.Fprintf(w, "| %s | %s | %s (%s) | %s | %s | %s |\n", m.target, mib(m.seeded), mib(m.at100k), m.t100k.Round(time.Second), long, mib(m.peak), check)
	}
	fmt.Fprintln(w)
}
