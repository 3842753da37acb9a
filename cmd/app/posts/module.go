package posts

import (
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/fasttrack-go/fasttrack/seed"
	"go.uber.org/fx"
)

// Module is the posts feature: its Services, the /posts routes and the
// include parameter of GET /users/:id (UsersInclude). It goes with
// users.Module, which serves GET /users/:id.
func Module() fx.Option {
	return fx.Module("posts", services(), fx.Provide(UsersInclude), fx.Invoke(Routes))
}

// Services is the posts feature without its routes, for commands that serve
// no HTTP (app seed): the Schema (a singleton), the request-scoped
// Repository and the posts seeder, which needs users.Services or
// users.Module. Use either Module or Services in an app, not both.
func Services() fx.Option {
	return fx.Module("posts", services())
}

func services() fx.Option {
	return fx.Options(
		fx.Provide(NewSchema),
		// scope.Func2 calls NewRepository directly, without reflection.
		fxmodules.Scoped(scope.Func2(NewRepository)),
		seed.Provide(NewSeeder),
	)
}
