package doccheck

import "testing"

// TestGoDocNamesOnlyExistingIdentifiers checks the comments of the module's
// Go files: every qualified pkg.Name (pkg a package of this module) and
// every doc link (a bracketed Name, Type.Method or pkg.Name) must exist.
func TestGoDocNamesOnlyExistingIdentifiers(t *testing.T) {
	root := moduleRoot(t)
	idx := indexModule(t, root)
	refs := 0
	for _, f := range idx.files {
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
