package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Migrate (when MIGRATE_ON_START) and serve HTTP until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context())
		},
	}
}

// appOptions is the reference application: the framework and its features.
func appOptions() fx.Option {
	return fx.Options(fxmodules.Framework(migrations.FS), users.Module())
}

// serve starts the application, waits for ctx to end, and stops it
// gracefully.
//
// START_TIMEOUT bounds the whole start (ping, migrations, bind) and
// STOP_TIMEOUT the drain of in-flight requests; the stop gets a second more
// to close the pool after the drain.
func serve(ctx context.Context) error {
	var cfg config.Config
	app := fx.New(appOptions(), fx.Populate(&cfg))
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
