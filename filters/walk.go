package filters

import (
	"encoding/binary"
	"unicode/utf8"
)

// kPlain is the kind of a record value (or key) that is not JSON: its raw
// bytes are one plain string.
const kPlain uint8 = 8

// span is where a captured value lies in the document; end == 0 means the
// path was not found. flags are a string's, from its scan.
type span struct {
	start, end int
	flags      uint8
}

// state is the per-goroutine scratch space of Match: frames, captures and
// a buffer for decoded strings. Criteria keep them in a sync.Pool, so a
// steady stream of records allocates nothing.
type state struct {
	scanner // the document being walked
	frames  []uint64
	sp      int
	caps    []span
	buf     []byte
	valKind uint8
	x       exprState
}

func (st *state) push(words int32) int {
	f := st.sp
	st.sp += int(words)
	for i := range st.frames[f:st.sp] { // frames are a word or two: no call
		st.frames[f+i] = 0
	}
	return f
}

func (st *state) bit(f int, s int32) bool {
	return st.frames[f+int(s>>6)]&(1<<(uint(s)&63)) != 0
}

func (st *state) set(f int, s int32) {
	st.frames[f+int(s>>6)] |= 1 << (uint(s) & 63)
}

// reset forgets what an earlier occurrence of n's key left in frame f and
// in the captures: with duplicate keys the last one wins.
func (st *state) reset(n *pnode, f int, exact bool) {
	if f >= 0 && n.resetMask {
		st.frames[f+int(n.slotLo>>6)] &^= n.slotMask
	} else {
		st.resetSlow(n, f, exact)
	}
}

// resetSlow is reset for every node.
func (st *state) resetSlow(n *pnode, f int, exact bool) {
	if f >= 0 && n.slotHi > n.slotLo {
		if n.slotMask != 0 {
			st.frames[f+int(n.slotLo>>6)] &^= n.slotMask
		} else {
			for s := n.slotLo; s < n.slotHi; s++ {
				st.frames[f+int(s>>6)] &^= 1 << (uint(s) & 63)
			}
		}
	}
	if exact && n.capHi > n.capLo {
		for i := n.capLo; i < n.capHi; i++ { // a few: no call
			st.caps[i] = span{}
		}
	}
}

// doc walks a whole record value or key at node n (a child of the root,
// whose frame is f) and returns its kind: kAbsent, a JSON kind, or kPlain.
func (st *state) doc(n *pnode, b []byte, f int) uint8 {
	if b == nil {
		return kAbsent
	}
	st.load(b)
	sp := st.sp
	i := skipWS(b, 0)
	if i < len(b) {
		if j := st.value(n, i, f, true, 0); j >= 0 && skipWS(b, j) == len(b) {
			return kindOf(b[i])
		}
	}
	// Not JSON: undo what the walk found, then see the bytes as a string.
	st.sp = sp
	st.reset(n, f, true)
	if n.objSlot >= 0 {
		st.set(f, n.objSlot) // object patterns never match a plain value
	}
	if n.existsSlot >= 0 {
		st.set(f, n.existsSlot)
	}
	if len(n.leaves) > 0 && utf8.Valid(b) {
		st.scalar(n, rawString(b), f)
	}
	return kPlain
}

// value walks the value at b[i] for node c, whose parent frame is f.
// exact is false inside arrays walked for patterns (where elements stand
// for their array); only exact walks record captures.
func (st *state) value(c *pnode, i, f int, exact bool, depth int) int {
	b := st.b
	start := i
	var flags uint8
	switch b[i] {
	case '{':
		switch {
		case len(c.groups) > 0:
			nf := st.push(c.nwords)
			if i = st.object(c, i, nf, exact, depth); i < 0 {
				return -1
			}
			st.finish(c, nf, f)
			st.sp = nf
		case exact && len(c.keys) > 0 && c.hasCaptures():
			if i = st.object(c, i, -1, true, depth); i < 0 {
				return -1
			}
		default:
			if i = st.skip(i, depth); i < 0 {
				return -1
			}
		}
	case '[':
		if c.hasPattern() || (exact && len(c.idx) > 0) {
			if i = st.array(c, i, f, exact, depth); i < 0 {
				return -1
			}
		} else if i = st.skip(i, depth); i < 0 {
			return -1
		}
	default:
		var end int
		if ch := b[i]; ch-'0' < 10 || ch == '-' {
			end = scanNumber(b, i)
		} else {
			end, flags = st.scalarEnd(i)
		}
		if end < 0 {
			return -1
		}
		if c.hasScalar() {
			st.scalarAt(c, i, end, flags, f)
		}
		i = end
	}
	if exact && c.capture >= 0 {
		st.caps[c.capture] = span{start, i, flags}
	}
	return i
}

