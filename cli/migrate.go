package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func (a *App) migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back, list or create migrations",
		Long: "Apply, roll back, list or create migrations. The application is built for its configuration,\n" +
			"pool and logger, but not started: nothing else runs, and MIGRATE_ON_START does not apply.",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration",
			Long: "Apply every pending migration of the application, then, when the application runs jobs\n" +
				"(fxmodules.Jobs), River's pending migrations of the job queue's tables.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.withMigrator(cmd.Context(), func(m *db.Migrator, j *queueSchema) error {
					applied, err := m.Up(cmd.Context())
					printVersions(cmd.OutOrStdout(), "applied", applied)
					var queue []int
					if err == nil && j != nil {
						queue, err = j.up(cmd.Context())
						for _, v := range queue {
							fmt.Fprintf(cmd.OutOrStdout(), "applied jobs %d\n", v)
						}
					}
					if err == nil && len(applied)+len(queue) == 0 {
						fmt.Fprintln(cmd.OutOrStdout(), "nothing to apply")
					}
					return err
				})
			},
		},
		&cobra.Command{
			Use:   "down",
			Short: "Roll back the most recent migration",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.withMigrator(cmd.Context(), func(m *db.Migrator, _ *queueSchema) error {
					v, err := m.Down(cmd.Context())
					if err == nil {
						if v == 0 {
							fmt.Fprintln(cmd.OutOrStdout(), "nothing to roll back")
						} else {
							fmt.Fprintf(cmd.OutOrStdout(), "rolled back %d\n", v)
						}
					}
					return err
				})
			},
		},
		&cobra.Command{
			Use:   "redo",
			Short: "Roll back the most recent migration and apply it again",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.withMigrator(cmd.Context(), func(m *db.Migrator, _ *queueSchema) error {
					v, err := m.Redo(cmd.Context())
					if err == nil {
						if v == 0 {
							fmt.Fprintln(cmd.OutOrStdout(), "nothing to redo")
						} else {
							fmt.Fprintf(cmd.OutOrStdout(), "rolled back %d\napplied %d\n", v, v)
						}
					}
					return err
				})
			},
		},
		&cobra.Command{
			Use:   "to VERSION",
			Short: "Migrate up or down to VERSION (0 rolls back every migration)",
			Long: "Apply the pending migrations up to and including VERSION, or roll back the applied ones above it,\n" +
				"the most recent first. VERSION is 0 or the version of one of the migrations.",
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				v, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || v < 0 {
					return fmt.Errorf("migrate to: VERSION %q: give 0 or a migration's version number", args[0])
				}
				return a.withMigrator(cmd.Context(), func(m *db.Migrator, _ *queueSchema) error {
					applied, rolledBack, err := m.To(cmd.Context(), v)
					printVersions(cmd.OutOrStdout(), "rolled back", rolledBack)
					printVersions(cmd.OutOrStdout(), "applied", applied)
					if err == nil && len(applied)+len(rolledBack) == 0 {
						fmt.Fprintf(cmd.OutOrStdout(), "already at %d\n", v)
					}
					return err
				})
			},
		},
		&cobra.Command{
			Use:   "status",
			Short: "List migrations: version, name, applied at or pending",
			Long: "List the application's migrations: version, name, applied at or pending; then, when the\n" +
				"application runs jobs (fxmodules.Jobs), River's migrations of the job queue's tables.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.withMigrator(cmd.Context(), func(m *db.Migrator, j *queueSchema) error {
					st, err := m.Status(cmd.Context())
					if err != nil {
						return err
					}
					if err := printStatus(cmd.OutOrStdout(), st); err != nil || j == nil {
						return err
					}
					return j.printStatus(cmd.Context(), cmd.OutOrStdout())
				})
			},
		},
		a.migrateCreateCmd(),
	)
	return cmd
}

// printVersions prints "verb N" for each version.
func printVersions(w io.Writer, verb string, versions []int64) {
	for _, v := range versions {
		fmt.Fprintf(w, "%s %d\n", verb, v)
	}
}

// withMigrator builds the application without starting it, to get its
// configuration, pool and logger, checks that the database answers, and runs
// fn with a migrator over a.Migrations and, when the application runs jobs,
// the job queue's schema (nil otherwise).
func (a *App) withMigrator(ctx context.Context, fn func(*db.Migrator, *queueSchema) error) (err error) {
	var (
		d   db.Dialect
		log *slog.Logger
		jc  *jobs.Client
	)
	o, err := a.build(fx.Populate(&d, &log), findJobs(&jc))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	pingCtx, cancel := context.WithTimeout(ctx, o.cfg.StartTimeout)
	defer cancel()
	if err := db.Ping(pingCtx, o.x, o.cfg.DatabaseURL); err != nil {
		return err
	}
	m, err := db.NewMigrator(o.x, d, a.Migrations, log)
	if err != nil {
		return err
	}
	var q *queueSchema
	if jc != nil {
		q = &queueSchema{c: jc, log: log}
	}
	return fn(m, q)
}

func printStatus(w io.Writer, st []db.MigrationStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED AT")
	for _, s := range st {
		at := "pending"
		if s.Applied {
			at = s.AppliedAt.UTC().Format("2006-01-02 15:04:05 MST")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Name, at)
	}
	return tw.Flush()
}

