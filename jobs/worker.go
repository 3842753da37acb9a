package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Worker is a worker made by Work0, Work1, Work2 or Work3, for
// Options.Workers (or fxmodules.Jobs).
type Worker struct {
	name string
	deps []reflect.Type
	bind func(c *Client, ws *river.Workers) (binding, error)
}

// Name returns the name of the worker's func.
func (w Worker) Name() string { return w.name }

// Deps returns the types of the dependencies the worker resolves for each
// attempt, in order.
func (w Worker) Deps() []reflect.Type { return append([]reflect.Type(nil), w.deps...) }

// binding is a worker bound to a client: plan builds its resolution plan
// from the compiled registry.
type binding interface {
	plan(reg *scope.Registry) error
}

// runner is the river.Worker of a Worker.
type runner[A river.JobArgs] struct {
	river.WorkerDefaults[A]
	c    *Client
	name string
	deps []reflect.Type
	txp  *scope.Plan // the transaction; set by plan before Start
	p    *scope.Plan // deps; set by plan before Start
	call func(ctx context.Context, job *river.Job[A], deps []any) error
}

func (r *runner[A]) plan(reg *scope.Registry) error {
	txp, err := reg.Plan(reflect.TypeFor[*db.Tx]())
	if err != nil {
		return fmt.Errorf("jobs: worker %s: %w", r.name, err)
	}
	p, err := reg.Plan(r.deps...)
	if err != nil {
		return fmt.Errorf("jobs: worker %s: %w (provide it with fxmodules.Scoped or fxmodules.Transient; "+
			"for an Fx singleton, add fxmodules.Singleton[T]() to the app)", r.name, err)
	}
	r.txp, r.p = txp, p
	return nil
}

// Work runs one attempt of job (see attempt) under its span, if traced,
// then logs its end, counts it in the metrics and ends the span; a panic
// is recorded, then passed on to River.
func (r *runner[A]) Work(ctx context.Context, job *river.Job[A]) (err error) {
	start, returned := time.Now(), false
	ctx, span := r.c.startSpan(ctx, job.JobRow)
	defer func() {
		if returned {
			endSpan(span, r.c.obs.end(ctx, job.JobRow, start, err, false, nil), err, false)
			return
		}
		p := recover()
		if p == nil { // runtime.Goexit
			endSpan(span, OutcomeFailed, nil, false)
			return
		}
		endSpan(span, r.c.obs.end(ctx, job.JobRow, start, nil, true, p), nil, true)
		panic(p)
	}()
	err = r.attempt(ctx, job)
	returned = true
	return err
}

// attempt runs one attempt of job in a fresh scope: it gives the scope's
// transaction the client's options and the attempt's number, resolves the dependencies, calls the
// worker, and when the worker returns nil and its transaction began, marks
// the job completed in that transaction as the scope commits it (see
// complete). In
// N+1 error mode, an attempt the detector caught fails and rolls back.
func (r *runner[A]) attempt(ctx context.Context, job *river.Job[A]) error {
	if r.p == nil {
		return fmt.Errorf("jobs: worker %s: not checked: start the client with Client.Start", r.name)
	}
	err := r.c.reg.Run(ctx, func(s *scope.Scope) error {
		var txv [1]any
		if err := s.ResolvePlan(r.txp, txv[:]); err != nil {
			return fmt.Errorf("jobs: worker %s: %w", r.name, err)
		}
		tx, _ := txv[0].(*db.Tx)
		if tx != nil {
			if r.c.tx != (db.TxOptions{}) {
				if err := tx.SetOptions(r.c.tx); err != nil {
					return fmt.Errorf("jobs: worker %s: %w", r.name, err)
				}
			}
			tx.SetAttempt(job.Attempt)
		}
		vals := make([]any, r.p.Len())
		if err := s.ResolvePlan(r.p, vals); err != nil {
			return fmt.Errorf("jobs: worker %s: %w", r.name, err)
		}
		err := r.call(ctx, job, vals)
		if nerr := r.c.reportNPlusOnes(ctx, tx, job.JobRow); err == nil && nerr != nil {
			err = fmt.Errorf("jobs: worker %s: %w", r.name, nerr)
		}
		if err != nil {
			return err
		}
		if tx == nil || !tx.Begun() {
			return nil // nothing written: River completes the job itself
		}
		if err := complete(ctx, r.c, tx, job); err != nil {
			return fmt.Errorf("jobs: completing job %d: %w", job.ID, err)
		}
		return nil
	})
	if endedRun(err) {
		// The completion rode with the COMMIT, which did not run.
		return fmt.Errorf("jobs: completing job %d: %w: %w", job.ID, ErrJobNotRunning, err)
	}
	return err
}

