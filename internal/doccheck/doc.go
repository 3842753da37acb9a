// Package doccheck holds a test that keeps the documentation honest: every
// identifier of a project package that README.md, docs/**/*.md or a Go doc
// comment names as pkg.Name, pkg.Type.Member or (*pkg.Type).Method must exist
// in that package. It has no code of its own; see doccheck_test.go.
package doccheck
