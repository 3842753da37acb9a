package db

import (
	"errors"
	"hash/maphash"
	"strings"
	"sync"
	"testing"
)

func TestPositionText(t *testing.T) {
	for _, s := range []string{"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/1"} {
		p, err := ParsePosition(s)
		if err != nil {
			t.Fatalf("ParsePosition(%q): %v", s, err)
		}
		if p.String() != s {
			t.Errorf("ParsePosition(%q).String() = %q", s, p.String())
		}
	}
	if p, _ := ParsePosition("16/B374D848"); p != 0x16B374D848 {
		t.Errorf("ParsePosition(16/B374D848) = %#x", uint64(p))
	}
	for _, s := range []string{"", "16", "/1", "1/", "g/1", "1/2/3", "100000000/0", "-1/0"} {
		if _, err := ParsePosition(s); !errors.Is(err, ErrBadPosition) {
			t.Errorf("ParsePosition(%q) = %v, want ErrBadPosition", s, err)
		}
	}
}

func TestSignedPosition(t *testing.T) {
	key, other := newPositionSigner([]byte("key one of enough bytes")), newPositionSigner([]byte("key two of enough bytes"))
	tok := key.sign(0x16B374D848)
	if p, ok := key.verify(tok); !ok || p != 0x16B374D848 {
		t.Fatalf("verify(sign(p)) = %v, %v", p, ok)
	}
	if p, ok := key.verify(key.sign(1)); !ok || p != 1 {
		t.Fatalf("verify(sign(1)) = %v, %v", p, ok)
	}
	if _, ok := other.verify(tok); ok {
		t.Error("a token verified under another key")
	}
	text, mac, _ := strings.Cut(tok, ".")
	for _, bad := range []string{
		"", ".", text, text + ".", "17b374d848." + mac, text + "." + mac[:len(mac)-1] + "A",
		key.sign(0), strings.Repeat("f", 17) + "." + mac,
	} {
		if bad == tok {
			continue
		}
		if p, ok := key.verify(bad); ok {
			t.Errorf("verify(%q) = %v, true; want rejected", bad, p)
		}
	}
}

// A verified token is remembered and found again by its whole text; a
// rejected one never is, and tokens verified from many goroutines at once
// keep their own positions.
func TestVerifiedTokensRemembered(t *testing.T) {
	s := newPositionSigner([]byte("key one of enough bytes"))
	tok := s.sign(42)
	if _, ok := s.verify(tok); !ok {
		t.Fatal("a signed token rejected")
	}
	slot := &s.verified[maphash.String(s.seed, tok)%verifiedSlots]
	if v := slot.Load(); v == nil || v.token != tok || v.pos != 42 {
		t.Fatalf("the token's slot holds %+v", v)
	}
	text, mac, _ := strings.Cut(tok, ".")
	first := "A"
	if mac[0] == 'A' {
		first = "B"
	}
	forged := text + "." + first + mac[1:]
	for range 2 {
		if _, ok := s.verify(forged); ok {
			t.Fatal("a forged token accepted")
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				p := Position(g*10000 + i%700 + 1)
				if got, ok := s.verify(s.sign(p)); !ok || got != p {
					t.Errorf("verify(sign(%v)) = %v, %v", p, got, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}
