package filters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The reference reader: the JSON grammar one byte at a time, recursive and
// without any of the scanner's shortcuts (bitmaps, cursors, word-at-a-time
// numbers). The tests and fuzz targets check that the scanner agrees with
// it, and it with encoding/json.

// refValue validates the value at b[i] and returns the index just past it,
// or -1; depth is the number of containers around it.
func refValue(b []byte, i, depth int) int {
	i = refWS(b, i)
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return -1
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = refWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				if i = refWS(b, i); i >= len(b) || b[i] != '"' {
					return -1
				}
				if i, _ = refString(b, i); i < 0 {
					return -1
				}
				if i = refWS(b, i); i >= len(b) || b[i] != ':' {
					return -1
				}
				i++
			}
			if i = refValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i = refWS(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i++
			case closer:
				return i + 1
			default:
				return -1
			}
		}
	case c == '"':
		i, _ = refString(b, i)
		return i
	case c == 't':
		return refLiteral(b, i, "true")
	case c == 'f':
		return refLiteral(b, i, "false")
	case c == 'n':
		return refLiteral(b, i, "null")
	}
	return refNumber(b, i)
}

func refWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func refLiteral(b []byte, i int, lit string) int {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}

// refString returns the end of the string at b[i] (or -1) and its flags.
func refString(b []byte, i int) (int, uint8) {
	var flags uint8
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags
		case c < 0x20:
			return -1, 0
		case c == '\\':
			flags |= sEscape
			if i+1 >= len(b) {
				return -1, 0
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) {
					return -1, 0
				}
				for _, h := range b[i+2 : i+6] {
					if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h)) {
						return -1, 0
					}
				}
				i += 5
			default:
				return -1, 0
			}
		}
	}
	return -1, 0
}

