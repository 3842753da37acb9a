// Package scope is the request-scope runtime of the dependency-injection
// framework.
//
// Fx holds singletons. A [Registry] holds the other two lifetimes:
// [Scoped] constructors, whose instance is built once per [Scope] on first
// use and released when the scope ends, and [Transient] constructors, whose
// instance is built anew on every resolution.
//
// Providers are added to a Registry at application start and compiled once by
// [Registry.Compile] into resolution plans: every constructor parameter is
// bound to the scope's context, to another provider of the registry or to a
// singleton, and dependency cycles are rejected. After Compile the registry is
// read-only and safe for concurrent use.
//
// A Scope is opened per HTTP request or job with [Registry.Open] (or
// [Registry.Run]), used to resolve instances, ended with [Scope.End] (which
// lets [Finisher] instances such as database transactions commit or roll back)
// and released with [Scope.Release]. Resolution analyses nothing by reflection
// and builds no maps: the only reflection per resolution is the
// reflect.Value.Call of a user constructor made by [NewProvider];
// constructors made by [NewFuncProvider] are called directly.
//
// Goroutines of one request may resolve from the same scope concurrently; a
// scoped instance is built exactly once per scope. The scope holds a mutex
// while it builds instances, so a constructor must not resolve from its own
// scope: doing so deadlocks.
//
// Memory: the per-scope slot array and creation-order list come from a
// sync.Pool of the registry and are cleared before they go back to it. The
// *Scope itself is a small allocation per Open that never goes back to a
// pool, so a stale *Scope used after Release reliably reports [ErrReleased]
// and can never observe the instances of a later scope.
package scope
