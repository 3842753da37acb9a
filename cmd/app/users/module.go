package users

import (
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/fasttrack-go/fasttrack/seed"
	"go.uber.org/fx"
)

// Module is the users feature: its Services and the /users routes.
func Module() fx.Option {
	return fx.Module("users", services(), fx.Invoke(Routes))
}

// Services is the users feature without its routes, for commands that serve
// no HTTP (app seed): the users table mapping (a singleton), the
// request-scoped Repository and the users seeder. Use either Module or
// Services in an app, not both.
func Services() fx.Option {
	return fx.Module("users", services())
}

func services() fx.Option {
	return fx.Options(
		fx.Provide(repo.NewTable[User], NewColumns),
		// scope.Func3 calls NewRepository directly, without reflection.
		fxmodules.Scoped(scope.Func3(NewRepository)),
		seed.Provide(NewSeeder),
	)
}
