package config

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// sizeUnits maps lower-case size units to their number of bytes.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

const sizeForms = "use a byte count or a number with a unit, such as 512KiB or 6MB (units: B, KB, MB, GB, KiB, MiB, GiB)"

// ParseSize parses a byte size: an integer number of bytes ("6291456"), or a
// number followed by a unit ("6MiB", "1.5 GB"). Units are B, KB, MB and GB
// (powers of 1000) and KiB, MiB and GiB (powers of 1024), in any case, with
// optional space before the unit. Fractions are accepted when the result is
// a whole number of bytes. Negative sizes and sizes above math.MaxInt64 are
// errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" || strings.Count(num, ".") > 1 || num == "." {
		return 0, fmt.Errorf("invalid size %s: %s", quote(s), sizeForms)
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("invalid size %s: unknown unit %s; %s", quote(s), quote(unit), sizeForms)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("invalid size %s: %s", quote(s), sizeForms)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("invalid size %s: not a whole number of bytes", quote(s))
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("invalid size %s: larger than %d bytes", quote(s), int64(math.MaxInt64))
	}
	return r.Num().Int64(), nil
}

// FormatSize formats a byte count with the largest binary unit that divides
// it exactly: 6291456 is "6MiB", 1000 is "1000B". ParseSize accepts the
// result.
func FormatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10) + "B"
	}
}

// formatDuration formats d like time.Duration.String without trailing zero
// units: "5m" rather than "5m0s", "1h" rather than "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
