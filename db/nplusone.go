package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// NPlusOneMode is what the N+1 detector does when a unit of work runs one
// statement text more times than its threshold (see NPlusOne).
type NPlusOneMode uint8

// The modes of the N+1 detector.
const (
	// NPlusOneOff counts nothing; it is the zero value.
	NPlusOneOff NPlusOneMode = iota
	// NPlusOneLog counts, and runs every statement: the request
	// middleware (or WithTx) logs a warning per offending text when the
	// unit of work ends. Tx.NPlusOnes reports them.
	NPlusOneLog
	// NPlusOneFail counts, and fails each run past the threshold with an
	// *NPlusOneError, without sending it; the transaction is marked
	// rollback-only, so the unit of work commits nothing.
	NPlusOneFail
)

// String returns "off", "log" or "error": the values of N_PLUS_ONE.
func (m NPlusOneMode) String() string {
	switch m {
	case NPlusOneOff:
		return "off"
	case NPlusOneLog:
		return "log"
	case NPlusOneFail:
		return "error"
	}
	return fmt.Sprintf("NPlusOneMode(%d)", uint8(m))
}

// ParseNPlusOneMode returns the mode named s, in any case: "off"
// (NPlusOneOff), "log" (NPlusOneLog) or "error" (NPlusOneFail).
func ParseNPlusOneMode(s string) (NPlusOneMode, error) {
	switch strings.ToLower(s) {
	case "off":
		return NPlusOneOff, nil
	case "log":
		return NPlusOneLog, nil
	case "error":
		return NPlusOneFail, nil
	}
	return NPlusOneOff, fmt.Errorf("db: unknown N+1 detector mode %q: want off, log or error", s)
}

// DefaultNPlusOneThreshold is the threshold of an NPlusOne whose Threshold
// is not positive.
const DefaultNPlusOneThreshold = 10

// NPlusOne configures the N+1 detector of a unit of work: a Tx whose
// TxOptions.NPlusOne is on counts the statements run through it by their
// text, and a text run more than Threshold times is an N+1 — a loop that
// runs one query per row where one query for all the rows would do. The
// texts are compared exactly, arguments aside: a statement built once (a
// constant, or a repository's cached text) is the same text every run.
// A statement given a Batched context is not counted.
type NPlusOne struct {
	// Mode is what the detector does; NPlusOneOff, the zero value, turns
	// it off.
	Mode NPlusOneMode
	// Threshold is how many runs of one text a unit of work may make; the
	// next is an N+1. Zero or less means DefaultNPlusOneThreshold.
	Threshold int
}

// threshold returns n's threshold, its default applied.
func (n NPlusOne) threshold() int {
	if n.Threshold <= 0 {
		return DefaultNPlusOneThreshold
	}
	return n.Threshold
}

// ErrNPlusOne is wrapped by every *NPlusOneError.
var ErrNPlusOne = errors.New("db: N+1 query")

// NPlusOneError describes a statement text a unit of work ran more times
// than its N+1 detector's threshold. In NPlusOneFail mode a statement past
// the threshold returns one; Tx.NPlusOnes lists them in any mode. It wraps
// ErrNPlusOne.
type NPlusOneError struct {
	Query     string // the statement's text
	Count     int    // how many times the unit of work ran it
	Threshold int    // the detector's threshold
}

// Error returns a message naming the statement and its count, such as
//
//	db: N+1 query: statement run 11 times in one unit of work (threshold 10): SELECT …
func (e *NPlusOneError) Error() string {
	return fmt.Sprintf("%v: statement run %d times in one unit of work (threshold %d): %s", ErrNPlusOne, e.Count, e.Threshold, e.Query)
}

// Unwrap returns ErrNPlusOne.
func (e *NPlusOneError) Unwrap() error { return ErrNPlusOne }

// queryCounts is the N+1 detector's count of one Tx, made by its first
// statement when the detector is on. The first texts are kept in few and
// scanned, by data pointer first — a precompiled text is the same string
// every run, found without reading its bytes — then by content; past
// len(few) distinct texts an index keyed by content takes over.
type queryCounts struct {
	texts   []queryCount // every text, in order of first run; few's storage first
	index   map[string]int32
	crossed int // how many texts went past the threshold
	few     [8]queryCount
}

