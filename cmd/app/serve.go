package main

import (
	"context"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
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

// serve runs the application until ctx ends (see fxmodules.Run): START_TIMEOUT
// bounds the start (ping, migrations, bind) and STOP_TIMEOUT the drain of
// in-flight requests.
func serve(ctx context.Context) error {
	return fxmodules.Run(ctx, appOptions())
}
