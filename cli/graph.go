package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

func (a *App) graphCmd() *cobra.Command {
	format := "dot"
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Print the dependency graph: singletons, scoped and transient providers (Graphviz)",
		Long: "Print the application's dependency graph in Graphviz DOT: the Fx singletons (boxes), and the\n" +
			"scoped (rounded, filled blue) and transient (rounded, dashed) providers of the request scope, each with\n" +
			"edges to the types it takes. The app is built as `serve` builds it, without connecting to the database\n" +
			"or listening. With --format svg the graph goes through Graphviz's dot command, which must be on PATH.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var dotPath string
			switch format {
			case "dot":
			case "svg":
				p, err := exec.LookPath("dot")
				if err != nil {
					return errors.New(`graph: --format svg needs Graphviz's "dot" command on PATH ` +
						`(install Graphviz, e.g. apt-get install graphviz), or print DOT with --format dot and render it elsewhere`)
				}
				dotPath = p
			default:
				return fmt.Errorf("graph: --format %q: use dot or svg", format)
			}
			g, err := a.buildGraph()
			if err != nil {
				return err
			}
			if dotPath == "" {
				_, err = fmt.Fprint(cmd.OutOrStdout(), g)
				return err
			}
			svg, err := renderSVG(cmd.Context(), dotPath, g)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(svg)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", format, `"dot" (Graphviz source) or "svg" (rendered by Graphviz's dot)`)
	return cmd
}

// buildGraph builds the application as serve does, without starting it,
// and returns its dependency graph in DOT. The registry's providers are all
// added by the time fx.New returns: each fxmodules.Scoped and Transient adds
// its provider in an invoke.
func (a *App) buildGraph() (g string, err error) {
	var (
		fxGraph fx.DotGraph
		reg     *scope.Registry
	)
	o, err := a.build(fx.Populate(&fxGraph, &reg))
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	return dependencyGraph(string(fxGraph), reg.Providers())
}

