package repo

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// SoftDeleteScope is the name of the global scope that leaves soft-deleted
// rows out of the queries of a model that embeds SoftDelete. It is always
// known to Query.Without, which lifts it as WithTrashed does, and AddScope
// rejects it.
const SoftDeleteScope = "soft_delete"

// namedScope is one global scope of a table.
type namedScope struct {
	name string
	n    pnode
}

// scopeSet holds a table's global scopes. A registration replaces the set
// (copy on write), so a query reads one consistent set without a lock.
type scopeSet struct {
	list []namedScope
}

// tableScopes is the part of a Table that holds its global scopes.
type tableScopes struct {
	mu  sync.Mutex // serialises AddScope
	set atomic.Pointer[scopeSet]
}

// scopes returns the table's registered global scopes, soft delete aside;
// nil when there is none.
func (t *Table[T]) scopes() []namedScope {
	if s := t.gs.set.Load(); s != nil {
		return s.list
	}
	return nil
}

// AddScope registers p as the global scope name of t: from then on, every
// Query of t (All, First, One, Count, Exists, Page, Keyset, Chunks, Update,
// Delete, ForceDelete, and Pluck, Sum, Avg, Min, Max, Select, SelectGroups,
// a subquery, either side of a Join) and Base's reads (Find, FindOrFail, FindBy, FirstBy,
// Exists, Count, All, Keyset) include only the rows p holds for, unless
// the query lifts it with Without(name). Base's writes by id (Update,
// Delete, ForceDelete, Restore) and Upsert do not apply global scopes: they
// act on the row they are given. A tenant filter, or a "published" flag,
// is a global scope:
//
//	userTable.AddScope("active", active.Eq(true))
//
// Register scopes when the program starts, next to NewTable; it is safe
// to do so while queries run (a query sees the scopes registered when it
// is rendered). An empty name, a name already registered, SoftDeleteScope,
// and a zero or failed predicate are errors, and nothing is registered.
// A global scope cannot be removed.
func (t *Table[T]) AddScope(name string, p Predicate[T]) error {
	switch {
	case name == "":
		return fmt.Errorf("repo: add scope to %s: empty name", t.name)
	case name == SoftDeleteScope:
		return fmt.Errorf("repo: add scope to %s: %q is the soft-delete scope's name", t.name, name)
	}
	if err := checkPred(&p.n); err != nil {
		return fmt.Errorf("repo: add scope %q to %s: %w", name, t.name, err)
	}
	t.gs.mu.Lock()
	defer t.gs.mu.Unlock()
	old := t.scopes()
	if slices.ContainsFunc(old, func(s namedScope) bool { return s.name == name }) {
		return fmt.Errorf("repo: add scope to %s: scope %q is already registered", t.name, name)
	}
	list := make([]namedScope, len(old), len(old)+1)
	copy(list, old)
	t.gs.set.Store(&scopeSet{list: append(list, namedScope{name: name, n: p.n})})
	return nil
}

// Scopes returns the names of t's global scopes in the order they were
// registered, SoftDeleteScope first when T embeds SoftDelete.
func (t *Table[T]) Scopes() []string {
	var out []string
	if t.sd.ok {
		out = append(out, SoftDeleteScope)
	}
	for _, s := range t.scopes() {
		out = append(out, s.name)
	}
	return out
}

// Scopes returns the query with each f applied in turn: reusable query
// fragments, written once as functions.
//
//	func Adults(q repo.Query[User]) repo.Query[User] { return q.Where(age.Ge(18)) }
//
//	list, err := userTable.On(tx).Query().Scopes(Adults, InCountry("FR")).All(ctx)
//
// A nil f is an error when the query is rendered.
func (q Query[T]) Scopes(fs ...func(Query[T]) Query[T]) Query[T] {
	for _, f := range fs {
		if f == nil {
			if q.err == nil {
				q.err = errNilScope
			}
			continue
		}
		q = f(q)
	}
	return q
}

// errNilScope is the error of a nil function given to Query.Scopes.
var errNilScope = errors.New("a nil scope function is given to Scopes")

// Without returns the query that does not apply the named global scopes;
// Without(SoftDeleteScope) is WithTrashed. A name that is not one of the
// table's global scopes when the query is rendered is an error.
func (q Query[T]) Without(names ...string) Query[T] {
	for _, name := range names {
		if name == SoftDeleteScope {
			q.trashed = true
			continue
		}
		if !slices.Contains(q.without, name) {
			q.without = append(slices.Clip(q.without), name)
		}
	}
	return q
}

// writeWhere writes the WHERE conditions of q, each as a predicate node
// through w, which appends their values to w.args: the soft-delete scope
// unless trashed, the table's global scopes that q does not lift, then q's
// own conditions. Columns are written by their quoted names, unqualified
// (a join renders each side's WHERE inside its own derived table). Every
// statement of a Query renders its WHERE through it.
func (q Query[T]) writeWhere(w *predWriter, trashed bool) error {
	return q.writeWhereWith(w, trashed, q.t.scopes())
}

// writeWhereWith is writeWhere with the global scopes read once by the
// caller.
func (q Query[T]) writeWhereWith(w *predWriter, trashed bool, scopes []namedScope) error {
	t := q.t
	for _, name := range q.without {
		if !slices.ContainsFunc(scopes, func(s namedScope) bool { return s.name == name }) {
			return fmt.Errorf("repo: query %s: Without(%q): no such global scope (the table has %q)", t.name, name, t.Scopes())
		}
	}
	if t.sd.ok && !trashed {
		w.s.cond()
		if err := w.write(&t.sdNode); err != nil {
			return fmt.Errorf("repo: query %s: %w", t.name, err)
		}
	}
	for i := range scopes {
		s := &scopes[i]
		if slices.Contains(q.without, s.name) {
			continue
		}
		w.s.cond()
		if err := w.write(&s.n); err != nil {
			return fmt.Errorf("repo: query %s: scope %q: %w", t.name, s.name, err)
		}
	}
	for i := range q.where {
		w.s.cond()
		if err := w.write(&q.where[i]); err != nil {
			return fmt.Errorf("repo: query %s: %w", t.name, err)
		}
	}
	return nil
}
