package fxmodules

import (
	"context"
	"fmt"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"go.uber.org/fx"
)

// Run builds an application from opts, which must include Config (Framework
// does), starts it within config.Config.StartTimeout, serves until ctx ends (wire
// it to SIGINT and SIGTERM), and stops it within config.Config.StopTimeout, plus a
// second to close the pool after the drain. It is what a service's main
// does.
func Run(ctx context.Context, opts ...fx.Option) error {
	var cfg config.Config
	app := fx.New(fx.Options(opts...), fx.Populate(&cfg))
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancelStart := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancelStart()
	if err := app.Start(startCtx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout+time.Second)
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}