// validMigrationName reports a name `migrate create` accepts: a lower-case
// letter, then lower-case letters, digits and underscores, at most 63 bytes.
func validMigrationName(name string) bool {
	if name == "" || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

func (a *App) migrateCreateCmd() *cobra.Command {
	var dir string
	def := "none: --dir is required"
	if a.MigrationsDir != "" {
		def = a.MigrationsDir + " of " + a.moduleName() + ", found from the working directory up"
	}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create the next SQL migration, one file per dialect folder",
		Long: "Create NNNNN_NAME.sql, numbered one past the highest version already there, in each dialect folder\n" +
			"(sqlite, postgres, mysql) of the migrations folder: --dir, or else the application's folder (" + def + ").",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := a.createMigration(dir, args[0])
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), "created", f)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "existing migrations folder holding the sqlite, postgres and mysql folders (default: "+def+")")
	return cmd
}

// moduleName names the module whose root holds a.MigrationsDir.
func (a *App) moduleName() string {
	if a.Module == "" {
		return "the nearest module"
	}
	return "module " + a.Module
}

// migrationsDir returns the folder `migrate create` writes to: dir when it
// is given (it must be an existing folder), else a.MigrationsDir under the
// root of a.Module, the nearest folder at or above the working directory
// whose go.mod declares that module (any module when a.Module is empty).
func (a *App) migrationsDir(dir string) (string, error) {
	if dir != "" {
		st, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("migrate create: --dir %s does not exist: give an existing folder "+
				"(its sqlite, postgres and mysql folders are created as needed): %w", dir, err)
		}
		if err != nil {
			return "", fmt.Errorf("migrate create: --dir %s: %w", dir, err)
		}
		if !st.IsDir() {
			return "", fmt.Errorf("migrate create: --dir %s is not a folder", dir)
		}
		return dir, nil
	}
	if a.MigrationsDir == "" {
		return "", errors.New("migrate create: the application names no migrations folder (cli.App.MigrationsDir): give it with --dir")
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("migrate create: %w", err)
	}
	root, err := findModuleRoot(wd, a.Module)
	if err != nil {
		return "", fmt.Errorf("migrate create: %w", err)
	}
	if root == "" {
		gomod := "go.mod"
		if a.Module != "" {
			gomod = "go.mod of module " + a.Module
		}
		return "", fmt.Errorf("migrate create: no %s in %s or a folder above it, so no %s to write to: "+
			"run it inside that module, or give the migrations folder with --dir", gomod, wd, a.MigrationsDir)
	}
	dir = filepath.Join(root, filepath.FromSlash(a.MigrationsDir))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("migrate create: %s at %s has no folder %s: give the migrations folder with --dir",
			a.moduleName(), root, a.MigrationsDir)
	}
	return dir, nil
}

// findModuleRoot returns the nearest folder at or above dir holding a go.mod
// that declares module path (any module when path is ""), or "" when there
// is none. go.mod files of other modules on the way (a nested module such as
// tests/bench) are passed over.
func findModuleRoot(dir, path string) (string, error) {
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		switch {
		case err == nil:
			if path == "" || modulePath(b) == path {
				return dir, nil
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("reading go.mod: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod declares, or "" when it
// declares none: the argument of its module directive, unquoted, without a
// trailing comment.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest, _, _ = strings.Cut(rest, "//")
		rest = strings.TrimSpace(rest)
		if p, err := strconv.Unquote(rest); err == nil {
			return p
		}
		return rest
	}
	return ""
}

// createMigration writes NNNNN_name.sql, numbered one past the highest
// existing version, into each dialect folder of the migrations folder that
// a.migrationsDir(dir) returns. When one file cannot be written, the ones
// already written are removed.
func (a *App) createMigration(dir, name string) (created []string, err error) {
	if !validMigrationName(name) {
		return nil, fmt.Errorf("migration name %q: use lower-case letters, digits and underscores, starting with a letter", name)
	}
	dir, err = a.migrationsDir(dir)
	if err != nil {
		return nil, err
	}
	dialects := []db.Dialect{db.SQLite, db.Postgres, db.MySQL}
	next := int64(1)
	for _, d := range dialects {
		entries, err := os.ReadDir(filepath.Join(dir, d.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading migrations: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			prefix, _, _ := strings.Cut(e.Name(), "_")
			if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v >= next {
				next = v + 1
			}
		}
	}
	defer func() {
		if err != nil {
			for _, f := range created {
				_ = os.Remove(f)
			}
			created = nil
		}
	}()
	for _, d := range dialects {
		sub := filepath.Join(dir, d.Name())
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return created, fmt.Errorf("creating %s: %w", sub, err)
		}
		path := filepath.Join(sub, fmt.Sprintf("%05d_%s.sql", next, name))
		body := "-- +goose Up\n-- +goose StatementBegin\n\n-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\n\n-- +goose StatementEnd\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return created, fmt.Errorf("creating migration: %w", err)
		}
		if _, err := f.WriteString(body); err != nil {
			f.Close()
			return created, fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return created, fmt.Errorf("writing %s: %w", path, err)
		}
		created = append(created, path)
	}
	return created, nil
}
