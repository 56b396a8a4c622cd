package filters

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// A plan is the merged tree of every path the filters of a Criteria
// reference. One walk over a record's key and value visits each referenced
// path once, whatever the number of filters:
//
//   - pattern conditions on a path set bits in the frame of the object that
//     holds the path (a frame is a bit set, one per object being walked);
//   - a nested pattern object becomes a group: when the walker finishes an
//     object, each group registered on it is evaluated on the object's
//     frame, and its result is a bit in the enclosing frame;
//   - expressions register captures: the walker records where the last
//     occurrence of a path's value lies in the bytes.

// pnode is one path of the plan.
type pnode struct {
	key    string
	index  int // for an array index child (expressions), else -1
	keys   []*pnode
	ktab   []keyEntry // the keys, for comparing without decoding
	kbloom uint64     // bit keySig of each key
	ksig   [64]int32  // by keySig: 1 + the index in ktab of the first key with it, or 0
	keyMap map[string]*pnode
	// oddKeys: a child's key holds U+FFFD, which a key with invalid UTF-8
	// decodes to; such keys must be decoded before the lookup.
	oddKeys bool
	idx     []*pnode

	leaves      []*leafCond
	groups      []*group
	needExists  bool // a pattern has {"exists": false} here
	needCapture bool // an expression reads this path
	wide        bool // record metadata: numeric matching over the whole float64 range
	simple      bool // every leaf condition is simple (see leafCond.simple)

	// Slots of this node in its parent's frame, in [slotLo, slotHi).
	existsSlot, objSlot int32
	slotLo, slotHi      int32
	slotMask            uint64 // the slots as a mask, when they are in one word
	resetMask           bool   // reset clears slotMask and nothing else
	// resetNone: reset has nothing to do that the walk of the key's next
	// value does not do anyway: no slots, and no capture but the node's
	// own, which that walk records.
	resetNone bool
	// This node's own frame: one slot per condition on its children.
	nslots, nwords int32
	emptyFix       []*pnode // children with groups that match an absent object

	capture      int32
	capLo, capHi int32
}

// leafCond is the list of matchers one pattern field has on this path: its
// slot is set when any matcher matches any leaf value found there.
type leafCond struct {
	slot     int32
	ms       []matcher
	absentOK bool // the list holds {"exists": false}
	// simple tells the lists the walker evaluates on the value's bytes
	// without building a scalar (see scalarAt): lsStrings, exact strings
	// (strs) compared with a string's raw bytes (see matcher.rawOK), or
	// lsNumeric, one numeric range on the EventBridge scale (ms[0]).
	simple uint8
	strs   []string
	words  []keyEntry // lsStrings of at most eight bytes: w, n and mask of each
}

// Kinds of leafCond.simple.
const (
	lsGeneric uint8 = iota
	lsStrings
	lsNumeric
)

// prepare sets what the walker precomputes for l.
func (l *leafCond) prepare() {
	l.simple, l.strs, l.words = lsGeneric, nil, nil
	for i := range l.ms {
		l.ms[i].prepare()
	}
	if len(l.ms) == 1 && l.ms[0].op == mNumeric && !l.ms[0].wide {
		l.simple = lsNumeric
		return
	}
	var strs []string
	for i := range l.ms {
		if m := &l.ms[i]; m.op != mString || !m.rawOK {
			return
		}
		strs = append(strs, l.ms[i].str)
	}
	l.simple, l.strs = lsStrings, strs
	for _, s := range strs {
		if len(s) > 8 {
			l.words = nil
			return
		}
		l.words = append(l.words, keyEntry{w: keyWord(s), n: len(s), mask: wordMask(len(s))})
	}
}

// group is a nested pattern object on this path.
type group struct {
	slot    int32
	f       *formula
	emptyOK bool // the pattern matches an object with no fields
}

// Formula operators.
const (
	fAnd uint8 = iota
	fOr
	fLeaf
	fGroup
)

// formula is a pattern object's condition over the slots of its frame.
type formula struct {
	op       uint8
	kids     []*formula
	leaf     *leafCond
	grp      *group
	node     *pnode
	m, e     int32 // resolved slots: match (or group) and exists
	absentOK bool
	// When the formula holds exactly when some slots of one frame word
	// are all set (an AND of fields without {"exists": false}, the common
	// case), all is true and it is evaluated as one test of that word.
	all  bool
	word int32
	mask uint64
}

