package fxmodules

import (
	"github.com/fasttrack-go/fasttrack/config"
	"go.uber.org/fx"
)

// Config provides config.Config, loaded from the environment by config.Load.
// An invalid variable fails the start with an error naming it. To use a
// Config built in code instead (tests, embedding apps), add
// fx.Replace(cfg) to the application.
func Config() fx.Option {
	return fx.Module("config", fx.Provide(config.Load))
}
