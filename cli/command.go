package cli

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// Args receives a command's positional arguments: a function given to
// Command that takes a parameter of type Args accepts any number of them;
// one that does not accepts none.
type Args []string

// Cmd is one of the application's own commands, made by Command and given
// to New in App.Commands.
type Cmd struct {
	cobra  *cobra.Command
	fn     reflect.Value
	name   string // fn's name, for errors
	params []reflect.Type
	err    error // fn has the wrong shape
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
	argsType    = reflect.TypeFor[Args]()
	cobraType   = reflect.TypeFor[*cobra.Command]()
	tracerType  = reflect.TypeFor[*db.Tracer]()
)

// Command returns the command name, described by short, that runs fn:
//
//	func(ctx context.Context, deps...) error
//
// ctx is the command's context, which ends on SIGINT or SIGTERM under Main.
// Each dep is resolved as a handler's is (api.Handle): a scoped or transient
// type (fxmodules.Scoped, Transient; *db.Tx and db.Querier are the scope's
// transaction), or a singleton of the Fx application. Two parameter types
// are the command's own: Args, its positional arguments, and
// *cobra.Command, the running command (its flags, OutOrStdout).
//
// The command starts the application without its HTTP server (database
// ping, migrations when MIGRATE_ON_START, the request scope's checks), runs
// fn in a scope of its own (scope.Registry.Run), and stops the application.
// The scope's transaction commits when fn returns nil and rolls back when it
// returns an error or panics. A dependency that nothing provides fails the
// command before the application starts, with an error naming the command
// and the parameter. A fn of the wrong shape fails when the command runs.
//
// Set the returned command's help, aliases or flags through Cobra.
func Command(name, short string, fn any) *Cmd {
	c := &Cmd{cobra: &cobra.Command{Use: name, Short: short, Args: cobra.NoArgs}, fn: reflect.ValueOf(fn), name: fmt.Sprintf("%T", fn)}
	if fn == nil || c.fn.Kind() != reflect.Func || c.fn.IsNil() {
		c.err = fmt.Errorf("cli: command %q: Command needs a non-nil func(context.Context, deps...) error, got %T", name, fn)
		return c
	}
	if f := runtime.FuncForPC(c.fn.Pointer()); f != nil {
		c.name = f.Name()
	}
	t := c.fn.Type()
	if t.IsVariadic() || t.NumIn() == 0 || t.In(0) != contextType || t.NumOut() != 1 || t.Out(0) != errorType {
		c.err = fmt.Errorf("cli: command %q: %s is %s: want func(context.Context, deps...) error", name, c.name, t)
		return c
	}
	for i := 1; i < t.NumIn(); i++ {
		c.params = append(c.params, t.In(i))
		if t.In(i) == argsType {
			c.cobra.Args = cobra.ArbitraryArgs
		}
	}
	return c
}

// Cobra returns the command's cobra.Command, to set its Long help, Args,
// aliases or flags. New sets its RunE.
func (c *Cmd) Cobra() *cobra.Command { return c.cobra }

// bind sets c's RunE to run it in a's application, and returns its command.
func (a *App) bind(c *Cmd) *cobra.Command {
	c.cobra.RunE = func(cmd *cobra.Command, args []string) error {
		return a.runCommand(cmd, c, args)
	}
	return c.cobra
}

// deps holds what Fx gave the command when the app was built: the
// registry and, for each of the command's parameters, the singleton and
// whether Fx provides its type.
type deps struct {
	reg     *scope.Registry
	values  []any
	present []bool
	tracer  *db.Tracer // the app's, nil without tracing
}

// singletons returns the fx.Option that asks Fx (fxmodules.Lookup) for each
// parameter of c that is not the command's own nor the scope's
// (fxmodules.ScopeOwned), and stores what it gets, and the registry, in d.
func (c *Cmd) singletons(d *deps) fx.Option {
	d.values, d.present = make([]any, len(c.params)), make([]bool, len(c.params))
	var (
		asked []int // indexes into c.params
		types []reflect.Type
	)
	for i, t := range c.params {
		if t == argsType || t == cobraType || t == contextType || fxmodules.ScopeOwned(t) {
			continue
		}
		asked, types = append(asked, i), append(types, t)
	}
	types = append(types, tracerType)
	return fxmodules.Lookup(types, func(reg *scope.Registry, values []any, present []bool) {
		d.reg = reg
		for k, i := range asked {
			d.values[i], d.present[i] = values[k], present[k]
		}
		d.tracer, _ = values[len(asked)].(*db.Tracer)
	})
}

// check returns, before the app starts, an error naming each parameter of
// c that is neither the command's own, a scoped or transient type of the
// registry, the scope's, nor a singleton of Fx. It returns the scoped and
// transient types to resolve from the scope, with their indexes.
func (c *Cmd) check(d *deps) (scoped []reflect.Type, at []int, err error) {
	var errs []error
	for i, t := range c.params {
		switch {
		case t == argsType || t == cobraType || d.present[i]:
		case t == contextType || fxmodules.ScopeOwned(t) || d.reg.Provides(t):
			scoped, at = append(scoped, t), append(at, i)
		default:
			errs = append(errs, fmt.Errorf("parameter %d (%v): nothing provides it: it is not a singleton of the Fx application, "+
				"nor registered with fxmodules.Scoped or Transient", i+2, t))
		}
	}
	return scoped, at, errors.Join(errs...)
}

// runCommand starts a's application without its HTTP server, runs c in a
// scope of its own, and stops the application.
func (a *App) runCommand(cmd *cobra.Command, c *Cmd, args []string) (err error) {
	if c.err != nil {
		return c.err
	}
	wrap := func(err error) error { return fmt.Errorf("cli: command %q (%s): %w", c.cobra.Name(), c.name, err) }
	var d deps
	o, err := a.build(withoutServer(), c.singletons(&d))
	if err != nil {
		return wrap(err)
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	scoped, at, err := c.check(&d)
	if err != nil {
		return wrap(err)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := o.start(ctx); err != nil {
		return err
	}
	plan, err := d.reg.Plan(scoped...)
	if err != nil {
		return wrap(err)
	}
	ctx, end := d.tracer.StartRoot(ctx, CommandSpanPrefix+c.cobra.Name())
	defer func() { end(err) }()
	return d.reg.Run(ctx, func(s *scope.Scope) error {
		resolved := make([]any, len(scoped))
		if err := s.ResolvePlan(plan, resolved); err != nil {
			return wrap(err)
		}
		in := make([]reflect.Value, 1+len(c.params))
		in[0] = reflect.ValueOf(ctx)
		for i, t := range c.params {
			v := d.values[i]
			switch t {
			case argsType:
				v = Args(args)
			case cobraType:
				v = cmd
			}
			in[1+i] = valueOf(v, t)
		}
		for k, i := range at {
			in[1+i] = valueOf(resolved[k], c.params[i])
		}
		out := c.fn.Call(in)
		if e, _ := out[0].Interface().(error); e != nil {
			return e
		}
		return nil
	})
}

// CommandSpanPrefix begins the name of the root span of a command of
// Command, "cli " and the command's name, when the app traces (OTEL_*
// variables, fxmodules.Tracing): the transaction's span and its
// statements' are under it.
const CommandSpanPrefix = "cli "

// valueOf returns v as a reflect.Value of type t (t's zero value for nil).
func valueOf(v any, t reflect.Type) reflect.Value {
	if v == nil {
		return reflect.Zero(t)
	}
	return reflect.ValueOf(v)
}