func refNumber(b []byte, i int) int {
	digits := func() int {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i >= len(b) || b[i] < '1' || b[i] > '9' || digits() == 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	return i
}

func refValid(b []byte) bool {
	i := refValue(b, 0, 0)
	return i >= 0 && refWS(b, i) == len(b)
}

// isSpecial is the definition of a special byte.
func isSpecial(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }

// checkReader compares the scanner with the reference reader on b: the
// bitmaps, validity, and the end of every string, number and value that
// starts at any of the first positions of b.
func checkReader(t *testing.T, b []byte) {
	t.Helper()
	y := new(scanner)
	nb := (len(b) + blockSize - 1) / blockSize
	want := make([]uint64, nb)
	for k := range want {
		for j := 0; j < blockSize && k*blockSize+j < len(b); j++ {
			if isSpecial(b[k*blockSize+j]) {
				want[k] |= 1 << j
			}
		}
	}
	variants := specialsVariants()
	variants["fillSpecials"] = fillSpecials
	for name, fill := range variants {
		got := make([]uint64, nb)
		fill(got, b)
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("specials of %q block %d: %s %x, want %x", b, k, name, got[k], want[k])
			}
		}
	}
	if got, want := validJSON(b), refValid(b); got != want {
		t.Fatalf("validJSON(%q) = %v, the reference reader says %v", b, got, want)
	}
	var sc scanner
	sc.load(b)
	for i := 0; i < len(b) && i < 200; i++ {
		if got, want := scanNumber(b, i), refNumber(b, i); got != want {
			t.Fatalf("scanNumber(%q, %d) = %d, want %d", b, i, got, want)
		}
		if got, want := scanNumberSlow(b, i), refNumber(b, i); got != want {
			t.Fatalf("scanNumberSlow(%q, %d) = %d, want %d", b, i, got, want)
		}
		if e := refNumber(b, i); e > i {
			got, want := parseNumberAt(b, i, e), parseNumber(b[i:e])
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("parseNumberAt(%q, %d, %d) = %v, parseNumber says %v", b, i, e, got, want)
			}
			if ge, gv := numberAt(b, i); ge != e || math.Float64bits(gv) != math.Float64bits(want) {
				t.Fatalf("numberAt(%q, %d) = %d, %v; want %d, %v", b, i, ge, gv, e, want)
			}
		} else if ge, _ := numberAt(b, i); ge != e {
			t.Fatalf("numberAt(%q, %d) = %d, want %d", b, i, ge, e)
		}
		if b[i] == '"' {
			we, wf := refString(b, i)
			if ge, gf := sc.str(i); ge != we || (we > 0 && gf != wf) {
				t.Fatalf("scanner.str(%q, %d) = %d, %d; want %d, %d", b, i, ge, gf, we, wf)
			}
			if ge, gf := scanString(b, i); ge != we || (we > 0 && gf != wf) {
				t.Fatalf("scanString(%q, %d) = %d, %d; want %d, %d", b, i, ge, gf, we, wf)
			}
		}
		if c := b[i]; c > ' ' {
			sc.cur = cursor{} // skip starts from any cursor; try both
			if got, want := sc.skip(i, 0), refValue(b, i, 0); got != want {
				t.Fatalf("skip(%q, %d) = %d, want %d", b, i, got, want)
			}
			if got, want := sc.skip(i, maxDepth-1), refValue(b, i, maxDepth-1); got != want {
				t.Fatalf("skip(%q, %d) near the depth limit = %d, want %d", b, i, got, want)
			}
		}
		if b[i] == '{' {
			for _, bloom := range []uint64{0, ^uint64(0), 0x5555555555555555, 1 << keySigOf("a")} {
				for _, depth := range []int{0, maxDepth - 2} {
					sc.cur = cursor{}
					gotKeys, got := walkMembers(&sc, b, i, depth, bloom)
					wantKeys, want := refMembers(b, i, depth, bloom)
					if (got < 0) != (want < 0) || got >= 0 && (got != want || fmt.Sprint(gotKeys) != fmt.Sprint(wantKeys)) {
						t.Fatalf("members(%q, %d, depth %d, bloom %x): stops %v, end %d; want %v, %d", b, i, depth, bloom, gotKeys, got, wantKeys, want)
					}
				}
			}
		}
		// scanFast against scanFastGo, from the same state.
		for _, st := range []struct {
			at, d   int
			stack   uint64
			members bool
			bloom   uint64
			limit   int
			back    int // the cursor: the specials from i-back, the first drop of them consumed
			drop    int
		}{
			{at: atValue, limit: maxDepth, back: -1},
			{at: atValue, limit: 2, back: -1},
			{at: atKey, d: 1, stack: 1, members: true, bloom: ^uint64(0), limit: maxDepth, back: -1},
			{at: atKey, d: 1, stack: 1, members: true, bloom: 0x0123456789abcdef, limit: maxDepth, back: -1},
			{at: atKey, d: 2, stack: 3, limit: maxDepth, back: -1},
			{at: atNext, d: 2, stack: 2, limit: maxDepth, back: -1},
			{at: atValue, limit: maxDepth, back: 0},
			{at: atValue, limit: maxDepth, back: 5, drop: 1},
			{at: atKey, d: 1, stack: 1, members: true, bloom: ^uint64(0), limit: maxDepth, back: 3, drop: 2},
		} {
			var x scanner
			x.load(b)
			if p := i - st.back; st.back >= 0 && p >= 0 && uint(p>>blockShift-x.lo) < uint(x.n) {
				bits := x.bitsAt(uint(p>>blockShift-x.lo)%winBlocks, p)
				for k := 0; k < st.drop; k++ {
					bits &= bits - 1
				}
				x.cur = cursor{p, bits}
			}
			x.ri, x.rd, x.rstack, x.rat = i, st.d, st.stack, st.at
			x.rlimit, x.rbloom, x.rmembers = st.limit, st.bloom, st.members
			from := x
			scanFastGo(&x)
			for _, v := range scanFastVariants {
				*y = from // y is on the heap: v.scan's argument escapes
				v.scan(y)
				if x.rat == stopFail && y.rat == stopFail {
					continue
				}
				if x.ri != y.ri || x.rd != y.rd || x.rstack != y.rstack || x.rat != y.rat || x.cur != y.cur ||
					x.rat == stopHit && (x.ks != y.ks || x.ke != y.ke || x.ksig != y.ksig || x.kflags != y.kflags) {
					t.Fatalf("scanFast %s(%q) from %d %+v: %d %d %x %v stop %d (%d %d %d); scanFastGo: %d %d %x %v stop %d (%d %d %d)", v.name, b, i, st,
						y.ri, y.rd, y.rstack, y.cur, y.rat, y.ks, y.ke, y.ksig, x.ri, x.rd, x.rstack, x.cur, x.rat, x.ks, x.ke, x.ksig)
				}
			}
		}
	}
}

