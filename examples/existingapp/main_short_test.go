package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestMainGivesTheCLIInTenLines checks the promise the example makes: an
// app of one's own gets FastTrack's whole command line in at most ten lines
// of main.go, not counting the package clause, imports and comments.
func TestMainGivesTheCLIInTenLines(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			continue
		}
		lines += fset.Position(d.End()).Line - fset.Position(d.Pos()).Line + 1
	}
	if lines == 0 || lines > 10 {
		t.Fatalf("main.go has %d lines of declarations, want 1 to 10", lines)
	}
}
