package s3api

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The checksum algorithms the endpoint computes and verifies, named as in
// S3's x-amz-checksum-algorithm and x-amz-sdk-checksum-algorithm headers.
const (
	CRC32     = "CRC32"
	CRC32C    = "CRC32C"
	CRC64NVME = "CRC64NVME"
	SHA1      = "SHA1"
	SHA256    = "SHA256"
	SHA512    = "SHA512"
	MD5       = "MD5"
)

// The checksum types of x-amz-checksum-type.
const (
	// FullObject: the checksum covers the whole object's bytes.
	FullObject = "FULL_OBJECT"
	// Composite: a multipart object's checksum of its parts' checksums,
	// written "BASE64-N" for N parts.
	Composite = "COMPOSITE"
)

// algorithms lists the supported algorithms in the order checksum headers
// are looked for.
var algorithms = []string{CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5}

// crc64NVMETable is CRC-64/NVME's reflected polynomial, as S3 and the SDKs
// compute it.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var crc32CTable = crc32.MakeTable(crc32.Castagnoli)

// newHash returns a hash for a supported algorithm, nil for any other.
func newHash(alg string) hash.Hash {
	switch alg {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(crc32CTable)
	case CRC64NVME:
		return crc64.New(crc64NVMETable)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	case MD5:
		return md5.New()
	}
	return nil
}

// isCRC reports whether alg is one of the CRCs, the only algorithms S3
// allows full-object checksums of multipart uploads for.
func isCRC(alg string) bool { return alg == CRC32 || alg == CRC32C || alg == CRC64NVME }

// parseAlgorithm returns the canonical name of a supported algorithm given
// in any case, or "".
func parseAlgorithm(v string) string {
	for _, a := range algorithms {
		if strings.EqualFold(a, strings.TrimSpace(v)) {
			return a
		}
	}
	return ""
}

// checksumHeader is the header carrying alg's checksum.
func checksumHeader(alg string) string { return "X-Amz-Checksum-" + strings.ToLower(alg) }

// sum returns the raw checksum of b with alg.
func sum(alg string, b []byte) []byte {
	h := newHash(alg)
	h.Write(b)
	return h.Sum(nil)
}

// sum64 returns the base64 checksum of b with alg.
func sum64(alg string, b []byte) string {
	return base64.StdEncoding.EncodeToString(sum(alg, b))
}

// checksum is a value of one algorithm.
type checksum struct {
	alg, value string // value is base64, "-N" appended for a composite
	typ        string // FullObject or Composite
}

// requestChecksums returns the x-amz-checksum-* values a request carries
// in its headers, by algorithm. An algorithm not supported here is an
// error, as is a value that is not base64 of the algorithm's size.
func requestChecksums(h http.Header) (map[string]string, error) {
	out := map[string]string{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, "x-amz-checksum-")
		if !ok || name == "algorithm" || name == "type" || name == "mode" {
			continue
		}
		alg := parseAlgorithm(name)
		if alg == "" {
			return nil, fmt.Errorf("checksum algorithm %q is not supported by this endpoint", name)
		}
		if err := validChecksumValue(alg, vs[0]); err != nil {
			return nil, err
		}
		out[alg] = vs[0]
	}
	return out, nil
}

func validChecksumValue(alg, v string) error {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != newHash(alg).Size() {
		return fmt.Errorf("Value for x-amz-checksum-%s header is invalid.", strings.ToLower(alg))
	}
	return nil
}

// chunkedError is a malformed aws-chunked body.
type chunkedError struct{ msg string }

func (e *chunkedError) Error() string { return e.msg }

// decodeAWSChunked decodes an aws-chunked body: chunks of
// "HEXSIZE[;extensions]\r\nDATA\r\n", a final "0\r\n", trailer lines
// "name:value\r\n" and an empty line. It returns the data and the trailers
// by lowercase name. Chunk extensions (chunk signatures) are ignored.
func decodeAWSChunked(body []byte) (data []byte, trailers map[string]string, err error) {
	bad := func(format string, args ...any) error {
		return &chunkedError{"malformed aws-chunked body: " + fmt.Sprintf(format, args...)}
	}
	r := bufio.NewReader(bytes.NewReader(body))
	var out bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, bad("chunk header not terminated by CRLF")
		}
		if !strings.HasSuffix(line, "\r\n") {
			return nil, nil, bad("chunk header %q not terminated by CRLF", line)
		}
		sizeText, _, _ := strings.Cut(strings.TrimSuffix(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return nil, nil, bad("chunk size %q is not a hexadecimal number", sizeText)
		}
		if size == 0 {
			break
		}
		if size > int64(len(body)) {
			return nil, nil, bad("chunk size %d exceeds the body", size)
		}
		if _, err := io.CopyN(&out, r, size); err != nil {
			return nil, nil, bad("chunk of %d bytes is truncated", size)
		}
		var crlf [2]byte
		if _, err := io.ReadFull(r, crlf[:]); err != nil || string(crlf[:]) != "\r\n" {
			return nil, nil, bad("chunk data not followed by CRLF")
		}
	}
	trailers = map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" && len(trailers) > 0 {
				// Some encoders omit the final empty line after trailers.
				break
			}
			return nil, nil, bad("trailer section not terminated by an empty line")
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, bad("trailer line %q is not name:value", line)
		}
		trailers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if rest, _ := io.ReadAll(r); len(bytes.TrimSpace(rest)) > 0 {
		return nil, nil, bad("%d bytes after the end of the encoding", len(rest))
	}
	return out.Bytes(), trailers, nil
}

// contentEncodings splits the Content-Encoding values of h into their
// codings, in order.
func contentEncodings(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}
