package main

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// newSeedCmd builds `app seed`. extra options are added to its Fx app (tests
// register seeders of their own with them).
func newSeedCmd(extra ...fx.Option) *cobra.Command {
	return &cobra.Command{
		Use:   "seed [NAME...]",
		Short: "Run every seeder, or the named ones, in one transaction",
		Long: "Run the seeders the features register (seed.Provide): all of them, or only those named, in name order.\n" +
			"They run in one transaction: when one fails, nothing of any of them is kept. The database is migrated\n" +
			"first when MIGRATE_ON_START is set. No HTTP server is started.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ran, err := runSeeders(cmd.Context(), args, extra...)
			for _, name := range ran {
				fmt.Fprintln(cmd.OutOrStdout(), "seeded", name)
			}
			if err == nil && len(ran) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no seeders registered")
			}
			return err
		},
	}
}

// seedOptions is the reference application without HTTP: configuration,
// logging, the database, the migrations (applied on start when
// MIGRATE_ON_START), the request-scope registry that the features' scoped
// providers need, the features' services (users.Services, not users.Module,
// whose routes need the HTTP engine) and the seeders' set.
func seedOptions() fx.Option {
	return fx.Options(
		fxmodules.Config(),
		fxmodules.Logging(),
		fxmodules.Database(),
		fxmodules.Migrations(migrations.FS),
		fxmodules.RequestScope(),
		users.Services(),
		seed.Module(),
	)
}

// runSeeders starts the seed app (database ping, migrations, the registry's
// check), runs the seeders named (all when none is) and stops the app. It
// returns the seeders that ran once their transaction has committed.
func runSeeders(ctx context.Context, names []string, extra ...fx.Option) (ran []string, err error) {
	var (
		cfg  config.Config
		x    *sqlx.DB
		set  *seed.Set
		opts = append([]fx.Option{seedOptions()}, extra...)
	)
	app := fx.New(append(opts, fx.Populate(&cfg, &x, &set))...)
	if err := app.Err(); err != nil {
		return nil, err
	}
	// Check the names before connecting: a typo needs no database.
	if _, err := set.Select(names...); err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout)
		defer cancel()
		if serr := app.Stop(stopCtx); serr != nil && err == nil {
			err = fmt.Errorf("stop: %w", serr)
		}
	}()
	return set.Run(ctx, x, names...)
}
