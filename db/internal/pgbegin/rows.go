package pgbegin

import (
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// stdlibFormats returns the result formats pgx's stdlib asks for sd's
// columns: binary for the types below, text for every other, which it
// answers as a string.
func stdlibFormats(sd *pgconn.StatementDescription) []int16 {
	formats := make([]int16, len(sd.Fields))
	for i, f := range sd.Fields {
		switch f.DataTypeOID {
		case pgtype.BoolOID, pgtype.ByteaOID, pgtype.CIDOID, pgtype.DateOID, pgtype.Float4OID, pgtype.Float8OID,
			pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID, pgtype.TimestampOID,
			pgtype.TimestamptzOID, pgtype.XIDOID:
			formats[i] = pgtype.BinaryFormatCode
		}
	}
	return formats
}

// pgRows are the rows of a statement sent with its transaction's BEGIN.
// Each column becomes the driver.Value pgx's stdlib makes of it, so that a
// row scans the same whichever statement of the transaction read it.
type pgRows struct {
	m      *pgtype.Map
	b      batch
	rr     *pgconn.ResultReader
	first  bool // the first row is read and not yet returned
	done   bool
	names  []string
	decode []func(src []byte) (driver.Value, error)
}

// newPGRows returns the rows of rr, whose first row has been read when
// more is true, converted by decode (see decoders).
func newPGRows(m *pgtype.Map, b batch, rr *pgconn.ResultReader, more bool, decode []func([]byte) (driver.Value, error)) *pgRows {
	return &pgRows{m: m, b: b, rr: rr, first: more, done: !more, decode: decode}
}

// Columns returns the column names.
func (r *pgRows) Columns() []string {
	if r.names == nil {
		fields := r.rr.FieldDescriptions()
		r.names = make([]string, len(fields))
		for i, f := range fields {
			r.names[i] = f.Name
		}
	}
	return r.names
}

// ColumnTypeDatabaseTypeName returns the column's type name in upper case,
// or its OID when the type is unknown, as pgx's stdlib does.
func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	oid := r.rr.FieldDescriptions()[i].DataTypeOID
	if t, ok := r.m.TypeForOID(oid); ok {
		return strings.ToUpper(t.Name)
	}
	return strconv.FormatUint(uint64(oid), 10)
}

// ColumnTypeLength returns the length of a text, bytea, varchar, char or
// varbit column, as pgx's stdlib does.
func (r *pgRows) ColumnTypeLength(i int) (int64, bool) {
	f := r.rr.FieldDescriptions()[i]
	switch f.DataTypeOID {
	case pgtype.TextOID, pgtype.ByteaOID:
		return math.MaxInt64, true
	case pgtype.VarcharOID, pgtype.BPCharOID:
		return int64(f.TypeModifier - varlenaHeader), true
	case pgtype.VarbitOID:
		return int64(f.TypeModifier), true
	}
	return 0, false
}

// varlenaHeader is what a varchar's or numeric's type modifier adds.
const varlenaHeader = 4

// ColumnTypePrecisionScale returns a numeric column's precision and scale.
func (r *pgRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	f := r.rr.FieldDescriptions()[i]
	if f.DataTypeOID != pgtype.NumericOID {
		return 0, 0, false
	}
	mod := f.TypeModifier - varlenaHeader
	return int64(mod>>16) & 0xffff, int64(mod) & 0xffff, true
}

// ColumnTypeScanType returns the Go type pgx's stdlib names for the column.
func (r *pgRows) ColumnTypeScanType(i int) reflect.Type {
	switch r.rr.FieldDescriptions()[i].DataTypeOID {
	case pgtype.Float8OID, pgtype.NumericOID:
		return reflect.TypeFor[float64]()
	case pgtype.Float4OID:
		return reflect.TypeFor[float32]()
	case pgtype.Int8OID:
		return reflect.TypeFor[int64]()
	case pgtype.Int4OID:
		return reflect.TypeFor[int32]()
	case pgtype.Int2OID:
		return reflect.TypeFor[int16]()
	case pgtype.BoolOID:
		return reflect.TypeFor[bool]()
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return reflect.TypeFor[time.Time]()
	case pgtype.ByteaOID:
		return reflect.TypeFor[[]byte]()
	}
	return reflect.TypeFor[string]()
}

// Next reads the next row into dest.
func (r *pgRows) Next(dest []driver.Value) error {
	switch {
	case r.first:
		r.first = false
	case r.done:
		return io.EOF
	case !r.rr.NextRow():
		r.done = true
		if _, err := r.rr.Close(); err != nil {
			return err
		}
		return io.EOF
	}
	for i, src := range r.rr.Values() {
		if src == nil {
			dest[i] = nil
			continue
		}
		v, err := r.decode[i](src)
		if err != nil {
			return fmt.Errorf("db: column %d: %w", i, err)
		}
		dest[i] = v
	}
	return nil
}

// Close discards the rows left and reads the end of the batch.
func (r *pgRows) Close() error {
	_, err := r.rr.Close()
	if cerr := r.b.close(); err == nil {
		err = cerr
	}
	return err
}

// decoders plans the conversion of each column of fields, asked for in
// formats. A connection keeps them with its statement: like pgx's stdlib
// within one result, they reuse their scan targets from row to row.
func decoders(m *pgtype.Map, fields []pgconn.FieldDescription, formats []int16) []func([]byte) (driver.Value, error) {
	decode := make([]func([]byte) (driver.Value, error), len(fields))
	for i, f := range fields {
		decode[i] = decoder(m, f.DataTypeOID, formats[i])
	}
	return decode
}

// decoder returns the conversion of a column of type oid sent in format
// into the driver.Value pgx's stdlib gives it: bool, int64, float64,
// []byte, time.Time, or the text of any other type.
func decoder(m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	switch oid {
	case pgtype.BoolOID:
		return scanAs[bool](m, oid, format, nil)
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return scanAs[[]byte](m, oid, format, nil)
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return scanAs[int64](m, oid, format, nil)
	case pgtype.Float4OID, pgtype.Float8OID:
		return scanAs[float64](m, oid, format, nil)
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return scanAs(m, oid, format, func(v pgtype.Uint32) (driver.Value, error) { return v.Value() })
	case pgtype.DateOID:
		return scanAs(m, oid, format, func(v pgtype.Date) (driver.Value, error) { return v.Value() })
	case pgtype.TimestampOID:
		return scanAs(m, oid, format, func(v pgtype.Timestamp) (driver.Value, error) { return v.Value() })
	case pgtype.TimestamptzOID:
		return scanAs(m, oid, format, func(v pgtype.Timestamptz) (driver.Value, error) { return v.Value() })
	default:
		return scanAs[string](m, oid, format, nil)
	}
}

// scanAs returns a conversion that scans a column into a T, then makes the
// value of it with value, or uses it as is when value is nil.
func scanAs[T any](m *pgtype.Map, oid uint32, format int16, value func(T) (driver.Value, error)) func([]byte) (driver.Value, error) {
	var v T
	plan := m.PlanScan(oid, format, &v)
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, &v); err != nil {
			return nil, err
		}
		if value != nil {
			return value(v)
		}
		return v, nil
	}
}
