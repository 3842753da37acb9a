package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// App describes an application to New.
type App struct {
	// Name is the program's name, shown in the help (cobra's Use). Empty:
	// the base name of os.Args[0].
	Name string
	// Short and Long describe the program in the help. Empty: a sentence
	// naming Name.
	Short, Long string
	// Version is the version `version` prints. Empty: the main module's
	// version from the build information.
	Version string

	// Options is the whole application, as serve runs it: FastTrack's
	// modules (fxmodules.Framework, or its pieces) and the application's
	// own. It must provide config.Config and *sqlx.DB (fxmodules.Config
	// and Database do).
	Options fx.Option

	// Migrations is the application's migrations, as given to
	// fxmodules.Framework or Migrations (one folder per dialect, see
	// db.NewMigrator). Nil: no migrate command.
	Migrations fs.FS
	// MigrationsDir is the folder `migrate create` writes to when it is
	// given no --dir: a path relative to the root of module Module, with
	// forward slashes (for example "internal/migrations"). Empty: `migrate
	// create` needs --dir.
	MigrationsDir string
	// Module is the module path whose root holds MigrationsDir: `migrate
	// create` looks for its go.mod in the working directory and the folders
	// above it (passing over nested modules). Empty: the nearest go.mod,
	// whatever its module.
	Module string

	// Commands are the application's own commands, made by Command.
	Commands []*Cmd
}

// New returns the root command of a: serve (also run when no command is
// given), migrate (when a.Migrations is set), seed, routes, graph, jobs,
// version and a.Commands. Errors are returned by Execute, not printed: the root
// command silences cobra's own error and usage printing.
func New(a App) *cobra.Command {
	name := a.Name
	if name == "" {
		name = path.Base(os.Args[0])
	}
	root := &cobra.Command{
		Use:           name,
		Short:         a.Short,
		Long:          a.Long,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if root.Short == "" {
		root.Short = name + ", a FastTrack application"
	}
	if root.Long == "" {
		root.Long = root.Short + ". Configuration comes from the environment (DATABASE_URL, HTTP_ADDR, …)."
	}
	serve := a.serveCmd()
	root.RunE = serve.RunE
	root.AddCommand(serve)
	if a.Migrations != nil {
		root.AddCommand(a.migrateCmd())
	}
	root.AddCommand(a.seedCmd(), a.routesCmd(), a.graphCmd(), a.jobsCmd(), a.versionCmd())
	for _, c := range a.Commands {
		root.AddCommand(a.bind(c))
	}
	return root
}

// Main runs the command line of a with the process's arguments, in a
// context that ends on SIGINT or SIGTERM (serve then stops gracefully). On
// error it prints "error: " and the error on stderr and exits with status 1.
func Main(a App) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := New(a).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func (a *App) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildVersion(a.Version))
			return err
		},
	}
}

// buildVersion describes the binary from its embedded build information:
// the main module's last path element, version (or the given one), VCS
// revision when known, and the Go version.
func buildVersion(version string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if version == "" {
			version = "(unknown build)"
		}
		return path.Base(os.Args[0]) + " " + version
	}
	name := path.Base(info.Main.Path)
	if info.Main.Path == "" {
		name = path.Base(os.Args[0])
	}
	if version == "" {
		version = info.Main.Version
	}
	v := name + " " + version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v + " " + info.GoVersion
}