// queryCount is the count of one text.
type queryCount struct {
	query string
	n     int32
}

// maxCountedTexts bounds the distinct texts a unit of work counts: a job
// that builds its statements with their values inlined counts the first
// ones only, and keeps no more of them alive.
const maxCountedTexts = 4096

// add counts a run of query and returns how many times it ran, or 0 when
// query is past maxCountedTexts.
func (c *queryCounts) add(query string) int {
	if c.index == nil {
		// A precompiled text is the same string every run: its data
		// pointer finds it without reading its bytes.
		p := unsafe.StringData(query)
		for i := range c.texts {
			if e := &c.texts[i]; unsafe.StringData(e.query) == p && len(e.query) == len(query) {
				e.n++
				return int(e.n)
			}
		}
		for i := range c.texts {
			if e := &c.texts[i]; e.query == query {
				e.n++
				return int(e.n)
			}
		}
		if len(c.texts) < len(c.few) {
			if c.texts == nil {
				c.texts = c.few[:0]
			}
			c.texts = append(c.texts, queryCount{query: query, n: 1})
			return 1
		}
		c.index = make(map[string]int32, 4*len(c.few))
		for i, e := range c.texts {
			c.index[e.query] = int32(i)
		}
	}
	if i, ok := c.index[query]; ok {
		e := &c.texts[i]
		e.n++
		return int(e.n)
	}
	if len(c.texts) >= maxCountedTexts {
		return 0
	}
	c.index[query] = int32(len(c.texts))
	c.texts = append(c.texts, queryCount{query: query, n: 1})
	return 1
}

// detect counts a run of query for the N+1 detector, which is on. In
// NPlusOneFail mode a run past the threshold marks the transaction
// rollback-only and returns an *NPlusOneError. t.mu is held.
func (t *Tx) detect(query string) error {
	if t.counts == nil {
		t.counts = new(queryCounts)
	}
	n, limit := t.counts.add(query), t.opts.NPlusOne.threshold()
	if n <= limit {
		return nil
	}
	if n == limit+1 {
		t.counts.crossed++
	}
	if t.opts.NPlusOne.Mode != NPlusOneFail {
		return nil
	}
	t.rollbackOnly.Store(true)
	return &NPlusOneError{Query: query, Count: n, Threshold: limit}
}

// NPlusOnes returns the statement texts the unit of work ran more times
// than its N+1 detector's threshold (TxOptions.NPlusOne), in the order of
// their first run, each with how many times it ran, the runs refused in
// NPlusOneFail mode included; nil when there are none or the detector is
// off. It may be called after Finish.
func (t *Tx) NPlusOnes() []NPlusOneError {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil || t.counts.crossed == 0 {
		return nil
	}
	limit := t.opts.NPlusOne.threshold()
	found := make([]NPlusOneError, 0, t.counts.crossed)
	for _, e := range t.counts.texts {
		if int(e.n) > limit {
			found = append(found, NPlusOneError{Query: e.query, Count: int(e.n), Threshold: limit})
		}
	}
	return found
}

// Batched returns a copy of ctx whose statements the N+1 detector does not
// count: a deliberate loop of one text over batches of rows — chunks of a
// large read, the INSERTs of many rows — is not an N+1, however many
// batches it runs. The statements run as if given ctx: a ctx that stands
// for a Tx's own context (see Tx.SameContexts) still runs them on it. A
// context derived from the result is batched too. While the detector is
// on, a Tx runs a batched statement unprepared (see Tx.SetStatements).
func Batched(ctx context.Context) context.Context {
	return &batchedContext{ctx}
}

// batchedContext is the context of Batched.
type batchedContext struct{ context.Context }

// batchedKey is the key under which a batchedContext answers itself.
type batchedKey struct{}

// Value returns c for batchedKey, else what its parent holds.
func (c *batchedContext) Value(key any) any {
	if key == (batchedKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// batched reports whether ctx comes from Batched.
func batched(ctx context.Context) bool {
	return ctx != nil && ctx.Value(batchedKey{}) != nil
}
