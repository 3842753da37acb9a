// Command app is FastTrack's reference service: an Fx application that
// configures itself from the environment, migrates its database and serves
// HTTP. Run it with no arguments to serve; see `app --help` for the rest.
package main

import (
	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"go.uber.org/fx"
)

func main() { cli.Main(app()) }

// app is the reference service: the framework, its migrations, and the
// features, with jobs unless DATABASE_URL names a MySQL database.
func app() cli.App {
	return cli.App{
		Name:          "app",
		Short:         "FastTrack reference service",
		Options:       fx.Options(fxmodules.Framework(migrations.FS), features(envDialect())),
		Migrations:    migrations.FS,
		Module:        "github.com/fasttrack-go/fasttrack",
		MigrationsDir: "cmd/app/migrations",
	}
}
