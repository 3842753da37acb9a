package factory_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/factory"
)

// seqOf returns the sequence number a value of accounts() was built from.
func seqOf(t *testing.T, a Account) int {
	t.Helper()
	n := parseSeq(a)
	if n < 0 {
		t.Fatalf("email %q holds no sequence number", a.Email)
	}
	return n
}

// parseSeq returns the sequence number in a's email, or -1.
func parseSeq(a Account) int {
	var n int
	if _, err := fmt.Sscanf(a.Email, "user%d@example.com", &n); err != nil {
		return -1
	}
	return n
}

func TestDefaultsAndSequence(t *testing.T) {
	f := accounts()
	for want := 1; want <= 3; want++ {
		a := f.One()
		if a.Email != fmt.Sprintf("user%d@example.com", want) || a.Name != fmt.Sprintf("User %d", want) || !a.Active || a.ID != 0 {
			t.Fatalf("value %d = %+v", want, a)
		}
	}
	// Make continues the sequence.
	vs := f.Make(2)
	if got := []int{seqOf(t, vs[0]), seqOf(t, vs[1])}; !slices.Equal(got, []int{4, 5}) {
		t.Fatalf("Make after three One: sequence %v, want [4 5]", got)
	}
	// Another factory has its own sequence.
	if a := accounts().One(); seqOf(t, a) != 1 {
		t.Fatalf("a new factory starts at %d, want 1", seqOf(t, a))
	}
	// A nil fn gives zero values.
	if v := factory.New[Account](nil).With(func(a *Account) { a.Name = "x" }).One(); v != (Account{Name: "x"}) {
		t.Fatalf("nil fn: %+v", v)
	}
}

func TestWithComposesAndLeavesOriginal(t *testing.T) {
	f := accounts()
	named := f.With(func(a *Account) { a.Name = "Ada" })
	loud := named.With(func(a *Account) { a.Name += "!" }) // sees the earlier override
	inactive := loud.With(func(a *Account) { a.Active = false })

	if a := inactive.One(); a.Name != "Ada!" || a.Active || a.Email != "user1@example.com" {
		t.Fatalf("composed overrides: %+v", a)
	}
	if a := loud.One(); a.Name != "Ada!" || !a.Active {
		t.Fatalf("loud changed by a later With: %+v", a)
	}
	if a := named.One(); a.Name != "Ada" {
		t.Fatalf("named changed by a later With: %+v", a)
	}
	if a := f.One(); a.Name != "User 4" || !a.Active {
		t.Fatalf("original changed by With: %+v", a)
	}
	if a := f.With(nil).One(); a.Name != "User 5" {
		t.Fatalf("With(nil): %+v", a)
	}
}

func TestWithBranchesDoNotShare(t *testing.T) {
	// Three overrides leave spare capacity in a plain append's slice: two
	// branches from the same Factory must not overwrite each other's.
	base := accounts().
		With(func(a *Account) { a.Name = "a" }).
		With(func(a *Account) { a.Name += "b" }).
		With(func(a *Account) { a.Name += "c" })
	p := base.With(func(a *Account) { a.Name += "-p" })
	q := base.With(func(a *Account) { a.Name += "-q" })
	if a := p.One(); a.Name != "abc-p" {
		t.Fatalf("branch p built %q", a.Name)
	}
	if a := q.One(); a.Name != "abc-q" {
		t.Fatalf("branch q built %q", a.Name)
	}
	if a := base.One(); a.Name != "abc" {
		t.Fatalf("base built %q", a.Name)
	}
}

func TestMakeDistinct(t *testing.T) {
	f := accounts()
	vs := f.Make(5)
	if len(vs) != 5 {
		t.Fatalf("Make(5) returned %d values", len(vs))
	}
	seen := map[string]bool{}
	for i, a := range vs {
		if seen[a.Email] {
			t.Fatalf("Make(5): duplicate %q", a.Email)
		}
		seen[a.Email] = true
		if seqOf(t, a) != i+1 || a.ID != 0 {
			t.Fatalf("Make(5)[%d] = %+v", i, a)
		}
	}
	if vs := f.Make(0); len(vs) != 0 {
		t.Fatalf("Make(0) = %v", vs)
	}
	if a := f.One(); seqOf(t, a) != 6 {
		t.Fatalf("One after Make(5), Make(0): sequence %d, want 6", seqOf(t, a))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Make(-1) did not panic")
		}
	}()
	f.Make(-1)
}

func TestSequenceSharedAcrossCopies(t *testing.T) {
	f := accounts()
	g := f.With(func(a *Account) { a.Active = false })
	h := g.With(func(a *Account) { a.Name = "h" })
	got := []int{seqOf(t, f.One()), seqOf(t, g.One()), seqOf(t, h.One()), seqOf(t, f.One())}
	got = append(got, seqOf(t, g.Make(2)[1]))
	if !slices.Equal(got, []int{1, 2, 3, 4, 6}) {
		t.Fatalf("sequence across copies %v, want [1 2 3 4 6]", got)
	}
}

func TestSequenceConcurrent(t *testing.T) {
	const goroutines, each = 8, 200
	f := accounts()
	copies := []*factory.Factory[Account]{f, f.With(func(a *Account) { a.Active = false }), f.With(func(a *Account) { a.Name = "c" })}
	var (
		mu   sync.Mutex
		seqs []int
		wg   sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			c := copies[g%len(copies)]
			var mine []int
			for i := range each {
				if i%4 == 0 {
					for _, a := range c.Make(3) {
						mine = append(mine, parseSeq(a))
					}
					continue
				}
				mine = append(mine, parseSeq(c.One()))
			}
			mu.Lock()
			seqs = append(seqs, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("sequence numbers are not 1..%d without gaps or repeats: position %d holds %d", len(seqs), i, s)
		}
	}
	want := goroutines * (each + 2*(each/4))
	if len(seqs) != want {
		t.Fatalf("%d values, want %d", len(seqs), want)
	}
}