// reportNPlusOnes logs the statements the N+1 detector found in the
// attempt's transaction, one line per text ("N+1 query", a warning in log
// mode, an error in error mode), and returns the first in error mode.
func (c *Client) reportNPlusOnes(ctx context.Context, tx *db.Tx, job *rivertype.JobRow) error {
	if tx == nil || c.tx.NPlusOne.Mode == db.NPlusOneOff {
		return nil
	}
	found := tx.NPlusOnes()
	if len(found) == 0 {
		return nil
	}
	level := slog.LevelWarn
	if c.tx.NPlusOne.Mode == db.NPlusOneFail {
		level = slog.LevelError
	}
	for _, f := range found {
		c.obs.log.LogAttrs(ctx, level, "N+1 query",
			slog.Int64("job_id", job.ID),
			slog.String("kind", job.Kind),
			slog.String("queue", job.Queue),
			slog.Int("attempt", job.Attempt),
			slog.String("statement", f.Query),
			slog.Int("count", f.Count),
			slog.Int("threshold", f.Threshold))
	}
	if c.tx.NPlusOne.Mode != db.NPlusOneFail {
		return nil
	}
	return &found[0]
}

// work makes the Worker of fn, which takes deps.
func work[A river.JobArgs](fn any, deps []reflect.Type, call func(ctx context.Context, job *river.Job[A], deps []any) error) Worker {
	name := funcName(fn)
	return Worker{name: name, deps: deps, bind: func(c *Client, ws *river.Workers) (binding, error) {
		if reflect.ValueOf(fn).IsNil() {
			return nil, errors.New("nil func")
		}
		r := &runner[A]{c: c, name: name, deps: deps, call: call}
		if err := river.AddWorkerSafely[A](ws, r); err != nil {
			return nil, err
		}
		return r, nil
	}}
}

func funcName(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() == reflect.Func && !v.IsNil() {
		if f := runtime.FuncForPC(v.Pointer()); f != nil {
			return f.Name()
		}
	}
	return fmt.Sprintf("%T", fn)
}

// dep returns deps[i] as a D: nil (an unset interface) is D's zero value.
func dep[D any](deps []any, i int) D {
	d, _ := deps[i].(D)
	return d
}

// Work0 makes the worker of jobs of kind A that takes no dependency.
func Work0[A river.JobArgs](fn func(ctx context.Context, job *river.Job[A]) error) Worker {
	return work(fn, nil, func(ctx context.Context, job *river.Job[A], _ []any) error {
		return fn(ctx, job)
	})
}

// Work1 makes the worker of jobs of kind A that takes one dependency,
// resolved from a fresh scope for each attempt: a scoped or transient type
// (a repository, *db.Tx, db.Querier), a singleton or context.Context.
func Work1[A river.JobArgs, D1 any](fn func(ctx context.Context, job *river.Job[A], d1 D1) error) Worker {
	return work(fn, []reflect.Type{reflect.TypeFor[D1]()}, func(ctx context.Context, job *river.Job[A], deps []any) error {
		return fn(ctx, job, dep[D1](deps, 0))
	})
}

// Work2 is Work1 with two dependencies.
func Work2[A river.JobArgs, D1, D2 any](fn func(ctx context.Context, job *river.Job[A], d1 D1, d2 D2) error) Worker {
	return work(fn, []reflect.Type{reflect.TypeFor[D1](), reflect.TypeFor[D2]()}, func(ctx context.Context, job *river.Job[A], deps []any) error {
		return fn(ctx, job, dep[D1](deps, 0), dep[D2](deps, 1))
	})
}

// Work3 is Work1 with three dependencies.
func Work3[A river.JobArgs, D1, D2, D3 any](fn func(ctx context.Context, job *river.Job[A], d1 D1, d2 D2, d3 D3) error) Worker {
	return work(fn, []reflect.Type{reflect.TypeFor[D1](), reflect.TypeFor[D2](), reflect.TypeFor[D3]()}, func(ctx context.Context, job *river.Job[A], deps []any) error {
		return fn(ctx, job, dep[D1](deps, 0), dep[D2](deps, 1), dep[D3](deps, 2))
	})
}