// numberLeaves evaluates the leaf conditions of c, which are all simple
// (see leafCond.simple), on the number v.
func (st *state) numberLeaves(c *pnode, v float64, f int) {
	if c.existsSlot >= 0 {
		st.set(f, c.existsSlot)
	}
	n := mkNum(v)
	for _, l := range c.leaves {
		if l.simple == lsNumeric && !st.bit(f, l.slot) && l.ms[0].numericMatch(n) {
			st.set(f, l.slot)
		}
	}
}

// scalarAt evaluates the leaf conditions of c on the string, number or
// literal b[start:end] (flags: a string's, from its scan).
func (st *state) scalarAt(c *pnode, start, end int, flags uint8, f int) {
	b := st.b
	if c.simple && flags == 0 {
		// Exact strings and numeric ranges, on the bytes (see
		// leafCond.simple): a string without escapes is its raw bytes.
		if c.existsSlot >= 0 {
			st.set(f, c.existsSlot)
		}
		kind := kindOf(b[start])
		var n num
		parsed := false
		for _, l := range c.leaves {
			if st.bit(f, l.slot) {
				continue
			}
			switch {
			case l.simple == lsStrings:
				if kind != kString {
					continue
				}
				if l.words != nil && start+9 <= len(b) {
					// Compared as words: the first eight bytes of the
					// string (and what follows it).
					n, w := end-start-2, binary.LittleEndian.Uint64(b[start+1:])
					for _, e := range l.words {
						if e.n == n && w&e.mask == e.w {
							st.set(f, l.slot)
							break
						}
					}
					continue
				}
				raw := bstr(b[start+1 : end-1])
				for _, s := range l.strs {
					if raw == s {
						st.set(f, l.slot)
						break
					}
				}
			case kind == kNumber:
				if !parsed {
					n, parsed = mkNum(parseNumberAt(b, start, end)), true
				}
				if l.ms[0].numericMatch(n) {
					st.set(f, l.slot)
				}
			}
		}
		return
	}
	// Fields are set one by one: a composite literal is built in a
	// temporary and copied, which stalls on its partial writes.
	var s scalar
	s.kind = kindOf(b[start])
	s.flags = flags
	if s.kind == kString {
		s.raw = b[start+1 : end-1]
	} else {
		s.raw = b[start:end]
		s.at = start
	}
	st.scalar(c, &s, f)
}

