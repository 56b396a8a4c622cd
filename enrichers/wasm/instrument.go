package wasm

import (
	"errors"
	"fmt"
	"strings"
)

// Interrupting guests.
//
// wazero stops a running guest (WithCloseOnContextDone) by leaving compiled
// code for Go at every loop iteration, which makes loop-heavy guests 4 to 20
// times slower. Penstock instead rewrites the module once, before compiling
// it: every loop header, and the entry of every function that calls others,
// decrements a fuel counter of the instance. When the fuel runs out (every
// fuelPerCheck checks) the guest refills it, leaves compiled code through
// memory.grow(0), which gives the Go scheduler and garbage collector a safe
// point, and traps if the host has set the stop flag. A watchdog sets the
// flag when a call times out or its context is canceled.
//
// Straight-line code between checks is bounded by the size of a function,
// so a guest reaches a check soon after the flag is set, however it loops or
// recurses.

// Names of what instrumentation adds to a module.
const (
	// stopExport is the exported i32 global the host sets to stop the guest.
	stopExport = "__penstock_stop"
	// fuelPerCheck is how many loop iterations and calls run between two
	// looks at the stop flag.
	fuelPerCheck = 1024
)

// Section ids of the WebAssembly binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionRank orders the known sections as the binary format requires.
var sectionRank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6,
	secGlobal: 7, secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

type section struct {
	id      byte
	payload []byte
}