// A scanVariant is a version of scanFast (see scanFastVariants).
type scanVariant struct {
	name string
	scan func(sc *scanner)
}

// walkMembers walks the object at b[i] as the walker does: with members,
// skipping the value of each member it stops at. It returns the keys it
// stopped at (start, end, flags) and the index just past the object, or
// -1.
func walkMembers(sc *scanner, b []byte, i, depth int, bloom uint64) ([][3]int, int) {
	var keys [][3]int
	j := ws(b, i+1)
	if j < len(b) && b[j] == '}' {
		return nil, j + 1
	}
	for {
		vi, ks, ke, flags := sc.members(j, depth, bloom)
		if vi < 0 {
			return keys, -1
		}
		if ks < 0 {
			return keys, vi
		}
		keys = append(keys, [3]int{ks, ke, int(flags)})
		e := sc.skip(vi, depth+1)
		if e < 0 {
			return keys, -1
		}
		if e = skipWS(b, e); e >= len(b) {
			return keys, -1
		}
		switch b[e] {
		case ',':
			j = e + 1
		case '}':
			return keys, e + 1
		default:
			return keys, -1
		}
	}
}

// refMembers is walkMembers by the reference reader: the keys the walker
// looks up are those with escapes and those whose keySig is in bloom.
func refMembers(b []byte, i, depth int, bloom uint64) ([][3]int, int) {
	var keys [][3]int
	if depth >= maxDepth {
		return nil, -1
	}
	i = refWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, i + 1
	}
	for {
		if i = refWS(b, i); i >= len(b) || b[i] != '"' {
			return keys, -1
		}
		e, flags := refString(b, i)
		if e < 0 {
			return keys, -1
		}
		ks, ke := i+1, e-1
		if flags != 0 || bloom&(1<<keySig(b[ks], b[ke-1], ke-ks)) != 0 {
			keys = append(keys, [3]int{ks, ke, int(flags)})
		}
		if i = refWS(b, e); i >= len(b) || b[i] != ':' {
			return keys, -1
		}
		if i = refValue(b, i+1, depth+1); i < 0 {
			return keys, -1
		}
		if i = refWS(b, i); i >= len(b) {
			return keys, -1
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return keys, i + 1
		default:
			return keys, -1
		}
	}
}

func TestReferenceReaderAgreesWithStd(t *testing.T) {
	for _, d := range jsonDocs {
		if got, want := refValid([]byte(d)), json.Valid([]byte(d)); got != want {
			t.Errorf("refValid(%q) = %v, encoding/json says %v", d, got, want)
		}
	}
}

