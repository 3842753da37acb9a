package db

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// positionSigner signs positions with one key: HMAC-SHA256, truncated to
// positionMACSize bytes. Its hashes are pooled, so that verifying the
// position of each request allocates next to nothing, and it remembers
// the tokens it verified last (see verified).
type positionSigner struct {
	macs     sync.Pool // of *positionMAC
	seed     maphash.Seed
	verified [verifiedSlots]atomic.Pointer[verifiedToken]
}

// verifiedSlots is how many verified tokens a signer remembers: a client
// carries the same token on each request until its next write, and a
// token found among them is not verified again. A slot holds the last
// token whose hash fell in it.
const verifiedSlots = 256

// verifiedToken is a token that passed verification, and its position.
type verifiedToken struct {
	token string
	pos   Position
}

// positionMAC is an HMAC-SHA256 under the signer's key, with buffers for
// its input and output that, unlike a caller's, are already on the heap.
type positionMAC struct {
	h   hash.Hash
	in  [16]byte
	sum [sha256.Size]byte
}

// newPositionSigner returns the signer of key.
func newPositionSigner(key []byte) *positionSigner {
	key = bytes.Clone(key)
	return &positionSigner{
		macs: sync.Pool{New: func() any { return &positionMAC{h: hmac.New(sha256.New, key)} }},
		seed: maphash.MakeSeed(),
	}
}

// mac writes the MAC of text, at most 16 bytes, into out.
func (s *positionSigner) mac(text string, out *[positionMACSize]byte) {
	m := s.macs.Get().(*positionMAC)
	m.h.Reset()
	m.h.Write(m.in[:copy(m.in[:], text)])
	copy(out[:], m.h.Sum(m.sum[:0]))
	s.macs.Put(m)
}

// sign returns p in hex, a dot and its MAC in unpadded base64url: a token
// a client carries and cannot forge.
func (s *positionSigner) sign(p Position) string {
	text := strconv.FormatUint(uint64(p), 16)
	var m [positionMACSize]byte
	s.mac(text, &m)
	return text + "." + base64.RawURLEncoding.EncodeToString(m[:])
}

// verify returns the position of a token sign made with the same key;
// false for any other text.
//
// A token verified before is found by its whole text among the last ones
// verified, and not verified again: only a token that passed verification
// is kept, so a token equal to a kept one is that token.
func (s *positionSigner) verify(token string) (Position, bool) {
	slot := &s.verified[maphash.String(s.seed, token)%verifiedSlots]
	if v := slot.Load(); v != nil && v.token == token {
		return v.pos, true
	}
	p, ok := s.check(token)
	if ok {
		// A copy: token may be part of a longer string (a Cookie line)
		// that the slot would otherwise keep alive.
		slot.Store(&verifiedToken{token: strings.Clone(token), pos: p})
	}
	return p, ok
}

// check verifies token's MAC and returns its position.
func (s *positionSigner) check(token string) (Position, bool) {
	text, mac, ok := strings.Cut(token, ".")
	if !ok || len(text) == 0 || len(text) > 16 || base64.RawURLEncoding.DecodedLen(len(mac)) != positionMACSize {
		return 0, false
	}
	var got, want [positionMACSize]byte
	if n, err := base64.RawURLEncoding.Decode(got[:], []byte(mac)); err != nil || n != positionMACSize {
		return 0, false
	}
	p, err := strconv.ParseUint(text, 16, 64)
	if err != nil || p == 0 {
		return 0, false
	}
	s.mac(text, &want)
	if !hmac.Equal(got[:], want[:]) {
		return 0, false
	}
	return Position(p), true
}
