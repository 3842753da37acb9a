package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func (a *App) seedCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "seed [NAME...]",
		Short: "Run every seeder, or the named ones, in one transaction",
		Long: "Run the seeders the application registers (seed.Provide): all of them, or only those named, in name\n" +
			"order. They run in one transaction: when one fails, nothing of any of them is kept. The application\n" +
			"is started without its HTTP server, so the database is migrated first when MIGRATE_ON_START is set.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ran, err := a.runSeeders(cmd.Context(), args)
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

// runSeeders starts the app without its HTTP server (database ping,
// migrations, the registry's check), runs the seeders named (all when none
// is) and stops the app. It returns the seeders that ran once their
// transaction has committed.
func (a *App) runSeeders(ctx context.Context, names []string) (ran []string, err error) {
	var seeders []seed.Seeder
	o, err := a.build(withoutServer(), fx.Invoke(func(in seed.In) { seeders = in.Seeders }))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	set, err := seed.NewSet(seeders...)
	if err != nil {
		return nil, err
	}
	// Check the names before connecting: a typo needs no database.
	if _, err := set.Select(names...); err != nil {
		return nil, err
	}
	if err := o.start(ctx); err != nil {
		return nil, err
	}
	return set.Run(ctx, o.x, names...)
}