// instrument returns bin with the fuel checks of this file added: two
// globals (fuel, and the stop flag exported as stopExport) and a check at
// each loop header and each entry of a function that calls others. Custom
// sections with DWARF, whose code offsets would be wrong, are dropped.
func instrument(bin []byte) ([]byte, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly module")
	}
	if string(bin[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 binary")
	}
	var secs []section
	r := reader{b: bin, i: 8}
	for r.i < len(bin) {
		id := r.byte()
		n := r.u32()
		payload := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		secs = append(secs, section{id, payload})
	}

	var importedGlobals, definedGlobals uint32
	var hasMemory bool
	for _, s := range secs {
		var err error
		switch s.id {
		case secImport:
			importedGlobals, hasMemory, err = countImports(s.payload)
		case secGlobal:
			sr := reader{b: s.payload}
			definedGlobals = sr.u32()
			err = sr.err
		case secMemory:
			sr := reader{b: s.payload}
			hasMemory = hasMemory || sr.u32() > 0
			err = sr.err
		case secExport:
			err = checkExportNames(s.payload)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasMemory {
		return nil, errors.New("the module has no memory")
	}
	fuel := importedGlobals + definedGlobals
	stop := fuel + 1
	check := checkCode(fuel, stop)

	globals := appendGlobal(appendGlobal(nil, fuelPerCheck), 0)
	export := appendName(nil, stopExport)
	export = append(export, 0x03) // global
	export = appendU32(export, stop)

	var out []section
	added := map[byte]bool{}
	// add appends a new section of n entries.
	add := func(id byte, n uint32, entries []byte) {
		out = append(out, section{id, append(appendU32(nil, n), entries...)})
		added[id] = true
	}
	for _, s := range secs {
		if rank, ok := sectionRank[s.id]; ok {
			// New sections go before the first section that must follow them.
			if !added[secGlobal] && rank > sectionRank[secGlobal] {
				add(secGlobal, 2, globals)
			}
			if !added[secExport] && rank > sectionRank[secExport] {
				add(secExport, 1, export)
			}
		}
		switch s.id {
		case secCustom:
			name, err := customName(s.payload)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(name, ".debug_") {
				continue
			}
			out = append(out, s)
		case secGlobal:
			out = append(out, section{s.id, appendToVector(s.payload, 2, globals)})
			added[secGlobal] = true
		case secExport:
			out = append(out, section{s.id, appendToVector(s.payload, 1, export)})
			added[secExport] = true
		case secCode:
			code, err := instrumentCode(s.payload, check)
			if err != nil {
				return nil, err
			}
			out = append(out, section{s.id, code})
		default:
			out = append(out, s)
		}
	}
	if !added[secGlobal] {
		add(secGlobal, 2, globals)
	}
	if !added[secExport] {
		add(secExport, 1, export)
	}

	dst := make([]byte, 0, len(bin)+len(bin)/8)
	dst = append(dst, bin[:8]...)
	for _, s := range out {
		dst = append(dst, s.id)
		dst = appendU32(dst, uint32(len(s.payload)))
		dst = append(dst, s.payload...)
	}
	return dst, nil
}

// checkCode returns the instructions of one check:
//
//	global.get $fuel
//	i32.eqz
//	if
//	  i32.const fuelPerCheck
//	  global.set $fuel
//	  i32.const 0
//	  memory.grow 0
//	  drop
//	  global.get $stop
//	  if
//	    unreachable
//	  end
//	end
//	global.get $fuel
//	i32.const 1
//	i32.sub
//	global.set $fuel
func checkCode(fuel, stop uint32) []byte {
	c := append([]byte{0x23}, appendU32(nil, fuel)...)
	c = append(c, 0x45, 0x04, 0x40, 0x41)
	c = appendS32(c, fuelPerCheck)
	c = append(c, 0x24)
	c = appendU32(c, fuel)
	c = append(c, 0x41, 0x00, 0x40, 0x00, 0x1a, 0x23)
	c = appendU32(c, stop)
	c = append(c, 0x04, 0x40, 0x00, 0x0b, 0x0b, 0x23)
	c = appendU32(c, fuel)
	c = append(c, 0x41, 0x01, 0x6b, 0x24)
	c = appendU32(c, fuel)
	return c
}

// appendGlobal appends a mutable i32 global with initial value v.
func appendGlobal(dst []byte, v int32) []byte {
	dst = append(dst, 0x7f, 0x01, 0x41)
	dst = appendS32(dst, v)
	return append(dst, 0x0b)
}

// appendToVector returns the vector payload (a count, then entries) with
// n entries added at its end.
func appendToVector(payload []byte, n uint32, entries []byte) []byte {
	r := reader{b: payload}
	count := r.u32()
	dst := appendU32(nil, count+n)
	dst = append(dst, payload[r.i:]...)
	return append(dst, entries...)
}

// countImports returns the number of imported globals, and whether a memory
// is imported.
func countImports(p []byte) (globals uint32, memory bool, err error) {
	r := reader{b: p}
	n := r.u32()
	for range n {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0x00: // function
			r.u32()
		case 0x01: // table
			r.byte()
			r.limits()
		case 0x02: // memory
			r.limits()
			memory = true
		case 0x03: // global
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag
			r.byte()
			r.u32()
		default:
			return 0, false, fmt.Errorf("import section: unknown import kind %#x", kind)
		}
		if r.err != nil {
			break
		}
	}
	if r.err != nil {
		return 0, false, fmt.Errorf("import section: %w", r.err)
	}
	return globals, memory, nil
}

// checkExportNames fails if the module already exports stopExport.
func checkExportNames(p []byte) error {
	r := reader{b: p}
	n := r.u32()
	for range n {
		name := r.bytes(int(r.u32()))
		r.byte()
		r.u32()
		if r.err != nil {
			return fmt.Errorf("export section: %w", r.err)
		}
		if string(name) == stopExport {
			return fmt.Errorf("the module exports %s, a name Penstock reserves", stopExport)
		}
	}
	return r.err
}

// customName returns the name of a custom section.
func customName(p []byte) (string, error) {
	r := reader{b: p}
	name := r.bytes(int(r.u32()))
	if r.err != nil {
		return "", fmt.Errorf("custom section: %w", r.err)
	}
	return string(name), nil
}

// instrumentCode adds check to every function body of a code section: after
// each loop instruction, and at the entry of functions that call others.
func instrumentCode(p []byte, check []byte) ([]byte, error) {
	r := reader{b: p}
	n := r.u32()
	dst := make([]byte, 0, len(p)+len(p)/4)
	dst = appendU32(dst, n)
	var body []byte
	var loops []int
	for f := range n {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", f, r.err)
		}
		start, calls, covered, err := scanBody(code, &loops)
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", f, err)
		}
		body = append(body[:0], code[:start]...) // locals
		if calls && !covered {
			body = append(body, check...)
		}
		at := start
		for _, l := range loops {
			body = append(body, code[at:l]...)
			body = append(body, check...)
			at = l
		}
		body = append(body, code[at:]...)
		dst = appendU32(dst, uint32(len(body)))
		dst = append(dst, body...)
	}
	if r.i != len(p) {
		return nil, errors.New("code section: bytes after the last function")
	}
	return dst, nil
}