func newNode(key string, index int) *pnode {
	return &pnode{key: key, index: index, existsSlot: -1, objSlot: -1, capture: -1}
}

// child returns the child for key, creating it.
func (n *pnode) child(key string) *pnode {
	for _, k := range n.keys {
		if k.key == key {
			return k
		}
	}
	k := newNode(key, -1)
	n.keys = append(n.keys, k)
	return k
}

// indexChild returns the child for an array index, creating it.
func (n *pnode) indexChild(i int) *pnode {
	for _, k := range n.idx {
		if k.index == i {
			return k
		}
	}
	k := newNode("", i)
	n.idx = append(n.idx, k)
	return k
}

// findIndex returns the child for index i, or nil.
func (n *pnode) findIndex(i int) *pnode {
	for _, k := range n.idx {
		if k.index == i {
			return k
		}
	}
	return nil
}

// keyEntry is a child's key as the walker compares it with the keys of a
// document: by their first eight bytes, read as one word, and their
// lengths, before the rest.
type keyEntry struct {
	w    uint64 // keyWord(node.key)
	n    int    // len(node.key)
	node *pnode
	next int32  // 1 + the index of the next key with the same keySig, or 0
	mask uint64 // the bytes of w that are the key's (all of them from 8 bytes on)
}

// keySig picks the bit of kbloom for a key from its first and last bytes
// and its length, as a document has them (the empty key's are its
// quotes). Most keys of a document are not in the plan; the walker tells
// them with one test of kbloom, before it reads the key further.
func keySig(first, last byte, n int) uint {
	return uint((uint32(first)|uint32(last)<<8|uint32(n)<<16)*0x9e3779b1) >> 26
}

// keySigOf is keySig of a name of the plan.
func keySigOf(name string) uint {
	if name == "" {
		return keySig('"', '"', 0)
	}
	return keySig(name[0], name[len(name)-1], len(name))
}

// findSig returns the child named by the key b[s:e] of a document, whose
// bytes are its decoded form (no escapes, valid UTF-8), and whose keySig
// is sig.
func (n *pnode) findSig(b []byte, s, e int, sig uint) *pnode {
	j := n.ksig[sig%64]
	if j == 0 {
		return nil
	}
	var w uint64
	if s+8 <= len(b) {
		w = binary.LittleEndian.Uint64(b[s:])
		if e-s < 8 {
			w &= 1<<(8*uint(e-s)&63) - 1
		}
	} else {
		w = keyWord(b[s:e])
	}
	for ; j != 0; j = n.ktab[j-1].next {
		if k := &n.ktab[j-1]; k.w == w && k.n == e-s && (k.n <= 8 || k.node.key[8:] == string(b[s+8:e])) {
			return k.node
		}
	}
	return nil
}

// wordMask returns the mask of the bytes of keyWord(k) that are k's, for a
// k of n bytes.
func wordMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*n) - 1
}

// keyWord returns the first eight bytes of k (fewer when k is shorter,
// padded with zeros) as a little-endian word.
func keyWord[T string | []byte](k T) uint64 {
	var w uint64
	for j := min(len(k), 8) - 1; j >= 0; j-- {
		w = w<<8 | uint64(k[j])
	}
	return w
}

// lookupKey returns the child named by the decoded key k, or nil.
func (n *pnode) lookupKey(k []byte) *pnode {
	if n.keyMap != nil {
		return n.keyMap[string(k)]
	}
	for _, c := range n.keys {
		if c.key == string(k) {
			return c
		}
	}
	return nil
}

// hasScalar reports whether pattern conditions look at leaf values here.
func (n *pnode) hasScalar() bool { return len(n.leaves) > 0 || n.existsSlot >= 0 }

// hasPattern reports whether any pattern condition looks at this path.
func (n *pnode) hasPattern() bool {
	return len(n.leaves) > 0 || len(n.groups) > 0 || n.existsSlot >= 0 || n.objSlot >= 0
}

// hasCaptures reports whether an expression reads this path or below.
func (n *pnode) hasCaptures() bool { return n.capHi > n.capLo }