// object walks the object at b[i] for node c with frame nf (-1: none).
// Values of keys the plan does not name are skipped, which validates them.
// The scanner's members loop goes through the members whose keys are not
// named (told by their first and last bytes and length, see keySig) at
// the speed of skip; the walker looks up the others and walks their
// values.
func (st *state) object(c *pnode, i, nf int, exact bool, depth int) int {
	b := st.b
	if depth >= maxDepth {
		return -1
	}
	if i = ws(b, i+1); uint(i) < uint(len(b)) && b[i] == '}' {
		return i + 1
	}
	bloom := c.kbloom
	if c.oddKeys {
		bloom = ^uint64(0) // every key is decoded and looked up
	}
	for {
		// Members up to the next key that may be named.
		vi, ks, ke, flags := st.members(i, depth, bloom)
		if ks < 0 {
			return vi // past the '}', or -1
		}
		i = vi
		var k *pnode
		if flags == 0 && !c.oddKeys {
			// findSig, inlined for a key of at most eight bytes that is
			// the only one with its keySig, as most are.
			if j := c.ksig[st.ksig%64]; j != 0 {
				if e := &c.ktab[j-1]; e.next == 0 && e.n <= 8 && ks+8 <= len(b) {
					if e.n == ke-ks && binary.LittleEndian.Uint64(b[ks:])&e.mask == e.w {
						k = e.node
					}
				} else {
					k = c.findSig(b, ks, ke, st.ksig)
				}
			}
		} else {
			k = st.lookupSlow(c, b[ks:ke], flags)
		}
		if k != nil {
			if nf >= 0 && k.resetMask { // reset, inlined
				st.frames[nf+int(k.slotLo>>6)] &^= k.slotMask
			} else if !k.resetNone {
				st.resetSlow(k, nf, exact)
			}
			// Strings and numbers here, without the calls value makes.
			vs := i
			var vflags uint8
			if c0 := b[i]; c0 == '"' {
				var e int
				if e, vflags = st.str(i); e < 0 {
					return -1
				}
				i = e
			} else if c0-'0' < 10 || c0 == '-' {
				if k.simple {
					// Read and evaluated at once.
					var v float64
					if i, v = numberAt(b, i); i < 0 {
						return -1
					}
					st.numberLeaves(k, v, nf)
					if exact && k.capture >= 0 {
						st.caps[k.capture] = span{vs, i, 0}
					}
					goto next
				}
				if i = scanNumber(b, i); i < 0 {
					return -1
				}
			} else {
				if i = st.value(k, i, nf, exact, depth+1); i < 0 {
					return -1
				}
				goto next
			}
			if k.hasScalar() {
				st.scalarAt(k, vs, i, vflags, nf)
			}
			if exact && k.capture >= 0 {
				st.caps[k.capture] = span{vs, i, vflags}
			}
		} else if i = st.skip(i, depth+1); i < 0 {
			return -1
		}
	next: // a comma and the next key, or the end
		if uint(i) < uint(len(b)) && b[i] == ',' {
			i++
			continue
		}
		if i = ws(b, i); uint(i) >= uint(len(b)) {
			return -1
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// lookup returns the child of c named by the key b[s:e] of a document
// (flags from its scan), or nil. object does the same with the keySig the
// scanner computed.
func (c *pnode) lookup(st *state, b []byte, s, e int, flags uint8) *pnode {
	if flags != 0 || c.oddKeys {
		return st.lookupSlow(c, b[s:e], flags)
	}
	// b[e-1] is the opening quote of an empty key, as keySigOf has it.
	return c.findSig(b, s, e, keySig(b[s], b[e-1], e-s))
}

// lookupSlow returns the child of c named by the raw key (its bytes between
// the quotes; flags from the scan), decoding it first when it holds escapes
// or, where a name holds U+FFFD, bytes that are not UTF-8.
func (st *state) lookupSlow(c *pnode, key []byte, flags uint8) *pnode {
	if flags&sEscape != 0 || (c.oddKeys && !utf8.Valid(key)) {
		mark := len(st.buf)
		st.buf = appendString(st.buf, key)
		k := c.lookupKey(st.buf[mark:])
		st.buf = st.buf[:mark]
		return k
	}
	return c.lookupKey(key)
}

// array walks the array at b[i] for node c: for patterns every element
// stands for the array (an array matches if any element does), for
// expressions index children capture single elements.
func (st *state) array(c *pnode, i, f int, exact bool, depth int) int {
	b := st.b
	if depth+1 > maxDepth {
		return -1
	}
	i = ws(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	pat := c.hasPattern()
	for n := 0; ; n++ {
		if i >= len(b) {
			return -1
		}
		start := i
		if pat {
			i = st.value(c, i, f, false, depth+1)
		} else {
			i = st.skip(i, depth+1)
		}
		if i < 0 {
			return -1
		}
		if exact && len(c.idx) > 0 {
			if ic := c.findIndex(n); ic != nil {
				st.value(ic, start, -1, true, depth+1)
			}
		}
		if i = ws(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// scalar evaluates the leaf conditions of c on one leaf value.
func (st *state) scalar(c *pnode, s *scalar, f int) {
	if c.existsSlot >= 0 {
		st.set(f, c.existsSlot)
	}
	for _, l := range c.leaves {
		if st.bit(f, l.slot) {
			continue
		}
		for i := range l.ms {
			if l.ms[i].match(st, s) {
				st.set(f, l.slot)
				break
			}
		}
	}
}

// fix applies the rule for nested patterns where the data has no object:
// they are evaluated as on an empty object.
func (st *state) fix(c *pnode, nf int) {
	for _, k := range c.emptyFix {
		if st.bit(nf, k.objSlot) {
			continue
		}
		for _, g := range k.groups {
			if g.emptyOK {
				st.set(nf, g.slot)
			}
		}
	}
}

// finish evaluates the groups of c on its frame nf and records the results
// in the parent frame f.
func (st *state) finish(c *pnode, nf, f int) {
	if len(c.emptyFix) > 0 {
		st.fix(c, nf)
	}
	for _, g := range c.groups {
		if st.bit(f, g.slot) {
			continue
		}
		x := g.f
		if x.all && st.frames[nf+int(x.word)]&x.mask == x.mask || !x.all && st.eval(x, nf) {
			st.set(f, g.slot)
		}
	}
	if c.objSlot >= 0 {
		st.set(f, c.objSlot)
	}
}

// eval evaluates a pattern formula on frame f.
func (st *state) eval(x *formula, f int) bool {
	if x.all {
		return st.frames[f+int(x.word)]&x.mask == x.mask
	}
	switch x.op {
	case fAnd:
		for _, k := range x.kids {
			if !st.eval(k, f) {
				return false
			}
		}
		return true
	case fOr:
		for _, k := range x.kids {
			if st.eval(k, f) {
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
