package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// offline is a.Options built for a command other than serve.
type offline struct {
	app     *fx.App
	cfg     config.Config
	x       *sqlx.DB
	started bool
}

// build builds a.Options with opts, as serve does, but with a jobs client
// that works no queue (fxmodules.JobsInsertOnly): a short command must not
// take queued jobs only to interrupt them. Nothing is started; the caller
// must call stop.
func (a *App) build(opts ...fx.Option) (*offline, error) {
	o := &offline{}
	app := fx.New(a.options(), fxmodules.JobsInsertOnly(), fx.Options(opts...), fx.Populate(&o.cfg, &o.x))
	if err := app.Err(); err != nil {
		return nil, err
	}
	o.app = app
	return o, nil
}

// withoutServer replaces the *http.Server that fxmodules.HTTP provides by
// one that is never started, so that an app built with it starts without
// listening: its constructor, whose start hook listens, is not called. The
// engine and its routes are still built.
func withoutServer() fx.Option { return fx.Replace(&http.Server{}) }

// options returns a.Options, or an error option when it is nil.
func (a *App) options() fx.Option {
	if a.Options == nil {
		return fx.Error(fmt.Errorf("cli: App.Options is nil: give the application's fx.Option (fxmodules.Framework and its features)"))
	}
	return a.Options
}

// start starts the app within config.Config.StartTimeout.
func (o *offline) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.StartTimeout)
	defer cancel()
	if err := o.app.Start(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	o.started = true
	return nil
}

// stop stops a started app within config.Config.StopTimeout (plus a second
// to close the pool), or closes the pool of one never started (or whose
// start failed, which Fx has rolled back).
func (o *offline) stop() error {
	if !o.started {
		_ = o.x.Close() // already closed when a failed start was rolled back
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.StopTimeout+time.Second)
	defer cancel()
	if err := o.app.Stop(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}
