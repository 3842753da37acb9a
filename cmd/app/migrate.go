package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back, list or create migrations",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withMigrator(cmd.Context(), func(m *db.Migrator) error {
					applied, err := m.Up(cmd.Context())
					for _, v := range applied {
						fmt.Fprintf(cmd.OutOrStdout(), "applied %d\n", v)
					}
					if err == nil && len(applied) == 0 {
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
				return withMigrator(cmd.Context(), func(m *db.Migrator) error {
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
			Use:   "status",
			Short: "List migrations: version, name, applied at or pending",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withMigrator(cmd.Context(), func(m *db.Migrator) error {
					st, err := m.Status(cmd.Context())
					if err != nil {
						return err
					}
					return printStatus(cmd.OutOrStdout(), st)
				})
			},
		},
		newMigrateCreateCmd(),
	)
	return cmd
}

// withMigrator opens the configured database, checks it answers, and runs fn
// with a migrator over the embedded migrations.
func withMigrator(ctx context.Context, fn func(*db.Migrator) error) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	x, d, err := db.Open(cfg)
	if err != nil {
		return err
	}
	defer x.Close()
	pingCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := db.Ping(pingCtx, x, cfg.DatabaseURL); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	m, err := db.NewMigrator(x, d, migrations.FS, log)
	if err != nil {
		return err
	}
	return fn(m)
}

func printStatus(w interface{ Write([]byte) (int, error) }, st []db.MigrationStatus) error {
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

func newMigrateCreateCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create the next SQL migration, one file per dialect folder",
		Long: "Create NNNNN_NAME.sql, numbered one past the highest version already there, in each dialect folder\n" +
			"(sqlite, postgres, mysql) of the migrations folder: --dir, or else " + appMigrationsDir + " of module\n" +
			appModule + ", whose go.mod is looked for in the working directory and the folders above it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := createMigration(dir, args[0])
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), "created", f)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "existing migrations folder holding the sqlite, postgres and mysql folders "+
		"(default: "+appMigrationsDir+" of module "+appModule+", found from the working directory up)")
	return cmd
}

const (
	// appModule is the module whose migrations `migrate create` writes
	// when no --dir is given.
	appModule = "github.com/fasttrack-go/fasttrack"
	// appMigrationsDir is the reference app's migrations folder, relative
	// to appModule's root, with forward slashes.
	appMigrationsDir = "cmd/app/migrations"
)

// migrationsDir returns the folder `migrate create` writes to: dir when it
// is given (it must be an existing folder), else appMigrationsDir under the
// root of appModule, the nearest folder at or above the working directory
// whose go.mod declares that module.
func migrationsDir(dir string) (string, error) {
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
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("migrate create: %w", err)
	}
	root, err := findModuleRoot(wd, appModule)
	if err != nil {
		return "", fmt.Errorf("migrate create: %w", err)
	}
	if root == "" {
		return "", fmt.Errorf("migrate create: no go.mod of module %s in %s or a folder above it, so no %s to write to: "+
			"run it inside that module, or give the migrations folder with --dir", appModule, wd, appMigrationsDir)
	}
	dir = filepath.Join(root, filepath.FromSlash(appMigrationsDir))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("migrate create: module %s at %s has no folder %s: give the migrations folder with --dir",
			appModule, root, appMigrationsDir)
	}
	return dir, nil
}

// findModuleRoot returns the nearest folder at or above dir holding a go.mod
// that declares module path, or "" when there is none. go.mod files of other
// modules on the way (a nested module such as tests/bench) are passed over.
func findModuleRoot(dir, path string) (string, error) {
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		switch {
		case err == nil:
			if modulePath(b) == path {
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
// migrationsDir(dir) returns. When one file cannot be written, the ones
// already written are removed.
func createMigration(dir, name string) (created []string, err error) {
	if !validMigrationName(name) {
		return nil, fmt.Errorf("migration name %q: use lower-case letters, digits and underscores, starting with a letter", name)
	}
	dir, err = migrationsDir(dir)
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
