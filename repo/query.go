package repo

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Page asks All for one page of rows by offset.
type Page struct {
	// Limit is the page size: 0 means DefaultLimit, more than MaxLimit
	// means MaxLimit; negative is an error.
	Limit int
	// Offset is how many rows to skip; negative is an error.
	Offset int
	// Sort orders the rows; id ASC is added as the last key, so that pages
	// are stable. Empty means id ASC. Where NULLs sort depends on the
	// database.
	Sort []Order
	// Filters are ANDed together.
	Filters []Filter
}

// Order is one sort key.
type Order struct {
	// Column is one of the model's columns.
	Column string
	// Desc sorts in descending order.
	Desc bool
}

// Filter is one condition "Column Op Value"; Value is always bound, never
// written into the SQL.
type Filter struct {
	// Column is one of the model's columns.
	Column string
	// Op is "=", "<>", "<", "<=", ">", ">=" or "LIKE"; "" means "=". With
	// a nil Value, "=" means IS NULL and "<>" IS NOT NULL. LIKE follows the
	// database's collation (case-insensitive on MySQL's default collations
	// and, for ASCII, on SQLite; case-sensitive on PostgreSQL).
	Op string
	// Value is compared with the column.
	Value any
}

// KeysetPage asks Keyset for one page of rows ordered by id, after a
// cursor. Unlike an offset, a cursor stays right when rows are inserted or
// deleted between pages, and costs the same on the last page as on the first.
type KeysetPage struct {
	// After is the cursor returned with the previous page; "" starts from
	// the first row.
	After string
	// Limit is the page size, as in Page.
	Limit int
	// Desc walks from the highest id down.
	Desc bool
	// Filters are ANDed together, as in Page.
	Filters []Filter
}

// PageLimit applies the page-size rules of Page and KeysetPage to limit:
// 0 gives DefaultLimit, more than MaxLimit gives MaxLimit, and a negative
// limit is a *QueryError (ErrInvalidQuery). Custom queries that take a page
// size use it to follow the same rules.
func PageLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, &QueryError{Op: "page", Detail: "the limit must not be negative, got " + strconv.Itoa(limit)}
	case limit == 0:
		return DefaultLimit, nil
	case limit > MaxLimit:
		return MaxLimit, nil
	}
	return limit, nil
}

// ParseSort parses a sort parameter as in a query string: column names
// separated by commas, each with an optional leading '-' for descending
// order ("name,-created_at"). Spaces around names are ignored. Unknown
// columns, empty names and a column given twice are errors: a *QueryError
// (ErrInvalidQuery) whose Detail names the column and, for an unknown or
// empty one, lists the sortable columns. An empty s gives no order.
func (t *Table[T]) ParseSort(s string) ([]Order, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]Order, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		o := Order{Column: p}
		if c, ok := strings.CutPrefix(p, "-"); ok {
			o = Order{Column: c, Desc: true}
		}
		out = append(out, o)
	}
	if err := t.CheckSort(out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckSort applies ParseSort's rules to a sort built in code: every
// column is one of T's, named once. The first order that breaks them gives
// a *QueryError (ErrInvalidQuery); nil when all pass.
func (t *Table[T]) CheckSort(sort []Order) error {
	for i, o := range sort {
		if o.Column == "" {
			return &QueryError{Op: "sort", Table: t.name, Allowed: t.Columns(),
				Detail: "empty sort column name; sortable: " + strings.Join(t.names, ", ")}
		}
		if !t.HasColumn(o.Column) {
			return unknownColumn("sort", t.name, "sort", "sortable", o.Column, t.Columns())
		}
		for _, prev := range sort[:i] {
			if prev.Column == o.Column {
				return &QueryError{Op: "sort", Table: t.name, Column: o.Column,
					Detail: "sort column " + quoteValue(o.Column) + " is given twice"}
			}
		}
	}
	return nil
}

// filterOps returns the operators a Filter accepts, "" aside.
func filterOps() []string { return []string{"=", "<>", "<", "<=", ">", ">=", "LIKE"} }

// filters writes the conditions of fs and appends their values to args.
func (t *Table[T]) filters(s *sqlBuf, args []any, fs []Filter) ([]any, error) {
	w := predWriter{s: s, cols: t.cols, args: args}
	for _, f := range fs {
		n, err := t.filterNode(f)
		if err != nil {
			return nil, err
		}
		s.cond()
		if err := w.write(&n); err != nil {
			return nil, err
		}
	}
	return w.args, nil
}

// filterNode checks f and returns its condition.
func (t *Table[T]) filterNode(f Filter) (pnode, error) {
	i, ok := t.byName[f.Column]
	if !ok {
		return pnode{}, unknownColumn("filter", t.name, "filter", "filterable", f.Column, t.Columns())
	}
	op := f.Op
	switch op {
	case "":
		op = "="
	case "=", "<>", "<", "<=", ">", ">=", "LIKE":
	default:
		return pnode{}, &QueryError{Op: "filter", Table: t.name, Column: f.Column, Allowed: filterOps(),
			Detail: "unknown filter operator " + quoteValue(f.Op) + " on column " + quoteValue(f.Column) +
				"; operators: " + strings.Join(filterOps(), ", ")}
	}
	if f.Value == nil {
		switch op {
		case "=":
			return pnode{kind: pNull, col: int32(i)}, nil
		case "<>":
			return pnode{kind: pNull, col: int32(i), flags: fNeg}, nil
		}
		return pnode{}, &QueryError{Op: "filter", Table: t.name, Column: f.Column,
			Detail: "filter on column " + quoteValue(f.Column) + ": a null value needs = or <>, not " + op}
	}
	return pnode{kind: pCmp, col: int32(i), op: opOf(op), v: f.Value}, nil
}

// orderBy writes ORDER BY for sort, with id ASC as the last key.
func (t *Table[T]) orderBy(s *sqlBuf, sort []Order) error {
	s.WriteString(" ORDER BY ")
	hasID := false
	for n, o := range sort {
		i, ok := t.byName[o.Column]
		if !ok {
			return unknownColumn("sort", t.name, "sort", "sortable", o.Column, t.Columns())
		}
		if n > 0 {
			s.WriteString(", ")
		}
		s.WriteString(t.cols[i].quoted)
		if o.Desc {
			s.WriteString(" DESC")
		} else {
			s.WriteString(" ASC")
		}
		hasID = hasID || o.Column == idColumn
	}
	if !hasID {
		if len(sort) > 0 {
			s.WriteString(", ")
		}
		s.WriteString(t.q(idColumn))
		s.WriteString(" ASC")
	}
	return nil
}

// Cursors are base64url of cursorPrefix and the decimal id.
const cursorPrefix = "ft1:"

func encodeCursor(id int64) string {
	b := make([]byte, 0, len(cursorPrefix)+20)
	b = strconv.AppendInt(append(b, cursorPrefix...), id, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrBadCursor
	}
	digits, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, ErrBadCursor
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(id, 10) != digits {
		return 0, ErrBadCursor
	}
	return id, nil
}
