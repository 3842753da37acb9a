package api_test

import (
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

// compiledRegistry returns a registry of providers, compiled with no
// singletons.
func compiledRegistry(t *testing.T, providers ...*scope.Provider) *scope.Registry {
	t.Helper()
	reg := scope.NewRegistry()
	for _, p := range providers {
		if err := reg.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		t.Fatal(err)
	}
	return reg
}
