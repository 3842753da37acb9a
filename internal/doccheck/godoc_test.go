package doccheck

import (
	"maps"
	"path/filepath"
	"testing"
)

// TestGoDocNamesOnlyExistingIdentifiers checks the comments of the module's
// Go files: every qualified pkg.Name (pkg a package of this module) and
// every doc link (a bracketed Name, Type.Method or pkg.Name) must exist.
func TestGoDocNamesOnlyExistingIdentifiers(t *testing.T) {
	root := moduleRoot(t)
	idx := indexModule(t, root)
	// go doc resolves a doc link's package through the imports of any
	// file of the package.
	imports := map[string]map[string]bool{}
	for _, f := range idx.files {
		dir := filepath.Dir(f.path)
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		maps.Copy(imports[dir], importNames(f.file))
	}
	refs := 0
	for _, f := range idx.files {
		f.pkgImports = imports[filepath.Dir(f.path)]
		for _, r := range commentRefs(f) {
			refs++
			if msg := idx.check(r); msg != "" {
				t.Errorf("%s:%d: %q: %s", rel(root, f.path), r.line, r.text, msg)
			}
		}
	}
	if refs == 0 {
		t.Fatal("no references found in Go comments: the extraction is broken")
	}
}