// readerDocs are documents for the differential tests: valid and invalid,
// compact and pretty, and with strings, escapes and numbers placed across
// the 64-byte blocks of the bitmap.
func readerDocs() [][]byte {
	var docs [][]byte
	for _, d := range jsonDocs {
		docs = append(docs, []byte(d))
	}
	docs = append(docs, []byte(orderValue), []byte(exprRecord))
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(orderValue), "", "\t")
	docs = append(docs, pretty.Bytes())
	for pad := 0; pad < 70; pad++ {
		p := strings.Repeat("x", pad)
		docs = append(docs,
			[]byte(`{"`+p+`":"a\"b\\c\u00e9\n","n":[-0.5e+3,12,0,1.25]}`),
			[]byte(`["`+p+`", "#\"#", "\u12", 7]`),
			[]byte(`{"k":"`+p+`\`+"\x01"+`"}`),
			[]byte(`[`+p+`]`),
			[]byte(`{"a":"`+p+"\t"+`"}`),
			[]byte(`{"a":`+strings.Repeat("1", pad+1)+`.`+strings.Repeat("2", pad%9)+`}`),
		)
	}
	// Deep nesting, across the 64 levels of skip's bit stack, with
	// mismatched brackets at various depths.
	for _, depth := range []int{63, 64, 65, 130, maxDepth - 1, maxDepth, maxDepth + 1} {
		var open, closing strings.Builder
		for d := 0; d < depth; d++ {
			if d%3 == 0 {
				open.WriteString(`{"k":`)
				closing.WriteString(`}`)
			} else {
				open.WriteString(`[1,`)
				closing.WriteString(`]`)
			}
		}
		c := []byte(closing.String())
		for l, r := 0, len(c)-1; l < r; l, r = l+1, r-1 {
			c[l], c[r] = c[r], c[l]
		}
		doc := open.String() + `"x"` + string(c)
		docs = append(docs, []byte(doc))
		for _, at := range []int{len(doc) - 1, len(doc) - 64, len(doc) - 65, len(doc) - depth/2} {
			if at > 0 && (doc[at] == '}' || doc[at] == ']') {
				bad := []byte(doc)
				bad[at] ^= '}' ^ ']'
				docs = append(docs, bad)
			}
		}
	}
	// Every prefix and a few corruptions of the order record.
	for n := 0; n <= len(orderValue); n++ {
		docs = append(docs, []byte(orderValue[:n]))
		if n < len(orderValue) {
			for _, c := range []byte{'"', '\\', '\x00', '}', ',', ' ', 0xff} {
				d := []byte(orderValue)
				d[n] = c
				docs = append(docs, d)
			}
		}
	}
	return docs
}

func TestScannerAgreesWithReference(t *testing.T) {
	for _, d := range readerDocs() {
		checkReader(t, d)
	}
}

func TestScannerRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []byte(`{}[]:,"\ 0123456789.eE+-tfnrula` + "\t\n\x01\x1f\x7f\xc3\xa9\xff")
	for n := 0; n < 20000; n++ {
		b := make([]byte, r.Intn(150))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		checkReader(t, b)
	}
}

// bigDoc is an object of n fields, each a string of about size bytes with
// an escape in it, and then the given fields: larger than one window of the
// scanner when n*size is more than 4 KiB.
func bigDoc(n, size int, tail string) []byte {
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; i < n; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), size)
		fmt.Fprintf(&b, `"f%d":"%s\"%s","g%d":[%d,{"h":null}],`, i, s[:size/2], s[size/2:], i, i)
	}
	b.WriteString(tail)
	b.WriteString(`}`)
	return []byte(b.String())
}

func TestScannerWindows(t *testing.T) {
	for _, size := range []int{1, 30, 63, 64, 65, 200, 5000} {
		for _, n := range []int{1, 20, 100} {
			d := bigDoc(n, size, `"status":"paid","status":"late","n":[{"k":"x"},{"k":"needle"}]`)
			checkReader(t, d)
			if !json.Valid(d) || !validJSON(d) {
				t.Fatalf("bigDoc(%d, %d) not valid", n, size)
			}
			// Walks that go back: the plan reads fields after long values,
			// and an array element twice (for items[1] and the pattern).
			r := val(sp(string(d)))
			for _, tc := range []struct {
				spec Spec
				want bool
			}{
				{Spec{Pattern: `{"value":{"status":["late"]}}`}, true},
				{Spec{Pattern: `{"value":{"status":["paid"]}}`}, false}, // the last duplicate wins
				{Spec{Pattern: `{"value":{"n":{"k":["needle"]}}}`}, true},
				{Spec{Expr: `value.n[1].k == "needle" && value.status == "late"`}, true},
				{Spec{Expr: `value.n[0].k == "needle"`}, false},
			} {
				if got := mustCompile(t, tc.spec).Match(r); got != tc.want {
					t.Errorf("bigDoc(%d, %d): %+v = %v, want %v", n, size, tc.spec, got, tc.want)
				}
			}
			// Not JSON once broken far from the fields the plan reads.
			for _, at := range []int{len(d) / 3, len(d) - 2} {
				bad := bytes.Clone(d)
				bad[at] = '\x01'
				if validJSON(bad) != refValid(bad) {
					t.Fatalf("bigDoc(%d, %d) broken at %d: validJSON and the reference reader disagree", n, size, at)
				}
				if !refValid(bad) && mustCompile(t, Spec{Pattern: `{"value":{"status":["late"]}}`}).Match(val(sp(string(bad)))) {
					t.Errorf("bigDoc(%d, %d) broken at %d: matched invalid JSON", n, size, at)
				}
			}
		}
	}
}

