package filters

import "unicode/utf8"

// kPlain is the kind of a record value (or key) that is not JSON: its raw
// bytes are one plain string.
const kPlain uint8 = 8

// span is where a captured value lies in the document; end == 0 means the
// path was not found.
type span struct{ start, end int }

// state is the per-goroutine scratch space of Match: frames, captures and
// a buffer for decoded strings. Criteria keep them in a sync.Pool, so a
// steady stream of records allocates nothing.
type state struct {
	b       []byte
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
	clear(st.frames[f:st.sp])
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
	if f >= 0 {
		for s := n.slotLo; s < n.slotHi; s++ {
			st.frames[f+int(s>>6)] &^= 1 << (uint(s) & 63)
		}
	}
	if exact && n.capHi > n.capLo {
		clear(st.caps[n.capLo:n.capHi])
	}
}

// doc walks a whole record value or key at node n (a child of the root,
// whose frame is f) and returns its kind: kAbsent, a JSON kind, or kPlain.
func (st *state) doc(n *pnode, b []byte, f int) uint8 {
	if b == nil {
		return kAbsent
	}
	st.b = b
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
		st.scalar(n, &scalar{kind: kString, flags: sRaw, raw: b}, f)
	}
	return kPlain
}

// value walks the value at b[i] for node c, whose parent frame is f.
// exact is false inside arrays walked for patterns (where elements stand
// for their array); only exact walks record captures.
func (st *state) value(c *pnode, i, f int, exact bool, depth int) int {
	b := st.b
	start := i
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
			if i = skipValue(b, i, depth); i < 0 {
				return -1
			}
		}
	case '[':
		if c.hasPattern() || (exact && len(c.idx) > 0) {
			if i = st.array(c, i, f, exact, depth); i < 0 {
				return -1
			}
		} else if i = skipValue(b, i, depth); i < 0 {
			return -1
		}
	default:
		end, flags := scanScalar(b, i)
		if end < 0 {
			return -1
		}
		if c.hasScalar() {
			s := scalar{kind: kindOf(b[i]), flags: flags, raw: b[i:end]}
			if s.kind == kString {
				s.raw = b[i+1 : end-1]
			}
			st.scalar(c, &s, f)
		}
		i = end
	}
	if exact && c.capture >= 0 {
		st.caps[c.capture] = span{start, i}
	}
	return i
}

// object walks the object at b[i] for node c with frame nf (-1: none).
func (st *state) object(c *pnode, i, nf int, exact bool, depth int) int {
	b := st.b
	if depth+1 > maxDepth {
		return -1
	}
	i = ws(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		end, flags := scanString(b, i)
		if end < 0 {
			return -1
		}
		key := b[i+1 : end-1]
		i = ws(b, end)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = ws(b, i+1); i >= len(b) {
			return -1
		}
		var k *pnode
		if flags&sEscape != 0 || (c.oddKeys && !utf8.Valid(key)) {
			mark := len(st.buf)
			st.buf = appendString(st.buf, key)
			k = c.lookupKey(st.buf[mark:])
			st.buf = st.buf[:mark]
		} else {
			k = c.lookupKey(key)
		}
		if k == nil {
			i = skipValue(b, i, depth+1)
		} else {
			st.reset(k, nf, exact)
			i = st.value(k, i, nf, exact, depth+1)
		}
		if i < 0 {
			return -1
		}
		if i = ws(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
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
			i = skipValue(b, i, depth+1)
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
	st.fix(c, nf)
	for _, g := range c.groups {
		if !st.bit(f, g.slot) && st.eval(g.f, nf) {
			st.set(f, g.slot)
		}
	}
	if c.objSlot >= 0 {
		st.set(f, c.objSlot)
	}
}

// eval evaluates a pattern formula on frame f.
func (st *state) eval(x *formula, f int) bool {
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
