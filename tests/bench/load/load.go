// Package load drives a mixed workload against a server of the users API
// (the reference app cmd/app, or the hand-written baseline of
// tests/bench/load/baseline) and measures it: throughput, latency percentiles,
// statuses, unexpected answers, transport errors and the ids it created.
//
// It also starts and stops such servers as child processes (StartServer),
// builds them (Build), makes throwaway databases (CreateDatabase) and checks
// a database after a run (Verify). TestLoad and the loadbench command
// (tests/bench/load/cmd/loadbench) are its users.
package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one operation of the workload.
type Op int

// The operations of the workload.
const (
	// OpCreate is POST /users with a unique email; 201 expected.
	OpCreate Op = iota
	// OpGet is GET /users/:id of a known id; 200 expected.
	OpGet
	// OpUpdate is PUT /users/:id of a known id, with a new unique email;
	// 200 expected.
	OpUpdate
	// OpList is GET /users?limit=20; 200 expected.
	OpList
	// NumOps is the number of operations.
	NumOps
)

// String returns the operation as METHOD path.
func (o Op) String() string {
	switch o {
	case OpCreate:
		return "POST /users"
	case OpGet:
		return "GET /users/:id"
	case OpUpdate:
		return "PUT /users/:id"
	case OpList:
		return "GET /users?limit=20"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Expected returns the only status the operation may answer. Anything else
// is unexpected: 409 included, since every email sent is unique.
func (o Op) Expected() int {
	if o == OpCreate {
		return http.StatusCreated
	}
	return http.StatusOK
}

// Mix weighs the operations: each request picks OpX with probability
// Mix[OpX] / sum(Mix).
type Mix [NumOps]int

// DefaultMix is 20% POST, 60% GET by id, 10% PUT, 10% list.
var DefaultMix = Mix{OpCreate: 20, OpGet: 60, OpUpdate: 10, OpList: 10}

// Options configure Run.
type Options struct {
	// BaseURL is the server's root, such as http://127.0.0.1:8080.
	BaseURL string
	// Clients is the number of concurrent clients, each sending one request
	// at a time; default 64.
	Clients int
	// Duration: clients start no new request once it has elapsed. A request
	// in flight at that moment is finished, never cancelled, so that every
	// row the server commits is known to the caller.
	Duration time.Duration
	// Requests, when > 0, is the exact number of requests to send in all,
	// instead of Duration.
	Requests int64
	// Mix weighs the operations; DefaultMix when zero.
	Mix Mix
	// IDs are the users GET and PUT /users/:id pick from, uniformly. They
	// must exist and not be deleted during the run.
	IDs []int64
	// Client sends the requests; NewClient(Clients) when nil.
	Client *http.Client
	// RunID makes the emails of this run unique; a random one when empty.
	RunID string
	// RequestTimeout bounds each request; default 30s.
	RequestTimeout time.Duration
	// Seed seeds the clients' random choices; 0 picks one.
	Seed uint64
}

// Sample is one unexpected answer or transport error, for diagnosis.
type Sample struct {
	Op     Op
	Status int // 0 for a transport error
	Detail string
}

func (s Sample) String() string {
	if s.Status == 0 {
		return fmt.Sprintf("%s: %s", s.Op, s.Detail)
	}
	return fmt.Sprintf("%s: %d %s", s.Op, s.Status, s.Detail)
}

// OpResult is what one operation got.
type OpResult struct {
	// Requests sent (answered or not).
	Requests int64
	// Unexpected counts answers other than Op.Expected().
	Unexpected int64
	// Latencies of the answered requests, sorted.
	Latencies []time.Duration
}

// Result is what Run measured.
type Result struct {
	Clients int
	// Requests is the number of requests sent (answered or not).
	Requests int64
	// Elapsed runs from the first request to the end of the last.
	Elapsed time.Duration
	// Status counts the answers by status.
	Status map[int]int64
	// Ops holds each operation's figures.
	Ops [NumOps]OpResult
	// Unexpected counts the answers whose status was not the expected one.
	Unexpected int64
	// TransportErrors counts requests that got no complete answer.
	TransportErrors int64
	// BadBodies counts 201 answers whose body carried no positive id.
	BadBodies int64
	// Samples holds up to MaxSamples unexpected answers, transport errors
	// and bad bodies.
	Samples []Sample
	// Created holds the id of every 201 answer, sorted.
	Created []int64
	// Latencies of every answered request, sorted.
	Latencies []time.Duration
}

// MaxSamples bounds Result.Samples.
const MaxSamples = 20

// Throughput returns the answered requests per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// P returns the p-th percentile (0 < p ≤ 100) of every answered request's
// latency, by nearest rank.
func (r *Result) P(p float64) time.Duration { return Percentile(r.Latencies, p) }

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, by nearest
// rank; 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(float64(n)*p/100+0.999999999) - 1
	return sorted[min(max(rank, 0), n-1)]
}

// Clean reports whether the run got only expected answers, no transport
// error and no bad body.
func (r *Result) Clean() bool {
	return r.Unexpected == 0 && r.TransportErrors == 0 && r.BadBodies == 0
}

// Summary is a one-line account of the run.
func (r *Result) Summary() string {
	return fmt.Sprintf("%d requests in %s by %d clients: %.0f req/s, p50 %s, p99 %s, max %s; statuses %v; %d unexpected, %d transport errors, %d bad bodies, %d created",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.Clients, r.Throughput(),
		FormatLatency(r.P(50)), FormatLatency(r.P(99)), FormatLatency(r.P(100)),
		r.Status, r.Unexpected, r.TransportErrors, r.BadBodies, len(r.Created))
}

// FormatLatency prints d in milliseconds, two decimals.
func FormatLatency(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// NewClient returns an http.Client for conns concurrent clients on one host:
// it keeps up to conns idle connections (plus a margin), so that every
// client reuses its own connection.
func NewClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns + 16
	t.MaxIdleConnsPerHost = conns + 16
	t.IdleConnTimeout = 90 * time.Second
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	t.Proxy = nil
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// NewRunID returns a random identifier for the emails of a run.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// client is one simulated client: its own random source and records.
type client struct {
	n       int
	rng     *mrand.Rand
	lat     [NumOps][]time.Duration
	reqs    [NumOps]int64
	unexp   [NumOps]int64
	status  map[int]int64
	errs    int64
	bad     int64
	created []int64
	samples []Sample
	seq     int
}

// Run drives the workload of o against o.BaseURL and returns what it
// measured. It returns an error only for invalid options; failed requests
// are counted in the Result. Cancelling ctx stops the run early (requests in
// flight are cancelled then, and count as transport errors).
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.BaseURL == "" {
		return nil, errors.New("load: no BaseURL")
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		return nil, errors.New("load: neither Duration nor Requests is set")
	}
	if o.Mix == (Mix{}) {
		o.Mix = DefaultMix
	}
	total := 0
	for _, w := range o.Mix {
		if w < 0 {
			return nil, fmt.Errorf("load: negative weight in mix %v", o.Mix)
		}
		total += w
	}
	if total == 0 {
		return nil, fmt.Errorf("load: empty mix %v", o.Mix)
	}
	if (o.Mix[OpGet] > 0 || o.Mix[OpUpdate] > 0) && len(o.IDs) == 0 {
		return nil, errors.New("load: GET and PUT /users/:id need known IDs")
	}
	if o.Client == nil {
		o.Client = NewClient(o.Clients)
	}
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = mrand.Uint64()
	}

	clients := make([]*client, o.Clients)
	var remaining atomic.Int64
	remaining.Store(o.Requests)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.Duration)
	for i := range clients {
		c := &client{n: i, rng: mrand.New(mrand.NewPCG(o.Seed, uint64(i))), status: map[int]int64{}}
		clients[i] = c
		wg.Go(func() {
			for ctx.Err() == nil {
				if o.Requests > 0 {
					if remaining.Add(-1) < 0 {
						return
					}
				} else if !time.Now().Before(deadline) {
					return
				}
				c.do(ctx, &o, pick(c.rng, &o.Mix, total))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return merge(clients, elapsed), nil
}

// pick draws an operation by weight.
func pick(rng *mrand.Rand, mix *Mix, total int) Op {
	n := rng.IntN(total)
	for op, w := range mix {
		if n < w {
			return Op(op)
		}
		n -= w
	}
	return OpGet
}

// do sends one request of op and records its outcome.
func (c *client) do(ctx context.Context, o *Options, op Op) {
	c.seq++
	var method, path string
	var body []byte
	switch op {
	case OpCreate:
		method, path = http.MethodPost, "/users"
		body = fmt.Appendf(nil, `{"name":"Load %d-%d","email":"c-%s-%d-%d@load.example.com"}`, c.n, c.seq, o.RunID, c.n, c.seq)
	case OpGet:
		method, path = http.MethodGet, "/users/"+strconv.FormatInt(o.IDs[c.rng.IntN(len(o.IDs))], 10)
	case OpUpdate:
		method, path = http.MethodPut, "/users/"+strconv.FormatInt(o.IDs[c.rng.IntN(len(o.IDs))], 10)
		body = fmt.Appendf(nil, `{"name":"Updated %d-%d","email":"u-%s-%d-%d@load.example.com"}`, c.n, c.seq, o.RunID, c.n, c.seq)
	case OpList:
		method, path = http.MethodGet, "/users?limit=20"
	}
	c.reqs[op]++

	rctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, o.BaseURL+path, rd)
	if err != nil {
		c.transportError(op, err)
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := o.Client.Do(req)
	if err != nil {
		c.transportError(op, err)
		return
	}
	expected := resp.StatusCode == op.Expected()
	var data []byte
	if op == OpCreate || !expected {
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		c.transportError(op, fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err))
		return
	}
	c.lat[op] = append(c.lat[op], time.Since(t0))
	c.status[resp.StatusCode]++
	if !expected {
		c.unexp[op]++
		c.sample(Sample{Op: op, Status: resp.StatusCode, Detail: string(data[:min(len(data), 300)])})
		return
	}
	if op == OpCreate {
		var u struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(data, &u); err != nil || u.ID <= 0 {
			c.bad++
			c.sample(Sample{Op: op, Status: resp.StatusCode, Detail: "no id in the body: " + string(data[:min(len(data), 300)])})
			return
		}
		c.created = append(c.created, u.ID)
	}
}

func (c *client) transportError(op Op, err error) {
	c.errs++
	c.sample(Sample{Op: op, Detail: err.Error()})
}

func (c *client) sample(s Sample) {
	if len(c.samples) < MaxSamples {
		c.samples = append(c.samples, s)
	}
}

// merge adds up the clients' records. Each client's latencies are sorted,
// then the sorted runs are merged.
func merge(clients []*client, elapsed time.Duration) *Result {
	r := &Result{Clients: len(clients), Elapsed: elapsed, Status: map[int]int64{}}
	var all [][]time.Duration
	for op := range NumOps {
		runs := make([][]time.Duration, 0, len(clients))
		for _, c := range clients {
			slices.Sort(c.lat[op])
			runs = append(runs, c.lat[op])
			r.Ops[op].Requests += c.reqs[op]
			r.Ops[op].Unexpected += c.unexp[op]
		}
		r.Ops[op].Latencies = mergeSorted(runs)
		all = append(all, r.Ops[op].Latencies)
		r.Requests += r.Ops[op].Requests
		r.Unexpected += r.Ops[op].Unexpected
	}
	r.Latencies = mergeSorted(all)
	for _, c := range clients {
		for s, n := range c.status {
			r.Status[s] += n
		}
		r.TransportErrors += c.errs
		r.BadBodies += c.bad
		r.Created = append(r.Created, c.created...)
		for _, s := range c.samples {
			if len(r.Samples) < MaxSamples {
				r.Samples = append(r.Samples, s)
			}
		}
	}
	slices.Sort(r.Created)
	return r
}

// Combine adds up runs of one load against one server — the slices of an
// interleaved benchmark — into one Result: counts and statuses are summed,
// latencies and created ids merged, and Elapsed is the sum of the runs'
// elapsed times, so that Throughput is the requests answered per second of
// load. Clients is the largest run's.
func Combine(runs ...*Result) *Result {
	r := &Result{Status: map[int]int64{}}
	var all [][]time.Duration
	var ops [NumOps][][]time.Duration
	for _, x := range runs {
		r.Clients = max(r.Clients, x.Clients)
		r.Requests += x.Requests
		r.Elapsed += x.Elapsed
		for s, n := range x.Status {
			r.Status[s] += n
		}
		for op := range NumOps {
			r.Ops[op].Requests += x.Ops[op].Requests
			r.Ops[op].Unexpected += x.Ops[op].Unexpected
			ops[op] = append(ops[op], x.Ops[op].Latencies)
		}
		r.Unexpected += x.Unexpected
		r.TransportErrors += x.TransportErrors
		r.BadBodies += x.BadBodies
		for _, smp := range x.Samples {
			if len(r.Samples) < MaxSamples {
				r.Samples = append(r.Samples, smp)
			}
		}
		all = append(all, x.Latencies)
		r.Created = append(r.Created, x.Created...)
	}
	for op := range NumOps {
		r.Ops[op].Latencies = mergeSorted(ops[op])
	}
	r.Latencies = mergeSorted(all)
	slices.Sort(r.Created)
	return r
}

// mergeSorted merges sorted runs into one sorted slice, pairwise.
func mergeSorted(runs [][]time.Duration) []time.Duration {
	if len(runs) == 0 {
		return nil
	}
	for len(runs) > 1 {
		next := make([][]time.Duration, 0, (len(runs)+1)/2)
		for i := 0; i < len(runs); i += 2 {
			if i+1 == len(runs) {
				next = append(next, runs[i])
				continue
			}
			next = append(next, merge2(runs[i], runs[i+1]))
		}
		runs = next
	}
	return runs[0]
}

func merge2(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, b[0])
			b = b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// Seed creates n users through POST /users, a few at a time, and returns
// their ids in creation order. Any answer but 201 fails it.
func Seed(ctx context.Context, hc *http.Client, baseURL string, n int, runID string) ([]int64, error) {
	if hc == nil {
		hc = NewClient(8)
	}
	if runID == "" {
		runID = NewRunID()
	}
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i], errs[i] = createUser(ctx, hc, baseURL,
				fmt.Sprintf("Seed %d", i), fmt.Sprintf("seed-%s-%d@load.example.com", runID, i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load: seeding %d users: %w", n, err)
	}
	return ids, nil
}

// createUser sends one POST /users and returns the new id.
func createUser(ctx context.Context, hc *http.Client, baseURL, name, email string) (int64, error) {
	body, err := json.Marshal(map[string]string{"name": name, "email": email})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/users", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST /users %s: %d %s", email, resp.StatusCode, data)
	}
	var u struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(data, &u); err != nil || u.ID <= 0 {
		return 0, fmt.Errorf("POST /users %s: 201 without an id: %s", email, data)
	}
	return u.ID, nil
}
