// The body of scanFast and scanFastV1 (scanfast_amd64.s), which define
// FIRSTBIT, LOWBIT and DROPLOW before they include it.

#ifndef ATCURSOR

// ATCURSOR jumps to miss unless the cursor's lowest bit is at BX (strEnd's
// first test; a cursor without bits may pass, CLOSE then misses).
#define ATCURSOR(miss) \
	FIRSTBIT(R10, R12); \
	ADDQ R9, R12;       \
	CMPQ R12, BX;       \
	JNE  miss

// CLOSE ends the string whose opening quote is the cursor's lowest bit:
// its closing quote is the next bit, unless that bit is another special
// byte or the cursor holds none (then it jumps to miss). It consumes both
// bits and sets BX just past the closing quote.
#define CLOSE(miss) \
	DROPLOW(R10, R12);      \
	JZ   miss;              \
	LOWBIT(R12, R14);       \
	ADDQ R9, R14;           \
	CMPB (SI)(R14*1), $0x22; \
	JNE  miss;              \
	DROPLOW(R12, R10);      \
	LEAQ 1(R14), BX

// WINDOW is strLoad's first case for the string whose contents start at
// p: the bits from p, from the window, must start with its closing quote,
// else it jumps to miss. It loads the cursor with the bits after that
// quote and sets BX just past it. It overwrites CX, R14 and R15.
#define WINDOW(p, miss) \
	MOVQ p, R14;                        \
	SHRQ $6, R14;                       \
	SUBQ scanner_lo(R11), R14;          \
	CMPQ R14, scanner_n(R11);           \
	JAE  miss;                          \
	MOVQ p, CX;                         \
	ANDL $63, CX;                       \
	LEAQ scanner_win(R11)(R14*8), R14;  \
	MOVQ (R14), R15;                    \
	SHRQ CX, R15;                       \
	MOVQ 8(R14), R14;                   \
	SHLQ $1, R14;                       \
	XORL $63, CX;                       \
	SHLQ CX, R14;                       \
	ORQ  R14, R15;                      \
	JZ   miss;                          \
	LOWBIT(R15, R14);                   \
	ADDQ p, R14;                        \
	CMPB (SI)(R14*1), $0x22;            \
	JNE  miss;                          \
	MOVQ p, R9;                         \
	DROPLOW(R15, R10);                  \
	LEAQ 1(R14), BX

#endif

	MOVQ sc+0(FP), R11
	MOVQ scanner_b(R11), SI
	MOVQ (scanner_b+8)(R11), DI
	MOVQ scanner_ri(R11), BX
	MOVQ scanner_rd(R11), DX
	MOVQ scanner_rstack(R11), R8
	MOVQ (scanner_cur+cursor_base)(R11), R9
	MOVQ (scanner_cur+cursor_bits)(R11), R10
	MOVQ scanner_rat(R11), AX
	CMPQ AX, $const_atKey
	JEQ  key
	CMPQ AX, $const_atNext
	JEQ  next

value:
	CMPQ    BX, DI
	JAE     fail
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x22 // '"'
	JNE     notString

	// strEnd: the lowest bit left is this quote, the next one the
	// closing quote.
	ATCURSOR(valueLoad)

valueSynced:
	// A string value whose opening quote, at BX, is the cursor's lowest
	// bit if it has bits left (see scanFastGo).
	CLOSE(valueLoad)

nextString:
	// After a string: a comma and a quote right after it are the next
	// member's key or the next element, a string, with the cursor
	// still on the specials.
	TESTQ   DX, DX
	JZ      stopDone
	LEAQ    2(BX), R12
	CMPQ    R12, DI
	JA      next
	MOVWLZX (SI)(BX*1), R12
	CMPL    R12, $0x222c // ',"'
	JNE     next
	INCQ    BX
	TESTQ   $1, R8
	JZ      valueSynced
	LEAQ    1(BX), R13 // ks
	CLOSE(keyLoad)
	JMP     colon

valueLoad:
	// strLoad's first case, from the window.
	LEAQ 1(BX), R12 // p
	WINDOW(R12, stopString)
	JMP  nextString

notString:
	LEAL -48(AX), R12
	CMPL R12, $9
	JLS  number
	CMPB AL, $0x2d // '-'
	JEQ  number
	CMPB AL, $0x7b // '{'
	JEQ  open
	CMPB AL, $0x5b // '['
	JEQ  open
	CMPB AL, $0x74 // 't'
	JEQ  litTrue
	CMPB AL, $0x66 // 'f'
	JEQ  litFalse
	CMPB AL, $0x6e // 'n'
	JEQ  litNull
	CMPB AL, $0x20
	JEQ  valueWS
	CMPB AL, $0x09
	JEQ  valueWS
	CMPB AL, $0x0a
	JEQ  valueWS
	CMPB AL, $0x0d
	JEQ  valueWS
	JMP  number // not a number either: scanNumberSlow says so

