package doccheck

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestDocsNameOnlyExistingIdentifiers checks README.md, CONTRIBUTING.md and
// docs/**/*.md:
// every pkg.Name, pkg.Type.Member and (*pkg.Type).Method in a code span or a
// code block, where pkg is a package of this module, must exist.
func TestDocsNameOnlyExistingIdentifiers(t *testing.T) {
	root := moduleRoot(t)
	idx := indexModule(t, root)
	files := markdownFiles(t, root)
	if len(files) == 0 {
		t.Fatal("no README.md or docs/*.md found")
	}
	refs := 0
	for _, path := range files {
		for _, r := range markdownRefs(t, path) {
			refs++
			if msg := idx.check(r); msg != "" {
				t.Errorf("%s:%d: `%s`: %s", rel(root, path), r.line, r.text, msg)
			}
		}
	}
	if refs == 0 {
		t.Fatal("no references to the module's packages found: the extraction is broken")
	}
}

// TestExtraction pins down what counts as a reference, so that a change to
// the patterns cannot silently check nothing.
func TestExtraction(t *testing.T) {
	tests := []struct {
		text string
		want []string // pkg.Name[.Member]
	}{
		{"scope.Run", []string{"scope.Run"}},
		{"api.Handle(fn, api.WithReadOnly())", []string{"api.Handle", "api.WithReadOnly"}},
		{"scope.Registry.OpenAt", []string{"scope.Registry.OpenAt"}},
		{"(*db.Tx).Savepoint", []string{"db.Tx.Savepoint"}},
		{"(db.TxOptions).Timeout", []string{"db.TxOptions.Timeout"}},
		{"repo.Base[T].Create", []string{"repo.Base.Create"}},
		{"api.Resolve[*db.Tx](c)", []string{"api.Resolve", "db.Tx"}},
		{"*db.Tx", []string{"db.Tx"}},
		{"fxmodules.newEngine.WrapH.func3", []string{"fxmodules.newEngine.WrapH"}},
		{"app.db and db/pgbegin.go", []string{"app.db"}},
		{`"github.com/fasttrack-go/fasttrack/fxmodules".captiveQuerier`, nil},
		{"x.db.Open", []string{"x.db.Open"}},
		{"users := repo.NewTable[User](db.Postgres); users.On(tx)", []string{"repo.NewTable", "db.Postgres"}},
		{"for _, db := range dbs { db.Stats() }", nil},
		{"var scope Thing; scope.Run()", nil},
		{"gin.Context", []string{"gin.Context"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range codeRefs(tt.text, 1) {
			s := r.pkg + "." + r.name
			if r.member != "" {
				s += "." + r.member
			}
			got = append(got, s)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("codeRefs(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}

	spans := codeSpans("a `x.Y` b ``c `d` e`` f `unclosed")
	if want := []string{"x.Y", "c `d` e"}; !slices.Equal(spans, want) {
		t.Errorf("codeSpans = %q, want %q", spans, want)
	}
}

// TestMarkdownRefs checks what a Markdown file yields: code spans and fenced
// blocks, not prose, and not a variable declared earlier in the same block.
func TestMarkdownRefs(t *testing.T) {
	md := "Prose names scope.Run and is not checked; `api.Scope(c)` is.\n" +
		"\n" +
		"```go\n" +
		"users := repo.NewTable[User](db.Postgres)\n" +
		"err = users.On(tx).Create(ctx, u)\n" +
		"```\n" +
		"`users.Module()` outside the block is a package again.\n" +
		"~~~\n" +
		"fxmodules.Scoped(NewRepo)\n" +
		"~~~\n"
	path := filepath.Join(t.TempDir(), "x.md")
	if err := os.WriteFile(path, []byte(md), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range markdownRefs(t, path) {
		got = append(got, fmt.Sprintf("%d:%s.%s", r.line, r.pkg, r.name))
	}
	want := []string{"1:api.Scope", "4:repo.NewTable", "4:db.Postgres", "7:users.Module", "9:fxmodules.Scoped"}
	if !slices.Equal(got, want) {
		t.Errorf("markdownRefs = %q, want %q", got, want)
	}
}

// TestCommentRefs checks what a Go file's comments yield: qualified names
// and doc links, resolved against the file's imports and own package.
func TestCommentRefs(t *testing.T) {
	src := `package p

import "example.com/m/scope"

// F uses [scope.Registry.Run], [Open], [*T] and [T.M], not Table[T] nor
// map[string]int; see scope.Run and (*scope.Scope).End.
//
//	users := repo.NewTable[User](db.Postgres)
//	users.On(tx)
//
// [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457
func F() {}

func ExampleF() {
	F()
	// Output:
	// [Dune] scope.Printed
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range commentRefs(goFile{path: "p.go", pkg: "p", fset: fset, file: f}) {
		if !slices.Contains([]string{"p", "scope", "repo", "db", "users"}, r.pkg) {
			continue // T.M, editor.org: extracted, but no package check would look them up
		}
		s := fmt.Sprintf("%d:%s.%s", r.line, r.pkg, r.name)
		if r.member != "" {
			s += "." + r.member
		}
		got = append(got, s)
	}
	want := []string{
		"5:scope.Registry.Run", "5:p.Open", "5:p.T", "5:p.T.M",
		"5:scope.Registry.Run", // the same text, as a qualified name
		"6:scope.Scope.End", "6:scope.Run",
		"8:repo.NewTable", "8:db.Postgres",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commentRefs =\n%q, want\n%q", got, want)
	}
}

// TestCheck pins down the verdicts on a small package, so that the docs
// tests cannot pass by accepting everything.
func TestCheck(t *testing.T) {
	src := `package p

import "example.com/other"

type T struct {
	Field int
	inner
	*U
}
type inner struct{ Deep int }
type U struct{}
func (U) M() {}
func (*T) N() {}
type I interface{ IM() }
type Open struct{ other.Thing }
type Alias = U
func F() {}
var V, w int
const C = 1
`
	idx := newIndex()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	idx.add("p.go", "p", f)
	tests := []struct {
		name, member string
		ok           bool
	}{
		{"T", "", true},
		{"F", "", true},
		{"V", "", true},
		{"C", "", true},
		{"w", "", true}, // lower case: not checked
		{"Missing", "", false},
		{"T", "Field", true},
		{"T", "N", true},
		{"T", "M", true},    // promoted from *U
		{"T", "Deep", true}, // promoted from inner
		{"T", "Nope", false},
		{"I", "IM", true},
		{"I", "Nope", false},
		{"Open", "Anything", true}, // embeds a type of another module: not checked
		{"Alias", "M", true},
		{"Alias", "Nope", false},
		{"F", "Anything", true}, // a func's or var's members are not checked
	}
	for _, tt := range tests {
		r := ref{pkg: "p", name: tt.name, member: tt.member}
		if msg := idx.check(r); (msg == "") != tt.ok {
			t.Errorf("check(p.%s.%s) = %q, want ok=%v", tt.name, tt.member, msg, tt.ok)
		}
	}
	if msg := idx.check(ref{pkg: "q", name: "Missing"}); msg != "" {
		t.Errorf("a package outside the module is checked: %s", msg)
	}
}

// ref is one reference to a package's identifier.
type ref struct {
	line   int
	text   string // as written
	pkg    string // package name
	name   string // top-level identifier
	member string // method or field of name, or ""
	own    bool   // an unqualified doc link: pkg is the comment's own package
}

// typeInfo is what a type declares: its exported methods and fields, and
// what it embeds (or aliases), through which it has more.
type typeInfo struct {
	members map[string]bool
	embeds  []ast.Expr
}

// pkgInfo is one package directory.
type pkgInfo struct {
	dir   string
	names map[string]bool // top-level identifiers, exported or not
	types map[string]*typeInfo
}

// goFile is a parsed Go file of the module.
type goFile struct {
	path string
	pkg  string // package name, without _test
	fset *token.FileSet
	file *ast.File
	// pkgImports, when set, are the import names of every file of the
	// package: go doc resolves a doc link's package through any of them.
	pkgImports map[string]bool
}

// index maps package names to the module's packages of that name.
type index struct {
	pkgs  map[string][]*pkgInfo
	files []goFile
}

func newIndex() *index { return &index{pkgs: map[string][]*pkgInfo{}} }

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}

// indexModule parses every Go file of the module (nested modules, testdata
// and hidden folders excluded). Package main is left out: nothing can import
// it, so "main.X" in the docs names a user's program.
func indexModule(t *testing.T, root string) *index {
	t.Helper()
	idx := newIndex()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("doccheck: %w", err)
		}
		name := strings.TrimSuffix(f.Name.Name, "_test")
		if name == "main" {
			return nil
		}
		idx.files = append(idx.files, goFile{path: path, pkg: name, fset: fset, file: f})
		if !strings.HasSuffix(path, "_test.go") {
			idx.add(filepath.Dir(path), name, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.pkgs) == 0 {
		t.Fatal("no packages found in the module")
	}
	return idx
}

// add records the declarations of f, a file of package name in dir.
func (idx *index) add(dir, name string, f *ast.File) {
	var p *pkgInfo
	for _, q := range idx.pkgs[name] {
		if q.dir == dir {
			p = q
		}
	}
	if p == nil {
		p = &pkgInfo{dir: dir, names: map[string]bool{}, types: map[string]*typeInfo{}}
		idx.pkgs[name] = append(idx.pkgs[name], p)
	}
	typ := func(n string) *typeInfo {
		ti := p.types[n]
		if ti == nil {
			ti = &typeInfo{members: map[string]bool{}}
			p.types[n] = ti
		}
		return ti
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				p.names[d.Name.Name] = true
				continue
			}
			if recv := baseName(d.Recv.List[0].Type); recv != "" {
				typ(recv).members[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						p.names[n.Name] = true
					}
				case *ast.TypeSpec:
					p.names[s.Name.Name] = true
					ti := typ(s.Name.Name)
					if s.Assign.IsValid() {
						ti.embeds = append(ti.embeds, s.Type)
						continue
					}
					switch tt := s.Type.(type) {
					case *ast.StructType:
						for _, fld := range tt.Fields.List {
							if len(fld.Names) == 0 {
								ti.embeds = append(ti.embeds, fld.Type)
							}
							for _, n := range fld.Names {
								ti.members[n.Name] = true
							}
						}
					case *ast.InterfaceType:
						for _, m := range tt.Methods.List {
							if len(m.Names) == 0 {
								ti.embeds = append(ti.embeds, m.Type)
							}
							for _, n := range m.Names {
								ti.members[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
}

// baseName is the name of a receiver or embedded type: T, *T, T[P], *T[P].
func baseName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// check returns "" when r exists, or why not. A package name that is not
// one of the module's is not checked.
func (idx *index) check(r ref) string {
	pkgs := idx.pkgs[r.pkg]
	if len(pkgs) == 0 || !exported(r.name) && !r.own {
		return ""
	}
	for _, p := range pkgs {
		if !p.names[r.name] {
			continue
		}
		if r.member == "" || !exported(r.member) {
			return ""
		}
		if p.types[r.name] == nil {
			return "" // a func, var or const: its members are not checked
		}
		if idx.hasMember(p, r.name, r.member, 0) {
			return ""
		}
	}
	if r.member != "" && slices.ContainsFunc(pkgs, func(p *pkgInfo) bool { return p.names[r.name] }) {
		return fmt.Sprintf("%s.%s has no method or field %s", r.pkg, r.name, r.member)
	}
	return fmt.Sprintf("package %s (%s) has no %s", r.pkg, strings.Join(dirs(pkgs), ", "), r.name)
}

func dirs(pkgs []*pkgInfo) []string {
	var ds []string
	for _, p := range pkgs {
		ds = append(ds, filepath.Base(p.dir))
	}
	return ds
}

// hasMember reports whether type name of p has member, declared or promoted
// through an embedded type. A type that embeds a type from outside the
// module might have any member: it is accepted.
func (idx *index) hasMember(p *pkgInfo, name, member string, depth int) bool {
	ti := p.types[name]
	if ti == nil || depth > 8 {
		return false
	}
	if ti.members[member] {
		return true
	}
	for _, e := range ti.embeds {
		for {
			if s, ok := e.(*ast.StarExpr); ok {
				e = s.X
				continue
			}
			break
		}
		if x, ok := e.(*ast.IndexExpr); ok {
			e = x.X
		}
		if x, ok := e.(*ast.IndexListExpr); ok {
			e = x.X
		}
		switch x := e.(type) {
		case *ast.Ident:
			if p.types[x.Name] == nil {
				return true // a predeclared type (error) or one we cannot see
			}
			if idx.hasMember(p, x.Name, member, depth+1) {
				return true
			}
		case *ast.SelectorExpr:
			pkgID, ok := x.X.(*ast.Ident)
			if !ok || len(idx.pkgs[pkgID.Name]) == 0 {
				return true // another module's type
			}
			for _, q := range idx.pkgs[pkgID.Name] {
				if idx.hasMember(q, x.Sel.Name, member, depth+1) {
					return true
				}
			}
		default:
			return true // a type literal or union: not analysed
		}
	}
	return false
}

func exported(name string) bool {
	for _, r := range name {
		return unicode.IsUpper(r)
	}
	return false
}

// markdownFiles returns README.md, CONTRIBUTING.md and every .md file under
// docs/.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, name := range []string{"README.md", "CONTRIBUTING.md"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			files = append(files, filepath.Join(root, name))
		}
	}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// markdownRefs extracts the references in the code spans and fenced code
// blocks of a Markdown file.
func markdownRefs(t *testing.T, path string) []ref {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs, block []ref
	var fence string         // the open fence's marker, or ""
	var code strings.Builder // the open block's text
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				// A variable declared anywhere in the block is no package.
				refs = append(refs, withoutLocals(block, locals(code.String()))...)
				fence, block = "", nil
				code.Reset()
				continue
			}
			block = append(block, qualifiedRefs(text, line)...)
			code.WriteString(text + "\n")
			continue
		}
		if m := fenceRE.FindString(trimmed); m != "" {
			fence = m
			continue
		}
		for _, span := range codeSpans(text) {
			refs = append(refs, codeRefs(span, line)...)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if fence != "" {
		t.Fatalf("%s: a code block is never closed", path)
	}
	return refs
}

var fenceRE = regexp.MustCompile("^(```+|~~~+)")

// codeSpans returns the contents of the code spans of one line: a run of n
// backticks up to the next run of exactly n.
func codeSpans(line string) []string {
	var spans []string
	for i := 0; i < len(line); {
		if line[i] != '`' {
			i++
			continue
		}
		n := run(line, i)
		start := i + n
		end := -1
		for j := start; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := run(line, j)
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 {
			i = start
			continue
		}
		spans = append(spans, line[start:end])
		i = end + n
	}
	return spans
}

// run is the number of backticks at line[i:].
func run(line string, i int) int {
	n := 0
	for i+n < len(line) && line[i+n] == '`' {
		n++
	}
	return n
}

var (
	// (*pkg.T).M or (pkg.T).M
	methodExprRE = regexp.MustCompile(`\(\*?([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\[[^\]]*\])?\)\.([A-Za-z_]\w*)`)
	// pkg.Name, pkg.Name.Member, pkg.Name[T].Member; not preceded by a
	// word character, a dot, a slash or a quote (x.db.Open, app.db,
	// "path".name).
	qualifiedRE = regexp.MustCompile(`(?:^|[^\w./"'])([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\[([^\]]*)\])?(?:\.([A-Za-z_]\w*))?`)
)

// codeRefs extracts the qualified references of a piece of code, leaving
// out those whose "package" is a variable the code declares (users :=,
// var db, for _, db := range).
func codeRefs(code string, line int) []ref {
	return withoutLocals(qualifiedRefs(code, line), locals(code))
}

// qualifiedRefs extracts the qualified references of a piece of code.
func qualifiedRefs(code string, line int) []ref {
	var refs []ref
	for _, m := range methodExprRE.FindAllStringSubmatch(code, -1) {
		refs = append(refs, ref{line: line, text: m[0], pkg: m[1], name: m[2], member: m[3]})
	}
	code = methodExprRE.ReplaceAllString(code, " ")
	for _, m := range qualifiedRE.FindAllStringSubmatchIndex(code, -1) {
		r := ref{line: line, pkg: code[m[2]:m[3]], name: code[m[4]:m[5]]}
		r.text = strings.TrimLeft(code[m[0]:m[1]], " \t([{*&,;:=!<>+-|")
		if m[8] >= 0 {
			r.member = code[m[8]:m[9]]
		}
		refs = append(refs, r)
		if m[6] >= 0 { // type arguments: api.Resolve[*db.Tx]
			refs = append(refs, qualifiedRefs(code[m[6]:m[7]], line)...)
		}
	}
	return refs
}

var (
	shortDeclRE = regexp.MustCompile(`([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:=`)
	varDeclRE   = regexp.MustCompile(`\bvar\s+([A-Za-z_]\w*)`)
)

// locals returns the names that code declares as variables.
func locals(code string) map[string]bool {
	names := map[string]bool{}
	for _, m := range shortDeclRE.FindAllStringSubmatch(code, -1) {
		for n := range strings.SplitSeq(m[1], ",") {
			names[strings.TrimSpace(n)] = true
		}
	}
	for _, m := range varDeclRE.FindAllStringSubmatch(code, -1) {
		names[m[1]] = true
	}
	return names
}

// withoutLocals drops the references whose package is one of locals.
func withoutLocals(refs []ref, locals map[string]bool) []ref {
	return slices.DeleteFunc(refs, func(r ref) bool { return locals[r.pkg] })
}

// docLinkRE matches a Go doc link: a bracketed Name, Name.Member, pkg.Name
// or pkg.Name.Member, optionally with a leading *. The bracket must not
// follow a word character or a bracket (Table[T], map[string]), nor be
// followed by ":" (a link definition) or "(".
var docLinkRE = regexp.MustCompile(`(?:^|[^\w\]\[])\[\*?([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?:\.([A-Za-z_]\w*))?\](?:[^:(\w]|$)`)

// commentRefs extracts the references of the comments of one Go file: the
// qualified names (pkg.Name) in any comment and the doc links.
func commentRefs(f goFile) []ref {
	imports := importNames(f.file)
	maps.Copy(imports, f.pkgImports)
	var refs []ref
	for _, group := range f.file.Comments {
		if isExampleOutput(group) {
			continue // what an example prints is not documentation
		}
		var qualified []ref
		var code strings.Builder
		for _, c := range group.List {
			if strings.HasPrefix(c.Text, "//go:") || strings.HasPrefix(c.Text, "//nolint") {
				continue
			}
			start := f.fset.Position(c.Slash).Line
			for i, text := range strings.Split(c.Text, "\n") {
				line := start + i
				code.WriteString(text + "\n")
				qualified = append(qualified, qualifiedRefs(text, line)...)
				for _, m := range docLinkRE.FindAllStringSubmatch(text, -1) {
					refs = append(refs, docLink(f.pkg, imports, line, m))
				}
			}
		}
		// A variable declared in an example of the comment is no package.
		refs = append(refs, withoutLocals(qualified, locals(code.String()))...)
	}
	return refs
}

// isExampleOutput reports whether group is an example's expected output.
func isExampleOutput(group *ast.CommentGroup) bool {
	first := strings.TrimSpace(strings.TrimPrefix(group.List[0].Text, "//"))
	return strings.HasPrefix(first, "Output:") || strings.HasPrefix(first, "Unordered output:")
}

// importNames returns the names under which file imports packages.
func importNames(file *ast.File) map[string]bool {
	imports := map[string]bool{}
	for _, imp := range file.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = true
	}
	return imports
}

// docLink turns a doc link match into a reference: pkg.Name... when the
// first word is an imported package, Name... of the file's own package
// otherwise.
func docLink(own string, imports map[string]bool, line int, m []string) ref {
	text := strings.TrimSpace(m[0])
	if m[2] != "" && imports[m[1]] {
		return ref{line: line, text: text, pkg: m[1], name: m[2], member: m[3]}
	}
	if m[3] != "" {
		// A.B.C with A not an import: not a doc link.
		return ref{line: line, text: text}
	}
	return ref{line: line, text: text, pkg: own, name: m[1], member: m[2], own: true}
}
