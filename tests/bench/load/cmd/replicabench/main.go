// Command replicabench measures what a read replica does for a read load
// on the FastTrack reference app (cmd/app): it runs GET /users/:id — a
// read-only route (api.WithReadOnly) — against the app in two setups,
// "primary only" (DATABASE_URL on the replication pair's primary) and
// "with replica" (the same, plus DATABASE_REPLICA_URLS on the same
// database of the pair's streaming replica, and REPLICA_POSITION_KEY),
// rounds alternating which goes first, and prints a Markdown table and
// the medians: throughput, p50 and p99, and the CPU time each PostgreSQL
// server used during the run per 1,000 requests (the postmaster and all
// its processes, from /proc/PID/stat), and the app's.
//
// Each run gets a fresh database on the primary (replicated to the
// replica), a fresh app process, seeded with -seed-users users through the
// API, a warm-up, then the measured load. After a "with replica" run it
// reads the app's fasttrack_db_read_units_total{server="replica"} and
// reports which share of the measured requests read on the replica.
//
// It needs the local replication pair (.ci/pg-replica) and its exports:
//
//	eval "$(bash .ci/pg-replica start)"
//	cd tests/bench
//	go run ./load/cmd/replicabench -duration 10s -rounds 3
//
// While it runs it holds the pair's test lock, so that a replica test does
// not pause replay or stop the replica under it. The load generator, the
// app and both servers share the machine: the figures are what they get of
// it together, and the load average printed shows what else ran.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/tests/bench/load"
)

type options struct {
	primaryURL, replicaURL, pairDir string
	clients                         int
	duration, warmup                time.Duration
	rounds, seedUsers               int
	writes                          int     // percent of the requests that are POST /users
	serverCPUs                      float64 // CPUs each PostgreSQL server may use; 0 for no limit
	tmp, bin, key                   string
	primaryPID, replicaPID          int
}

// setup is one configuration of the app.
type setup struct {
	name    string
	replica bool
}

var setups = []setup{{"primary only", false}, {"with replica", true}}

func main() {
	var o options
	flag.StringVar(&o.primaryURL, "primary-url", os.Getenv("TEST_REPLICA_PRIMARY_URL"), "the pair's primary; a fresh database is created on it for each run")
	flag.StringVar(&o.replicaURL, "replica-url", os.Getenv("TEST_REPLICA_URL"), "the pair's streaming replica of the primary")
	flag.StringVar(&o.pairDir, "pair-dir", os.Getenv("TEST_REPLICA_DIR"), "the pair's base directory, holding primary/ and replica/ (their postmaster.pid)")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each run")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs both setups, the odd rounds primary only first")
	flag.IntVar(&o.seedUsers, "seed-users", 500, "users created through the API before each run, the ids GET picks from")
	flag.IntVar(&o.writes, "writes", 0, "percent of the requests that are POST /users (writes, on the primary); the others are GET /users/:id")
	flag.Float64Var(&o.serverCPUs, "server-cpus", 0, "CPUs each PostgreSQL server of the pair may use (a CPU cgroup quota, as on a machine of its own; needs root); 0 for no limit")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "replicabench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.primaryURL == "" || o.replicaURL == "" || o.pairDir == "" {
		return errors.New(`the pair's URLs and directory are not set: eval "$(bash .ci/pg-replica start)" exports them (or pass -primary-url, -replica-url, -pair-dir)`)
	}
	if o.clients < 1 || o.rounds < 1 || o.seedUsers < 1 || o.duration <= 0 || o.warmup < 0 {
		return errors.New("-clients, -rounds and -seed-users must be ≥ 1, -duration positive")
	}
	if o.writes < 0 || o.writes >= 100 || o.serverCPUs < 0 || (o.serverCPUs > 0 && o.serverCPUs < minServerCPUs) {
		return fmt.Errorf("-writes must be in [0, 100), -server-cpus 0 or at least %g", minServerCPUs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if o.primaryPID, err = postmasterPID(filepath.Join(o.pairDir, "primary")); err != nil {
		return err
	}
	if o.replicaPID, err = postmasterPID(filepath.Join(o.pairDir, "replica")); err != nil {
		return err
	}
	root, err := load.ModuleRoot()
	if err != nil {
		return err
	}
	if o.tmp, err = os.MkdirTemp("", "replicabench-*"); err != nil {
		return err
	}
	defer os.RemoveAll(o.tmp)
	o.bin = filepath.Join(o.tmp, "app")
	progress("building ./cmd/app")
	if err := load.Build(ctx, root, "./cmd/app", o.bin); err != nil {
		return err
	}
	o.key = load.NewRunID() + load.NewRunID() + load.NewRunID() + load.NewRunID()

	unlock, err := lockPair(o.pairDir)
	if err != nil {
		return err
	}
	defer unlock()
	if o.serverCPUs > 0 {
		for _, srv := range []struct {
			name string
			pid  int
		}{{"fasttrack-replicabench-primary", o.primaryPID}, {"fasttrack-replicabench-replica", o.replicaPID}} {
			g, err := confine(srv.name, srv.pid, o.serverCPUs)
			if err != nil {
				return err
			}
			defer func() {
				if err := g.release(); err != nil {
					progress("releasing the CPU cgroup %s: %v", srv.name, err)
				}
			}()
		}
	}

	load0 := loadAverages()
	fmt.Printf("## replicabench: %s of cmd/app, %d clients, %s per run after %s of warm-up, %d seeded users, %d rounds\n\n",
		workload(o.writes), o.clients, o.duration, o.warmup, o.seedUsers, o.rounds)
	if o.serverCPUs > 0 {
		fmt.Printf("Each PostgreSQL server may use %g CPUs (a CPU cgroup quota), as on a machine of its own.\n\n", o.serverCPUs)
	}
	fmt.Printf("%s/%s, %d CPUs, %s; the load generator, the app, the primary and the replica share the machine. Load average (1, 5, 15 min) at the start: %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), load0)

	var rows []row
	failed := false
	for round := 1; round <= o.rounds; round++ {
		order := setups
		if round%2 == 0 {
			order = []setup{setups[1], setups[0]}
		}
		for _, s := range order {
			progress("round %d: %s", round, s.name)
			r, err := benchRun(ctx, o, s, round)
			if err != nil {
				printRows(os.Stdout, rows)
				return err
			}
			progress("  %s", r.res.Summary())
			if r.problem != "" {
				progress("  problem: %s", r.problem)
				failed = true
			}
			rows = append(rows, r)
		}
	}
	printRows(os.Stdout, rows)
	fmt.Printf("Load average (1, 5, 15 min) at the end: %s\n", loadAverages())
	if failed {
		return errors.New("some runs had unexpected answers, transport errors, or reads off the replica (see the table)")
	}
	return nil
}

// workload describes the requests of a run with writes percent of POST.
func workload(writes int) string {
	if writes == 0 {
		return "GET /users/:id"
	}
	return fmt.Sprintf("%d%% GET /users/:id, %d%% POST /users", 100-writes, writes)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "replicabench: "+format+"\n", args...)
}
