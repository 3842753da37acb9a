package users

import (
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/repo"
	"go.uber.org/fx"
)

// Module is the users feature: the users table mapping (a singleton), the
// request-scoped Repository, and the /users routes.
func Module() fx.Option {
	return fx.Module("users",
		fx.Provide(repo.NewTable[User]),
		fxmodules.Scoped(NewRepository),
		fx.Invoke(Routes),
	)
}