// TestKeyLookup compares the walker's lookup of raw keys (a word, a bloom
// filter, then the rest) with plain lookups of the decoded key.
func TestKeyLookup(t *testing.T) {
	names := []string{"", "a", "ab", "status", "amount", "customer", "currency", "order_id",
		"created_at", "created_by", "12345678", "123456789", "\x00a", "a\x00", "é", "\ufffd", "x\ufffdy"}
	r := rand.New(rand.NewSource(2))
	for trial := 0; trial < 200; trial++ {
		n := newNode("", -1)
		for _, k := range names {
			if r.Intn(3) == 0 {
				n.child(k)
			}
		}
		for r.Intn(4) != 0 { // and some random ones, up to more than 8
			n.child(string(rune('a' + r.Intn(26))))
		}
		var caps int32
		n.layout(&caps)
		st := &state{}
		for _, k := range append(names, "zz", "statuz", "\xff", "x\xffy", `a\"b`, `\u0061`) {
			// The key as it appears in a document, at the end of it (so
			// there are no eight bytes after it) and in the middle.
			for _, doc := range []string{`"` + k + `"`, `"` + k + `":1234567890}`} {
				b := []byte(doc)
				end, flags := refString(b, 0)
				if end < 0 {
					continue
				}
				raw := b[1 : end-1]
				want := n.lookupKey(raw)
				if flags != 0 || (n.oddKeys && !utf8.Valid(raw)) {
					want = n.lookupKey(appendString(nil, raw))
				}
				if got := n.lookup(st, b, 1, end-1, flags); got != want {
					t.Fatalf("lookup(%q) in %q = %v, want %v", k, doc, got, want)
				}
			}
		}
	}
}

// TestScannerReuse matches records of decreasing sizes with one Criteria,
// so that each walk reuses a state (and its bitmap) that held a longer
// document: nothing of the older document may show through.
func TestScannerReuse(t *testing.T) {
	c := mustCompile(t, Spec{Pattern: `{"value":{"s":[{"prefix":""}]}}`}, Spec{Expr: `value.s == "x"`})
	for n := 0; n < 200; n++ {
		long := bigDoc(n%7*n, 1+n%9, `"s":"x"`) // sometimes within a window, sometimes not
		if !c.Match(val(sp(string(long)))) {
			t.Fatal("the long document does not match")
		}
		short := []byte(`{"s":"` + strings.Repeat("y", n%130))
		if c.Match(val(sp(string(short)))) {
			t.Fatalf("%q matched", short)
		}
		short = append(short, '"', '}')
		if !c.Match(val(sp(string(short)))) {
			t.Fatalf("%q does not match", short)
		}
	}
}

// evalRef evaluates a formula as a tree, without the one-word test of
// formulas that require all their slots.
func (st *state) evalRef(x *formula, f int) bool {
	switch x.op {
	case fAnd:
		for _, k := range x.kids {
			if !st.evalRef(k, f) {
				return false
			}
		}
		return true
	case fOr:
		for _, k := range x.kids {
			if st.evalRef(k, f) {
				return true
			}
		}
		return false
	case fLeaf:
		if x.m >= 0 && st.bit(f, x.m) {
			return true
		}
		return x.absentOK && (x.e < 0 || !st.bit(f, x.e))
	case fGroup:
		return st.bit(f, x.m)
	}
	return false
}

