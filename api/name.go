package api

import (
	"reflect"
	"runtime"
)

// runtimeName returns the name of the function in fn, or "".
func runtimeName(fn reflect.Value) string {
	if f := runtime.FuncForPC(fn.Pointer()); f != nil {
		return f.Name()
	}
	return ""
}
