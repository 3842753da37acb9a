package cli

import (
	"context"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func (a *App) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Migrate (when MIGRATE_ON_START) and serve HTTP until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context())
		},
	}
}

// serve runs the application until ctx ends (see fxmodules.Run):
// START_TIMEOUT bounds the start (ping, migrations, bind) and STOP_TIMEOUT
// the drain of in-flight requests. The stop begins by logging why: the
// signal that ended ctx, or its end.
func (a *App) serve(ctx context.Context) error {
	return fxmodules.Run(ctx, a.options(), fx.Invoke(logStopCause(ctx)))
}

// logStopCause returns an fx.Invoke target adding a stop hook that logs
// context.Cause(ctx). Registered after the server's, the hook runs before
// the drain (Fx runs stop hooks in reverse order).
func logStopCause(ctx context.Context) func(fx.Lifecycle, *slog.Logger) {
	return func(lc fx.Lifecycle, log *slog.Logger) {
		lc.Append(fx.StopHook(func() {
			log.Info("shutdown requested", "cause", context.Cause(ctx))
		}))
	}
}