// layout assigns frame slots and capture ids below n and resolves the
// formulas. It returns the largest number of frame words a walk can hold at
// once below n (n's own frame included).
func (n *pnode) layout(caps *int32) int32 {
	if len(n.keys) > 8 {
		n.keyMap = make(map[string]*pnode, len(n.keys))
		for _, k := range n.keys {
			n.keyMap[k.key] = k
		}
	}
	n.ktab = n.ktab[:0]
	n.kbloom = 0
	n.ksig = [64]int32{}
	for _, k := range n.keys {
		if strings.ContainsRune(k.key, utf8.RuneError) {
			n.oddKeys = true
		}
		sig := keySigOf(k.key)
		n.ktab = append(n.ktab, keyEntry{w: keyWord(k.key), n: len(k.key), node: k, next: n.ksig[sig], mask: wordMask(len(k.key))})
		n.ksig[sig] = int32(len(n.ktab))
		n.kbloom |= 1 << sig
	}
	n.capLo = *caps
	if n.needCapture {
		n.capture = *caps
		*caps++
	}
	next := int32(0)
	for _, k := range n.keys {
		k.slotLo = next
		if k.needExists {
			k.existsSlot = next
			next++
		}
		for _, g := range k.groups {
			if g.emptyOK {
				k.objSlot = next
				next++
				n.emptyFix = append(n.emptyFix, k)
				break
			}
		}
		k.simple = len(k.leaves) > 0
		for _, l := range k.leaves {
			l.slot = next
			next++
			l.prepare()
			if l.simple == lsGeneric {
				k.simple = false
			}
		}
		for _, g := range k.groups {
			g.slot = next
			next++
		}
		k.slotHi = next
		k.slotMask = 0
		if k.slotHi > k.slotLo && k.slotLo>>6 == (k.slotHi-1)>>6 {
			for s := k.slotLo; s < k.slotHi; s++ {
				k.slotMask |= 1 << (uint(s) & 63)
			}
		}
	}
	n.nslots = next
	n.nwords = (next + 63) / 64
	var deepest int32
	for _, k := range n.keys {
		deepest = max(deepest, k.layout(caps))
		k.resetMask = k.slotMask != 0 && k.capHi == k.capLo
		k.resetNone = k.slotHi == k.slotLo && (k.capHi == k.capLo || k.capHi == k.capLo+1 && k.capture == k.capLo)
	}
	for _, k := range n.idx {
		deepest = max(deepest, k.layout(caps))
	}
	n.capHi = *caps
	for _, g := range n.groups {
		g.f.resolve()
	}
	return n.nwords + deepest
}

// resolve copies slot numbers into the formula once layout is done.
func (x *formula) resolve() {
	switch x.op {
	case fAnd, fOr:
		for _, k := range x.kids {
			k.resolve()
		}
	case fLeaf:
		x.m, x.e = -1, x.node.existsSlot
		if x.leaf != nil {
			x.m = x.leaf.slot
		}
	case fGroup:
		x.m = x.grp.slot
	}
	x.all, x.word, x.mask = false, 0, 0
	var slots []int32
	switch x.op {
	case fAnd:
		for _, k := range x.kids {
			s, ok := k.required()
			if !ok {
				return
			}
			slots = append(slots, s)
		}
	default:
		s, ok := x.required()
		if !ok {
			return
		}
		slots = append(slots, s)
	}
	if len(slots) == 0 {
		return
	}
	x.word = slots[0] >> 6
	for _, s := range slots {
		if s>>6 != x.word {
			x.mask = 0
			return
		}
		x.mask |= 1 << (uint(s) & 63)
	}
	x.all = true
}

// required returns the slot a leaf or group formula requires set, when it
// holds exactly when that slot is set.
func (x *formula) required() (int32, bool) {
	switch x.op {
	case fLeaf:
		return x.m, x.m >= 0 && !x.absentOK
	case fGroup:
		return x.m, true
	}
	return 0, false
}

// emptyOK reports whether the formula holds on an empty frame: on an object
// without the fields it names.
func (x *formula) emptyOK() bool {
	switch x.op {
	case fAnd:
		for _, k := range x.kids {
			if !k.emptyOK() {
				return false
			}
		}
		return true
	case fOr:
		for _, k := range x.kids {
			if k.emptyOK() {
				return true
			}
		}
		return false
	case fLeaf:
		return x.absentOK
	case fGroup:
		return x.grp.emptyOK
	}
	return false
}
