package load_test

import (
	"slices"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/tests/bench/load"
)

// TestCombine checks that Combine adds up runs: counts, statuses and
// elapsed times summed, latencies and created ids merged in order, the
// samples bounded.
func TestCombine(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	a := &load.Result{Clients: 64, Requests: 3, Elapsed: time.Second, Status: map[int]int64{200: 2, 201: 1},
		Unexpected: 0, Created: []int64{5}, Latencies: ms(1, 4, 9)}
	a.Ops[load.OpGet] = load.OpResult{Requests: 2, Latencies: ms(1, 9)}
	a.Ops[load.OpCreate] = load.OpResult{Requests: 1, Latencies: ms(4)}
	b := &load.Result{Clients: 32, Requests: 3, Elapsed: 2 * time.Second, Status: map[int]int64{200: 1, 500: 1},
		Unexpected: 1, TransportErrors: 1, BadBodies: 0, Created: []int64{2}, Latencies: ms(2, 3),
		Samples: make([]load.Sample, load.MaxSamples)}
	b.Ops[load.OpGet] = load.OpResult{Requests: 3, Unexpected: 1, Latencies: ms(2, 3)}

	r := load.Combine(a, b)
	if r.Clients != 64 || r.Requests != 6 || r.Elapsed != 3*time.Second {
		t.Errorf("clients %d, requests %d, elapsed %v; want 64, 6, 3s", r.Clients, r.Requests, r.Elapsed)
	}
	if r.Status[200] != 3 || r.Status[201] != 1 || r.Status[500] != 1 {
		t.Errorf("statuses %v", r.Status)
	}
	if r.Unexpected != 1 || r.TransportErrors != 1 || len(r.Samples) != load.MaxSamples {
		t.Errorf("unexpected %d, transport errors %d, %d samples", r.Unexpected, r.TransportErrors, len(r.Samples))
	}
	if !slices.Equal(r.Latencies, ms(1, 2, 3, 4, 9)) || !slices.Equal(r.Ops[load.OpGet].Latencies, ms(1, 2, 3, 9)) {
		t.Errorf("latencies %v, GET %v", r.Latencies, r.Ops[load.OpGet].Latencies)
	}
	if r.Ops[load.OpGet].Requests != 5 || r.Ops[load.OpGet].Unexpected != 1 {
		t.Errorf("GET: %+v", r.Ops[load.OpGet])
	}
	if !slices.Equal(r.Created, []int64{2, 5}) {
		t.Errorf("created %v, want [2 5]", r.Created)
	}
	if got := r.Throughput(); got != 5.0/3 {
		t.Errorf("throughput %v, want 5 answered in 3s", got)
	}
}

func TestSameDatabase(t *testing.T) {
	got, err := load.SameDatabase("postgres://u:p@127.0.0.1:5434/test?sslmode=disable", "postgres://u:p@127.0.0.1:5433/ft_load_ab?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://u:p@127.0.0.1:5434/ft_load_ab?sslmode=disable"; got != want {
		t.Fatalf("SameDatabase = %s, want %s", got, want)
	}
}
