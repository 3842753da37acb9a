package users

import (
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// Module is the users feature: its Services, the /users routes and the
// welcome email. When the app provides an Includes (the posts feature
// does), GET /users/:id hands it the requests that have an include
// parameter.
//
// In an app with jobs (fxmodules.Jobs), POST /users enqueues a welcome
// email job (WelcomeArgs) in its transaction, and SendWelcome works it,
// sending through the Mailer (a LogMailer unless the app decorates it).
// In an app without jobs, POST /users enqueues nothing.
func Module() fx.Option {
	return fx.Module("users",
		services(),
		fx.Provide(NewLogMailer, newWelcomeQueue),
		fxmodules.Scoped(scope.Func2(newWelcomer)),
		fxmodules.JobWorkers(jobs.Work2(SendWelcome)),
		fx.Invoke(func(in routesIn) { routes(in.Engine, in.Includes) }),
	)
}

// routesIn is what Module's routes take from the app.
type routesIn struct {
	fx.In
	Engine   *gin.Engine
	Includes Includes `optional:"true"`
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
