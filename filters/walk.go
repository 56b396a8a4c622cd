package filters

import "unicode/utf8"

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
			// Fields are set one by one: a composite literal is built in a
			// temporary and copied, which stalls on its partial writes.
			var s scalar
			s.kind = kindOf(b[i])
			s.flags = flags
			if s.kind == kString {
				s.raw = b[i+1 : end-1]
			} else {
				s.raw = b[i:end]
			}
			st.scalar(c, &s, f)
		}
		i = end
	}
	if exact && c.capture >= 0 {
		st.caps[c.capture] = span{start, i, flags}
	}
	return i
}

// object walks the object at b[i] for node c with frame nf (-1: none).
// Values of keys the plan does not name are skipped, which validates them.
// It is the walker's inner loop: the scans of keys and of string values
// use the scanner's cursor, kept in a register meanwhile, and keys are
// looked up by pnode.lookup.
func (st *state) object(c *pnode, i, nf int, exact bool, depth int) int {
	b := st.b
	if depth >= maxDepth {
		return -1
	}
	if i = ws(b, i+1); uint(i) < uint(len(b)) && b[i] == '}' {
		return i + 1
	}
	cur := st.cur
	for {
		if uint(i) >= uint(len(b)) || b[i] != '"' {
			return -1
		}
		// The key, and the colon after it.
		ks := i + 1
		var flags uint8
		if e := cur.strEnd(b, i); e > 0 {
			i = e
		} else if i, flags, cur = st.strLoad(i); i < 0 {
			return -1
		}
		ke := i - 1
		if uint(i) < uint(len(b)) && b[i] == ':' {
			i++
		} else if i = skipWS(b, i); uint(i) < uint(len(b)) && b[i] == ':' {
			i++
		} else {
			return -1
		}
		if i = ws(b, i); uint(i) >= uint(len(b)) {
			return -1
		}
		// Its value. Most keys are not named: their first and last bytes
		// and length tell them at once (pnode.lookup, inlined).
		var k *pnode
		if flags == 0 && !c.oddKeys {
			if c.kbloom&(1<<keySig(b[ks], b[ke-1], ke-ks)) != 0 {
				k = c.findRawAt(b, ks, ke)
			}
		} else {
			k = c.lookup(st, b, ks, ke, flags)
		}
		if k != nil {
			st.reset(k, nf, exact)
			st.cur = cur
			if i = st.value(k, i, nf, exact, depth+1); i < 0 {
				return -1
			}
			cur = st.cur
		} else if b[i] == '"' {
			if e := cur.strEnd(b, i); e > 0 {
				i = e
			} else if i, _, cur = st.strLoad(i); i < 0 {
				return -1
			}
		} else {
			st.cur = cur
			if i = st.skip(i, depth+1); i < 0 {
				return -1
			}
			cur = st.cur
		}
		// A comma and the next key, or the end.
		if uint(i) < uint(len(b)) && b[i] == ',' {
			i++
			if uint(i) < uint(len(b)) && b[i] == '"' {
				continue
			}
			i = skipWS(b, i)
			continue
		}
		if i = ws(b, i); uint(i) >= uint(len(b)) {
			return -1
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case '}':
			st.cur = cur
			return i + 1
		default:
			return -1
		}
	}
}

// lookup returns the child of c named by the key b[s:e] of a document
// (flags from its scan), or nil.
func (c *pnode) lookup(st *state, b []byte, s, e int, flags uint8) *pnode {
	if flags != 0 || c.oddKeys {
		return st.lookupSlow(c, b[s:e], flags)
	}
	if c.kbloom&(1<<keySig(b[s], b[e-1], e-s)) == 0 { // the quotes of ""
		return nil
	}
	return c.findRawAt(b, s, e)
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