// renderSVG runs dot -Tsvg on g.
func renderSVG(ctx context.Context, dotPath, g string) ([]byte, error) {
	var out, stderr bytes.Buffer
	c := exec.CommandContext(ctx, dotPath, "-Tsvg")
	c.Stdin = strings.NewReader(g)
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("graph: %s -Tsvg: %w: %s", dotPath, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// The styles of the three lifetimes. Singletons keep Fx's boxes.
const (
	scopedStyle    = `shape=box style="rounded,filled" color="#1f5fbf" fillcolor="#d6e4ff"`
	transientStyle = `shape=box style="rounded,dashed" color="#1f5fbf"`
	contextStyle   = `shape=box style="rounded,filled" color="#777777" fillcolor="#eeeeee"`
	missingStyle   = `shape=box color=red fontcolor=red`
)

var (
	clusterStart = regexp.MustCompile(`^\tsubgraph cluster_(\d+) \{$`)
	ctorEdge     = regexp.MustCompile(`^\tconstructor_(\d+) -> `)
	fileLine     = regexp.MustCompile(` \([^()]*\.go:\d+\)$`)
)

// dependencyGraph merges fxGraph, the DOT that Fx makes of its singletons
// (fx.DotGraph, written by dig's visualizer), with the scoped and transient
// providers. From Fx's graph it leaves out FastTrack's own plumbing: the
// markers of fxmodules.Scoped (fxmodules.InternalNode) and the Fx constructors of scoped types (the
// guards that report a singleton taking *db.Tx or db.Querier), since those
// types are drawn as scoped. Each scoped or transient type gets a node in a
// "request scope" cluster and an edge to each of its constructor's
// parameter types; a parameter type that nothing provides is drawn red.
func dependencyGraph(fxGraph string, providers []*scope.Provider) (string, error) {
	body, okStart := strings.CutPrefix(strings.TrimRight(fxGraph, "\n"), "digraph {\n")
	body, okEnd := strings.CutSuffix(body, "}")
	if !okStart || !okEnd {
		return "", errors.New("graph: Fx's graph is not a DOT digraph")
	}
	scoped := map[string]bool{}
	for _, p := range providers {
		scoped[typeID(p.Type())] = true
	}

	// Split Fx's graph into its clusters (one per constructor), the edges
	// of each constructor, and the other lines, kept in place.
	type cluster struct {
		results []string // node ids
		drop    bool
	}
	clusters := map[string]*cluster{}
	lines := strings.Split(body, "\n")
	var cur *cluster
	for _, l := range lines {
		switch {
		case cur != nil && l == "\t}":
			cur = nil
		case cur != nil:
			if id, err := strconv.QuotedPrefix(strings.TrimLeft(l, "\t")); err == nil {
				cur.results = append(cur.results, id)
			}
		default:
			if m := clusterStart.FindStringSubmatch(l); m != nil {
				cur = &cluster{}
				clusters[m[1]] = cur
			}
		}
	}
	singletons := map[string]bool{}
	for _, c := range clusters {
		internal := len(c.results) > 0
		for _, q := range c.results {
			id, _ := strconv.Unquote(q)
			if !scoped[id] && !fxmodules.InternalNode(id) {
				internal = false
			}
		}
		c.drop = internal
		if !c.drop {
			for _, q := range c.results {
				id, _ := strconv.Unquote(q)
				singletons[id] = true
			}
		}
	}

	var b strings.Builder
	b.WriteString("digraph {\n")
	var skip bool
	for i, l := range lines {
		if m := clusterStart.FindStringSubmatch(l); m != nil {
			skip = clusters[m[1]].drop
		}
		if m := ctorEdge.FindStringSubmatch(l); m != nil && clusters[m[1]] != nil && clusters[m[1]].drop {
			continue
		}
		if !skip && !(i == len(lines)-1 && l == "") {
			b.WriteString(l + "\n")
		}
		if skip && l == "\t}" {
			skip = false
		}
		if i == 0 {
			// Singletons are boxes: dig's result nodes have no shape of
			// their own, its constructors are plaintext.
			b.WriteString("\tnode [shape=box];\n")
		}
	}

	// The request scope: one node per scoped or transient type.
	b.WriteString("\tsubgraph cluster_request_scope {\n")
	b.WriteString("\t\tlabel = \"request scope\";\n\t\tstyle = rounded;\n\t\tcolor = \"#1f5fbf\";\n")
	var takesContext bool
	for _, p := range providers {
		style := scopedStyle
		if p.Lifetime() == scope.Transient {
			style = transientStyle
		}
		fmt.Fprintf(&b, "\t\t%s [%s label=<%s<BR /><FONT POINT-SIZE=\"10\">%s · %s</FONT>> tooltip=%s];\n",
			strconv.Quote(typeID(p.Type())), style, html.EscapeString(typeID(p.Type())),
			p.Lifetime(), html.EscapeString(providerName(p.Name())), strconv.Quote(p.Name()))
		for _, t := range p.Params() {
			takesContext = takesContext || t == contextType
		}
	}
	if takesContext {
		fmt.Fprintf(&b, "\t\t%s [%s label=<context.Context<BR /><FONT POINT-SIZE=\"10\">the scope's own</FONT>>];\n",
			strconv.Quote(typeID(contextType)), contextStyle)
	}
	b.WriteString("\t}\n")
	missing := map[string]bool{}
	for _, p := range providers {
		for _, t := range p.Params() {
			id := typeID(t)
			if t != contextType && !scoped[id] && !singletons[id] && !missing[id] {
				missing[id] = true
				fmt.Fprintf(&b, "\t%s [%s label=<%s<BR /><FONT POINT-SIZE=\"10\">provided by nothing</FONT>>];\n",
					strconv.Quote(id), missingStyle, html.EscapeString(id))
			}
			fmt.Fprintf(&b, "\t%s -> %s [color=\"#1f5fbf\"];\n", strconv.Quote(typeID(p.Type())), strconv.Quote(id))
		}
	}

	// The legend.
	b.WriteString("\tsubgraph cluster_legend {\n\t\tlabel = \"lifetimes\";\n")
	fmt.Fprintf(&b, "\t\t\"legend: singleton\" [label=\"singleton (fx.Provide)\"];\n")
	fmt.Fprintf(&b, "\t\t\"legend: scoped\" [%s label=\"scoped (fxmodules.Scoped)\"];\n", scopedStyle)
	fmt.Fprintf(&b, "\t\t\"legend: transient\" [%s label=\"transient (fxmodules.Transient)\"];\n", transientStyle)
	b.WriteString("\t}\n}\n")
	return b.String(), nil
}

// typeID is a type's node id, as dig names the node of an unnamed value.
func typeID(t reflect.Type) string { return t.String() }

// providerName shortens a provider's name: the constructor without its
// file and line, and its package path to the last element
// ("users.NewRepository").
func providerName(name string) string {
	name = fileLine.ReplaceAllString(name, "")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}
