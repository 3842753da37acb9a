package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func (a *App) routesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "routes",
		Short: "List the HTTP routes: method, path, handler, transaction policy",
		Long: "List every route of the application's HTTP engine, built through Fx as `serve` builds it,\n" +
			"without connecting to the database or listening.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			var e *gin.Engine
			o, err := a.build(fx.Populate(&e))
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, o.stop()) }()
			handler, policy := routeDetails(e)
			return printRoutes(cmd.OutOrStdout(), e.Routes(), handler, policy)
		},
	}
}

// routeLookup tells, for the route of method and path, what gin's RouteInfo
// does not; it answers "" when it does not know.
type routeLookup func(method, path string) string

// routeDetails returns the lookups that name the function a route's adapter
// wraps (the fn given to api.Handle) and describe the route's transaction
// policy (read-only, isolation, retry N) as set by api.Handle's options
// (api.DescribeRoutes). Routes not made by api.Handle show gin's handler
// name and "-".
func routeDetails(e *gin.Engine) (handler, policy routeLookup) {
	routes := api.DescribeRoutes(e)
	handler = func(method, path string) string {
		if ri, ok := routes[method+" "+path]; ok {
			return handlerName(ri.Handler)
		}
		return ""
	}
	policy = func(method, path string) string { return routes[method+" "+path].Policy }
	return handler, policy
}

// printRoutes writes the routes as a table, sorted by path, then method.
func printRoutes(w io.Writer, routes gin.RoutesInfo, handler, policy routeLookup) error {
	routes = slices.Clone(routes)
	slices.SortFunc(routes, func(a, b gin.RouteInfo) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(methodRank(a.Method), methodRank(b.Method)),
			strings.Compare(a.Method, b.Method))
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tHANDLER\tTX POLICY")
	for _, r := range routes {
		h := handlerName(r.Handler)
		if handler != nil {
			if s := handler(r.Method, r.Path); s != "" {
				h = s
			}
		}
		p := "-"
		if policy != nil {
			if s := policy(r.Method, r.Path); s != "" {
				p = s
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Method, r.Path, h, p)
	}
	return tw.Flush()
}

// methodRank orders the usual methods as one reads them.
func methodRank(m string) int {
	if i := slices.Index([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, m); i >= 0 {
		return i
	}
	return 100
}

// handlerName shortens a function's full name to its package's last element
// and the function ("api.Healthz", "gin.WrapH.func1", "users.create").
func handlerName(full string) string {
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[i+1:]
	}
	return full
}