func TestFormulaWordTest(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	var formulas []*formula
	var collect func(n *pnode)
	collect = func(n *pnode) {
		for _, g := range n.groups {
			formulas = append(formulas, g.f)
		}
		for _, k := range n.keys {
			collect(k)
		}
	}
	var words int
	for _, tc := range patternTable {
		c := mustCompile(t, Spec{Pattern: tc.pattern})
		collect(c.root)
		for _, f := range c.filters {
			formulas = append(formulas, f.pattern)
		}
		words = max(words, c.words)
	}
	// Sixty-five fields: slots in two words.
	var wide strings.Builder
	wide.WriteString(`{"value":{`)
	for i := 0; i < 65; i++ {
		fmt.Fprintf(&wide, `"f%d":[1],`, i)
	}
	wide.WriteString(`"g":{"a":[1]}}}`)
	c := mustCompile(t, Spec{Pattern: wide.String()})
	collect(c.root)
	formulas = append(formulas, c.filters[0].pattern)
	words = max(words, c.words)

	st := &state{frames: make([]uint64, words+4)}
	var all int
	for _, x := range formulas {
		if x.all {
			all++
		}
		for trial := 0; trial < 200; trial++ {
			for i := range st.frames {
				st.frames[i] = r.Uint64() & r.Uint64() // sparse and dense
				if trial%2 == 0 {
					st.frames[i] = ^st.frames[i]
				}
			}
			if got, want := st.eval(x, 0), st.evalRef(x, 0); got != want {
				t.Fatalf("formula %+v: eval %v, evalRef %v", x, got, want)
			}
		}
	}
	if all == 0 {
		t.Fatal("no formula has the one-word test")
	}
}

func TestParseNumberRandom(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for n := 0; n < 200000; n++ {
		var b []byte
		if r.Intn(2) == 0 {
			b = append(b, '-')
		}
		nd := 1 + r.Intn(20)
		for j := 0; j < nd; j++ {
			if j == 0 && nd > 1 {
				b = append(b, byte('1'+r.Intn(9)))
			} else {
				b = append(b, byte('0'+r.Intn(10)))
			}
		}
		if r.Intn(2) == 0 {
			b = append(b, '.')
			for j := 1 + r.Intn(25); j > 0; j-- {
				b = append(b, byte('0'+r.Intn(10)))
			}
		}
		if r.Intn(4) == 0 {
			b = append(b, 'e', "+-"[r.Intn(2)], byte('0'+r.Intn(10)), byte('0'+r.Intn(10)))
		}
		if refNumber(b, 0) != len(b) {
			t.Fatalf("%s is not a number", b)
		}
		want, _ := strconv.ParseFloat(string(b), 64)
		if got := parseNumber(b); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("parseNumber(%s) = %v, want %v", b, got, want)
		}
	}
}

// TestMatchRawStrings compares the string matchers on raw bytes (for
// patterns without U+FFFD) with matching the decoded string, on strings
// with invalid UTF-8 and U+FFFD around the pattern.
func TestMatchRawStrings(t *testing.T) {
	pieces := []string{"", "a", "é", "\ufffd", "\xff", "\xe2\x82", "\xe2\x82\xac", "\x82\xac", "ab", "\xc3"}
	var words []string
	for _, a := range pieces {
		for _, b := range pieces {
			words = append(words, a+b)
		}
	}
	st := &state{}
	for _, op := range []uint8{mString, mPrefix, mSuffix} {
		for _, p := range words {
			if !utf8.ValidString(p) {
				continue // patterns are UTF-8
			}
			m := matcher{op: op, str: p}
			m.prepare()
			slow := m
			slow.rawOK = false
			for _, w := range words {
				for _, raw := range []string{w, w + p, p + w, w + p + w} {
					s1 := &scalar{kind: kString, raw: []byte(raw)}
					s2 := &scalar{kind: kString, raw: []byte(raw)}
					if got, want := m.match(st, s1), slow.match(st, s2); got != want {
						t.Fatalf("op %d pattern %q on %q: raw %v, decoded %v", op, p, raw, got, want)
					}
				}
			}
		}
	}
}