valueWS:
	INCQ    BX
	CMPQ    BX, DI
	JAE     value
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x20
	JEQ     valueWS
	CMPB    AL, $0x09
	JEQ     valueWS
	CMPB    AL, $0x0a
	JEQ     valueWS
	CMPB    AL, $0x0d
	JEQ     valueWS
	JMP     value

litTrue:
	LEAQ 4(BX), R12
	CMPQ R12, DI
	JGT  fail
	CMPL (SI)(BX*1), $0x65757274 // "true"
	JNE  fail
	MOVQ R12, BX
	JMP  next

litFalse:
	LEAQ 5(BX), R12
	CMPQ R12, DI
	JGT  fail
	CMPL 1(SI)(BX*1), $0x65736c61 // "alse"
	JNE  fail
	MOVQ R12, BX
	JMP  next

litNull:
	LEAQ 4(BX), R12
	CMPQ R12, DI
	JGT  fail
	CMPL (SI)(BX*1), $0x6c6c756e // "null"
	JNE  fail
	MOVQ R12, BX
	JMP  next

number:
	// scanNumber's fast path.
	MOVQ BX, R12 // j
	CMPB AL, $0x2d
	JNE  numberWord
	INCQ R12

numberWord:
	LEAQ 8(R12), R14
	CMPQ R14, DI
	JGT  stopNumber
	MOVQ (SI)(R12*1), R14 // x
	// nonDigits(x)
	MOVQ $0xf0f0f0f0f0f0f0f0, R15
	MOVQ R14, AX
	ANDQ R15, AX
	MOVQ $0x0606060606060606, CX
	ADDQ R14, CX
	ANDQ R15, CX
	MOVQ $0x3030303030303030, R15
	XORQ R15, AX
	XORQ R15, CX
	ORQ  CX, AX // nd
	JZ   stopNumber
	LOWBIT(AX, CX)
	ANDL $56, CX // 8n
	JZ   stopNumber
	CMPB R14B, $0x30 // '0'
	JNE  numberLead
	CMPL CX, $8
	JNE  stopNumber

numberLead:
	MOVQ R14, R15
	SHRQ CX, R15
	CMPB R15B, $0x2e // '.'
	JEQ  numberFrac
	ORL  $0x20, R15
	CMPB R15B, $0x65 // 'e'
	JEQ  stopNumber
	SHRQ $3, CX
	LEAQ (R12)(CX*1), BX
	JMP  next

numberFrac:
	SHRQ CX, AX
	SHRQ $8, AX
	JZ   stopNumber
	LOWBIT(AX, R15)
	ANDL $56, R15 // 8f
	JZ   stopNumber
	LEAQ 8(CX)(R15*1), CX // 8e
	CMPQ CX, $64
	JAE  stopNumber
	SHRQ CX, R14
	ORL  $0x20, R14
	CMPB R14B, $0x65
	JEQ  stopNumber
	SHRQ $3, CX
	LEAQ (R12)(CX*1), BX
	JMP  next

open:
	CMPQ DX, scanner_rlimit(R11)
	JGE  fail
	CMPQ DX, $64
	JEQ  stopDeep

openWS:
	INCQ    BX
	CMPQ    BX, DI
	JAE     openPush
	MOVBLZX (SI)(BX*1), R12
	CMPB    R12B, $0x20
	JEQ     openWS
	CMPB    R12B, $0x09
	JEQ     openWS
	CMPB    R12B, $0x0a
	JEQ     openWS
	CMPB    R12B, $0x0d
	JEQ     openWS
	LEAL    2(AX), R15 // '}' or ']'
	CMPB    R12B, R15B
	JNE     openPush
	INCQ    BX
	JMP     next

openPush:
	INCQ DX
	SHLQ $1, R8
	MOVL AX, R12
	SHRL $5, R12
	ANDL $1, R12
	ORQ  R12, R8
	CMPB AL, $0x7b
	JEQ  key
	JMP  value

next:
	TESTQ   DX, DX
	JZ      stopDone
	CMPQ    BX, DI
	JAE     fail
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x2c // ','
	JNE     nextClose
	INCQ    BX
	TESTQ   $1, R8
	JNZ     key
	JMP     value

nextClose:
	MOVL R8, R12
	ANDL $1, R12
	SHLL $5, R12
	ORL  $0x5d, R12 // ']', or '}' in an object
	CMPB AL, R12B
	JNE  nextWS
	INCQ BX
	SHRQ $1, R8
	DECQ DX
	JMP  next

nextWS:
	CMPB AL, $0x20
	JEQ  nextSkip
	CMPB AL, $0x09
	JEQ  nextSkip
	CMPB AL, $0x0a
	JEQ  nextSkip
	CMPB AL, $0x0d
	JEQ  nextSkip
	JMP  fail

