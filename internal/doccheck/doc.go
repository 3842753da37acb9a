// Package doccheck holds the tests that keep the documentation true: every
// identifier of a project package that README.md, CONTRIBUTING.md,
// docs/**/*.md or a Go doc comment names as pkg.Name, pkg.Type.Member or
// (*pkg.Type).Method must exist in that package, and the Markdown files read
// as documentation for users, not as a diary (no work sessions, no commit
// hashes, no moods of the machine). It has no code of its own; see its
// tests.
package doccheck