// scanBody walks the instructions of a function body. It returns where
// they start (after the locals), whether the function calls others, whether
// every entry runs into a loop header (and its check) before it can branch
// or call, and in loops the offsets right after each loop instruction.
func scanBody(code []byte, loops *[]int) (start int, calls, covered bool, err error) {
	r := reader{b: code}
	for range r.u32() { // local declarations
		r.u32()
		r.byte()
		if r.err != nil {
			break
		}
	}
	start = r.i
	*loops = (*loops)[:0]
	// prefix: no instruction so far could leave the straight line.
	prefix := true
	for r.err == nil && r.i < len(code) {
		op := r.byte()
		if prefix && !straight(op) {
			prefix = false
		}
		switch {
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
		case op == 0x03: // loop
			r.blockType()
			*loops = append(*loops, r.i)
			covered = covered || prefix
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b:
		case op == 0x0c || op == 0x0d: // br, br_if
			r.u32()
		case op == 0x0e: // br_table
			for range r.u32() + 1 {
				r.u32()
				if r.err != nil {
					break
				}
			}
		case op == 0x10 || op == 0x12: // call, return_call
			r.u32()
			calls = true
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
			calls = true
		case op == 0x1c: // select t*
			for range r.u32() {
				if r.byte(); r.err != nil {
					break
				}
			}
		case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
			r.u32()
		case op >= 0x28 && op <= 0x3e: // loads and stores
			r.memarg()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.leb(5)
		case op == 0x42:
			r.leb(10)
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op >= 0x45 && op <= 0xc4: // numeric
		case op == 0xd0: // ref.null
			r.leb(5)
		case op == 0xd1: // ref.is_null
		case op == 0xd2: // ref.func
			r.u32()
		case op == 0xfc:
			r.miscOp()
		case op == 0xfd:
			r.simdOp()
		default:
			return 0, false, false, fmt.Errorf("instruction %#x at %d is not supported", op, r.i-1)
		}
	}
	return start, calls, covered, r.err
}

// straight reports whether op always goes on to the next instruction (or
// into a block or loop): locals, globals, constants, memory, arithmetic.
func straight(op byte) bool {
	switch {
	case op == 0x01 || op == 0x02 || op == 0x03 || op == 0x1a || op == 0x1b:
		return true
	case op >= 0x20 && op <= 0x24:
		return true
	case op >= 0x28 && op <= 0xc4:
		return true
	}
	return false
}

// reader decodes the WebAssembly binary format; the first error sticks.
type reader struct {
	b   []byte
	i   int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) byte() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.i {
		r.err = errTruncated
		return nil
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	return p
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("integer too long")
	return 0
}

// leb skips a LEB128 of at most max bytes.
func (r *reader) leb(max int) {
	for range max {
		if r.byte()&0x80 == 0 || r.err != nil {
			return
		}
	}
	r.err = errors.New("integer too long")
}

func (r *reader) limits() {
	flags := r.byte()
	wide := flags&0x04 != 0 // memory64
	n := 5
	if wide {
		n = 10
	}
	r.leb(n)
	if flags&0x01 != 0 {
		r.leb(n)
	}
}

// blockType skips a block type: empty, a value type or a type index.
func (r *reader) blockType() {
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
			r.i++
			return
		}
	}
	r.leb(5)
}

func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 { // a memory index follows
		r.u32()
	}
	r.leb(10)
}

func (r *reader) miscOp() {
	switch op := r.u32(); {
	case op <= 7: // saturating truncations
	case op == 8: // memory.init
		r.u32()
		r.u32()
	case op == 9 || op == 11 || op == 13 || op == 15 || op == 16 || op == 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	case op == 10 || op == 12 || op == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	default:
		if r.err == nil {
			r.err = fmt.Errorf("instruction 0xfc %d is not supported", op)
		}
	}
}

func (r *reader) simdOp() {
	switch op := r.u32(); {
	case op <= 11 || op == 92 || op == 93: // loads and stores
		r.memarg()
	case op == 12 || op == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case op >= 21 && op <= 34: // extract and replace lane
		r.byte()
	case op >= 84 && op <= 91: // load and store lane
		r.memarg()
		r.byte()
	}
}

func appendU32(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func appendS32(dst []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

func appendName(dst []byte, name string) []byte {
	dst = appendU32(dst, uint32(len(name)))
	return append(dst, name...)
}
