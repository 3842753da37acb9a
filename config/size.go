package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseSize parses a byte count: an integer, optionally followed by one of
// the units B, KB, KiB, MB, MiB, GB and GiB (any case, optionally after
// spaces), such as "512", "512KB" or "2 MiB". KB is 1000 bytes, KiB 1024.
func parseSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '-' && r != '+' })
	if i < 0 {
		i = len(s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, numError(err)
	}
	unit := strings.TrimLeft(s[i:], " ")
	var mult int64
	switch strings.ToLower(unit) {
	case "", "b":
		mult = 1
	case "kb":
		mult = 1000
	case "kib":
		mult = 1 << 10
	case "mb":
		mult = 1000 * 1000
	case "mib":
		mult = 1 << 20
	case "gb":
		mult = 1000 * 1000 * 1000
	case "gib":
		mult = 1 << 30
	default:
		if c := unit[0] | 0x20; c < 'a' || c > 'z' {
			return 0, strconv.ErrSyntax
		}
		return 0, fmt.Errorf("unknown size unit %q", unit)
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, strconv.ErrRange
	}
	return n * mult, nil
}
