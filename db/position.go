package db

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in the primary's write-ahead log: a PostgreSQL LSN
// as a number. A replica that has replayed up to a Position shows every
// transaction committed before it. The zero Position is "none".
type Position uint64

// String returns p in PostgreSQL's notation, "16/B374D848".
func (p Position) String() string {
	return strings.ToUpper(strconv.FormatUint(uint64(p)>>32, 16) + "/" + strconv.FormatUint(uint64(p)&0xffffffff, 16))
}

// ErrBadPosition is returned by ParsePosition for text that is not an LSN.
var ErrBadPosition = errors.New("db: not a WAL position")

// ParsePosition parses an LSN in PostgreSQL's notation ("16/B374D848").
func ParsePosition(s string) (Position, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	return Position(h<<32 | l), nil
}

// positionMACSize is the length of a signed position's MAC, in bytes.
const positionMACSize = 16

// signPosition returns p in hex, a dot and its HMAC-SHA256 under key,
// truncated to positionMACSize bytes, in unpadded base64url: a token a
// client carries and cannot forge.
func signPosition(key []byte, p Position) string {
	text := strconv.FormatUint(uint64(p), 16)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	var sum [sha256.Size]byte
	return text + "." + base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:positionMACSize])
}

// verifyPosition returns the position of a token signPosition made with
// key; false for any other text.
func verifyPosition(key []byte, token string) (Position, bool) {
	text, mac, ok := strings.Cut(token, ".")
	if !ok || len(text) == 0 || len(text) > 16 || base64.RawURLEncoding.DecodedLen(len(mac)) != positionMACSize {
		return 0, false
	}
	var got [positionMACSize]byte
	if n, err := base64.RawURLEncoding.Decode(got[:], []byte(mac)); err != nil || n != positionMACSize {
		return 0, false
	}
	p, err := strconv.ParseUint(text, 16, 64)
	if err != nil || p == 0 {
		return 0, false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	var sum [sha256.Size]byte
	if !hmac.Equal(m.Sum(sum[:0])[:positionMACSize], got[:]) {
		return 0, false
	}
	return Position(p), true
}
