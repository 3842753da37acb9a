package main

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
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
	return fx.Options(fxmodules.Framework(migrations.FS))
}

// serve starts the application, waits for ctx to end, and stops it
// gracefully.
func serve(ctx context.Context) error {
	app := fx.New(appOptions())
	if err := app.Err(); err != nil {
		return err
	}
	if err := app.Start(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}