nextSkip:
	INCQ    BX
	CMPQ    BX, DI
	JAE     next
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x20
	JEQ     nextSkip
	CMPB    AL, $0x09
	JEQ     nextSkip
	CMPB    AL, $0x0a
	JEQ     nextSkip
	CMPB    AL, $0x0d
	JEQ     nextSkip
	JMP     next

key:
	CMPQ BX, DI
	JAE  fail
	CMPB (SI)(BX*1), $0x22
	JEQ  keyQuote

keyWS:
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x20
	JEQ     keySkip
	CMPB    AL, $0x09
	JEQ     keySkip
	CMPB    AL, $0x0a
	JEQ     keySkip
	CMPB    AL, $0x0d
	JEQ     keySkip
	CMPB    AL, $0x22
	JEQ     keyQuote
	JMP     fail

keySkip:
	INCQ BX
	CMPQ BX, DI
	JAE  fail
	JMP  keyWS

keyQuote:
	LEAQ 1(BX), R13 // ks
	ATCURSOR(keyLoad)
	CLOSE(keyLoad)
	JMP  colon

keyLoad:
	WINDOW(R13, stopKey)

colon:
	CMPQ DX, $1
	JNE  colonChar
	CMPB scanner_rmembers(R11), $0
	JEQ  colonChar
	// keySig(b[ks], b[ke-1], ke-ks), ke = i-1
	MOVBLZX (SI)(R13*1), R12
	MOVBLZX -2(SI)(BX*1), R14
	SHLL    $8, R14
	ORL     R14, R12
	LEAQ    -1(BX), R14
	SUBQ    R13, R14
	SHLL    $16, R14
	ORL     R14, R12
	IMUL3L  $-1640531535, R12, R12 // 0x9e3779b1
	SHRL    $26, R12
	MOVQ    scanner_rbloom(R11), R14
	BTQ     R12, R14
	JCS     hit

colonChar:
	LEAQ    2(BX), R12
	CMPQ    R12, DI
	JA      colonOne
	MOVWLZX (SI)(BX*1), R12
	CMPL    R12, $0x223a // ':"'
	JNE     colonOne
	INCQ    BX
	JMP     valueSynced

colonOne:
	CMPQ BX, DI
	JAE  fail
	CMPB (SI)(BX*1), $0x3a // ':'
	JNE  colonWS
	INCQ BX
	JMP  value

colonWS:
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x20
	JEQ     colonSkip
	CMPB    AL, $0x09
	JEQ     colonSkip
	CMPB    AL, $0x0a
	JEQ     colonSkip
	CMPB    AL, $0x0d
	JEQ     colonSkip
	CMPB    AL, $0x3a
	JNE     fail
	INCQ    BX
	JMP     value

colonSkip:
	INCQ BX
	CMPQ BX, DI
	JAE  fail
	JMP  colonWS

hit:
	// Stop at the member's value, after the colon.
	MOVQ    R12, scanner_ksig(R11)
	MOVQ    R13, scanner_ks(R11)
	LEAQ    -1(BX), R12
	MOVQ    R12, scanner_ke(R11)
	MOVB    $0, scanner_kflags(R11)
	CMPQ    BX, DI
	JAE     fail
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x3a
	JEQ     hitValue

hitColonWS:
	CMPB AL, $0x20
	JEQ  hitColonSkip
	CMPB AL, $0x09
	JEQ  hitColonSkip
	CMPB AL, $0x0a
	JEQ  hitColonSkip
	CMPB AL, $0x0d
	JNE  fail

hitColonSkip:
	INCQ    BX
	CMPQ    BX, DI
	JAE     fail
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x3a
	JNE     hitColonWS

hitValue:
	INCQ    BX
	CMPQ    BX, DI
	JAE     fail
	MOVBLZX (SI)(BX*1), AX
	CMPB    AL, $0x20
	JEQ     hitValue
	CMPB    AL, $0x09
	JEQ     hitValue
	CMPB    AL, $0x0a
	JEQ     hitValue
	CMPB    AL, $0x0d
	JEQ     hitValue
	MOVQ    $const_stopHit, AX
	JMP     stop

stopString:
	MOVQ $const_stopString, AX
	JMP  stop

stopKey:
	MOVQ $const_stopKey, AX
	JMP  stop

stopNumber:
	MOVQ $const_stopNumber, AX
	JMP  stop

stopDeep:
	MOVQ $const_stopDeep, AX
	JMP  stop

stopDone:
	MOVQ $const_stopDone, AX
	JMP  stop

fail:
	MOVQ $const_stopFail, AX

stop:
	MOVQ BX, scanner_ri(R11)
	MOVQ DX, scanner_rd(R11)
	MOVQ R8, scanner_rstack(R11)
	MOVQ R9, (scanner_cur+cursor_base)(R11)
	MOVQ R10, (scanner_cur+cursor_bits)(R11)
	MOVQ AX, scanner_rat(R11)
	RET
