package fxmodules

import (
	"io/fs"

	"go.uber.org/fx"
)

// Framework bundles Config, Logging, Database, Migrations(migrations),
// Metrics, RequestScope and HTTP. Pass a nil migrations to leave migrations out.
func Framework(migrations fs.FS) fx.Option {
	opts := []fx.Option{Config(), Logging(), Database()}
	if migrations != nil {
		opts = append(opts, Migrations(migrations))
	}
	return fx.Options(append(opts, Metrics(), RequestScope(), HTTP())...)
}
