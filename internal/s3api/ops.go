package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

const (
	xmlns       = "http://s3.amazonaws.com/doc/2006-03-01/"
	ownerID     = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
	ownerName   = "local"
	timeFormat  = "2006-01-02T15:04:05.000Z"
	defaultType = "binary/octet-stream"
)

// writeXML answers 200 with v marshalled after the XML declaration.
func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		panic(err) // the documents are fixed structs; this cannot fail
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	w.Write(b)
}

// validBucketName applies S3's general purpose bucket naming rules.
func validBucketName(name string) *apiError {
	bad := func(why string) *apiError {
		return errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid (%s).", why).with("BucketName", name)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return bad("only lowercase letters, digits, dots and hyphens are allowed")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain two adjacent dots")
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// bucketLocked returns the bucket or NoSuchBucket; s.mu must be held.
func (s *Server) bucketLocked(name string) (*bucket, *apiError) {
	b := s.buckets[name]
	if b == nil {
		return nil, errNoSuchBucket(name)
	}
	return b, nil
}

// ---- buckets

type createBucketConfiguration struct {
	LocationConstraint string `xml:"LocationConstraint"`
}

func (s *Server) createBucket(w http.ResponseWriter, r *http.Request, rt *routed) {
	if e := validBucketName(rt.bucket); e != nil {
		writeError(w, r, e)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(body)) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(body, &cfg); err != nil {
			writeError(w, r, errMalformedXML())
			return
		}
		loc := cfg.LocationConstraint
		if loc != "" && loc != s.opts.Region && !(loc == "EU" && s.opts.Region == "eu-west-1") {
			writeError(w, r, errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
				"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", loc))
			return
		}
	}
	s.mu.Lock()
	_, exists := s.buckets[rt.bucket]
	if !exists {
		s.buckets[rt.bucket] = newBucket(rt.bucket)
	}
	s.mu.Unlock()
	if exists {
		writeError(w, r, errorf(http.StatusConflict, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.").with("BucketName", rt.bucket))
		return
	}
	w.Header().Set("Location", "/"+rt.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) headBucket(w http.ResponseWriter, r *http.Request, rt *routed) {
	s.mu.Lock()
	_, e := s.bucketLocked(rt.bucket)
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	w.Header().Set("X-Amz-Bucket-Region", s.opts.Region)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) deleteBucket(w http.ResponseWriter, r *http.Request, rt *routed) {
	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e == nil && len(b.objects) > 0 {
		e = errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty").with("BucketName", rt.bucket)
	}
	if e == nil {
		delete(s.buckets, rt.bucket)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner    `xml:"Owner"`
	Buckets []struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion"`
	} `xml:"Buckets>Bucket"`
	Prefix string `xml:"Prefix,omitempty"`
}

func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request, rt *routed) {
	prefix := rt.query.Get("prefix")
	res := listAllMyBucketsResult{Owner: owner{ownerID, ownerName}, Prefix: prefix}
	s.mu.Lock()
	for _, name := range slices.Sorted(maps.Keys(s.buckets)) {
		if strings.HasPrefix(name, prefix) {
			res.Buckets = append(res.Buckets, struct {
				Name         string `xml:"Name"`
				CreationDate string `xml:"CreationDate"`
				BucketRegion string `xml:"BucketRegion"`
			}{name, s.buckets[name].created.Format(timeFormat), s.opts.Region})
		}
	}
	s.mu.Unlock()
	writeXML(w, res)
}

// ---- uploads: bodies, checksums, metadata

// payload is a verified upload body.
type payload struct {
	data     []byte
	encoding string   // Content-Encoding without aws-chunked
	sent     checksum // the checksum the client sent; alg "" when none
}

// readPayload reads the object data of a PutObject or UploadPart: it
// decodes an aws-chunked body (checking x-amz-decoded-content-length and
// the trailers x-amz-trailer announces), collects the checksum sent in a
// header or trailer and verifies it and Content-MD5 against the data.
func readPayload(r *http.Request) (*payload, *apiError) {
	if len(r.TransferEncoding) > 0 {
		// S3 wants a Content-Length (with aws-chunked, also
		// x-amz-decoded-content-length): a body of unknown length is refused.
		return nil, errorf(http.StatusNotImplemented, "NotImplemented",
			"A header you provided implies functionality that is not implemented").with("Header", "Transfer-Encoding")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "IncompleteBody", "reading the body: %v", err)
	}
	p := &payload{data: raw}
	var encodings []string
	chunked := false
	for _, c := range contentEncodings(r.Header) {
		if strings.EqualFold(c, "aws-chunked") {
			chunked = true
			continue
		}
		encodings = append(encodings, c)
	}
	p.encoding = strings.Join(encodings, ",")
	sha := r.Header.Get("X-Amz-Content-Sha256")
	if strings.HasPrefix(sha, "STREAMING-") {
		chunked = true
	}

	sums, err := requestChecksums(r.Header)
	if err != nil {
		return nil, errInvalidRequest("%v", err)
	}
	if chunked {
		data, trailers, err := decodeAWSChunked(raw)
		if err != nil {
			return nil, errInvalidRequest("%v", err)
		}
		p.data = data
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n != int64(len(data)) {
				return nil, errorf(http.StatusBadRequest, "IncompleteBody",
					"You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (%s; the chunks hold %d).", v, len(data))
			}
		} else if sha == awstest.StreamingUnsignedPayloadTrailer {
			return nil, errorf(http.StatusLengthRequired, "MissingContentLength", "You must provide the x-amz-decoded-content-length HTTP header.")
		}
		for _, v := range r.Header.Values("X-Amz-Trailer") {
			for name := range strings.SplitSeq(v, ",") {
				name = strings.ToLower(strings.TrimSpace(name))
				if name == "" {
					continue
				}
				if _, ok := trailers[name]; !ok {
					return nil, errorf(http.StatusBadRequest, "MalformedTrailerError",
						"The request contained trailing data that was not well-formed or did not conform to our published schema (trailer %s was announced but not sent).", name)
				}
			}
		}
		for name, v := range trailers {
			algName, ok := strings.CutPrefix(name, "x-amz-checksum-")
			if !ok {
				continue
			}
			alg := parseAlgorithm(algName)
			if alg == "" {
				return nil, errInvalidRequest("checksum algorithm %q is not supported by this endpoint", algName)
			}
			if err := validChecksumValue(alg, v); err != nil {
				return nil, errInvalidRequest("%v", err)
			}
			sums[alg] = v
		}
	}
	if len(sums) > 1 {
		return nil, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	sdkAlg := ""
	if v := r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"); v != "" {
		if sdkAlg = parseAlgorithm(v); sdkAlg == "" {
			return nil, errInvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
	}
	for alg, v := range sums {
		if sdkAlg != "" && sdkAlg != alg {
			return nil, errInvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		if sum64(alg, p.data) != v {
			return nil, errBadDigest(alg)
		}
		p.sent = checksum{alg: alg, value: v, typ: FullObject}
	}
	if p.sent.alg == "" && sdkAlg != "" {
		p.sent = checksum{alg: sdkAlg, value: sum64(sdkAlg, p.data), typ: FullObject}
	}
	if v := r.Header.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return nil, errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if got := md5.Sum(p.data); !bytes.Equal(got[:], want) {
			return nil, errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	return p, nil
}

// metadataOf collects the x-amz-meta-* headers, names lowercased.
func metadataOf(h http.Header) map[string]string {
	m := map[string]string{}
	for k, vs := range h {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && name != "" {
			m[name] = strings.Join(vs, ",")
		}
	}
	return m
}

func contentTypeOf(h http.Header) string {
	if v := h.Get("Content-Type"); v != "" {
		return v
	}
	return defaultType
}

func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// setChecksumHeaders adds c's x-amz-checksum-ALG and x-amz-checksum-type.
func setChecksumHeaders(h http.Header, c checksum) {
	if c.alg == "" {
		return
	}
	h.Set(checksumHeader(c.alg), c.value)
	h.Set("X-Amz-Checksum-Type", c.typ)
}

// preconditions applies If-None-Match: * and If-Match to a write of key;
// s.mu must be held.
func preconditions(r *http.Request, b *bucket, key string) *apiError {
	existing := b.objects[key]
	if v := r.Header.Get("If-None-Match"); v != "" {
		if v != "*" {
			return errNotImplemented("If-None-Match other than *")
		}
		if existing != nil {
			return errorf(http.StatusPreconditionFailed, "PreconditionFailed",
				"At least one of the pre-conditions you specified did not hold").with("Condition", "If-None-Match")
		}
	}
	if v := r.Header.Get("If-Match"); v != "" {
		if existing == nil {
			return errNoSuchKey(key)
		}
		if strings.Trim(v, `"`) != strings.Trim(existing.etag, `"`) && v != "*" {
			return errorf(http.StatusPreconditionFailed, "PreconditionFailed",
				"At least one of the pre-conditions you specified did not hold").with("Condition", "If-Match")
		}
	}
	return nil
}

// ---- objects

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, rt *routed) {
	s.mu.Lock()
	_, e := s.bucketLocked(rt.bucket)
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	p, e := readPayload(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	sum := p.sent
	if sum.alg == "" {
		// S3's default integrity protection.
		sum = checksum{alg: CRC64NVME, value: sum64(CRC64NVME, p.data), typ: FullObject}
	}
	o := &object{
		body:            p.data,
		contentType:     contentTypeOf(r.Header),
		contentEncoding: p.encoding,
		metadata:        metadataOf(r.Header),
		etag:            md5ETag(p.data),
		modified:        time.Now().UTC(),
		sum:             sum,
	}
	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e == nil {
		e = preconditions(r, b, rt.key)
	}
	if e == nil {
		b.objects[rt.key] = o
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	h := w.Header()
	h.Set("ETag", o.etag)
	setChecksumHeaders(h, sum)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// lookup returns the object or NoSuchBucket/NoSuchKey.
func (s *Server) lookup(bucketName, key string) (*object, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bucketName)
	if e != nil {
		return nil, e
	}
	o := b.objects[key]
	if o == nil {
		return nil, errNoSuchKey(key)
	}
	return o, nil
}

// objectHeaders sets the headers GetObject and HeadObject answer with.
func objectHeaders(h http.Header, r *http.Request, o *object, ranged bool) {
	h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	h.Set("ETag", o.etag)
	h.Set("Content-Type", o.contentType)
	h.Set("Accept-Ranges", "bytes")
	if o.contentEncoding != "" {
		h.Set("Content-Encoding", o.contentEncoding)
	}
	for k, v := range o.metadata {
		h.Set("X-Amz-Meta-"+k, v)
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && !ranged {
		setChecksumHeaders(h, o.sum)
	}
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, rt *routed) {
	o, e := s.lookup(rt.bucket, rt.key)
	if e != nil {
		writeError(w, r, e)
		return
	}
	body := o.body
	start, end, ranged, e := parseRange(r.Header.Get("Range"), int64(len(body)))
	if e != nil {
		writeError(w, r, e)
		return
	}
	h := w.Header()
	objectHeaders(h, r, o, ranged)
	status := http.StatusOK
	if ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(body)))
		body = body[start : end+1]
		status = http.StatusPartialContent
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// parseRange parses a single "bytes=FIRST-LAST", "bytes=FIRST-" or
// "bytes=-SUFFIX" range of an object of size bytes. An absent or
// malformed header means the whole object, as S3 treats it.
func parseRange(v string, size int64) (start, end int64, ranged bool, err *apiError) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false, nil
	}
	unsatisfiable := errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange",
		"The requested range is not satisfiable").with("RangeRequested", v).with("ActualObjectSize", strconv.FormatInt(size, 10))
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		return max(size-n, 0), size - 1, true, nil
	}
	a, err1 := strconv.ParseInt(first, 10, 64)
	if err1 != nil || a < 0 {
		return 0, 0, false, nil
	}
	b := size - 1
	if last != "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < a {
			return 0, 0, false, nil
		}
		b = min(n, size-1)
	}
	if a >= size {
		return 0, 0, false, unsatisfiable
	}
	return a, b, true, nil
}

func (s *Server) headObject(w http.ResponseWriter, r *http.Request, rt *routed) {
	o, e := s.lookup(rt.bucket, rt.key)
	if e != nil {
		writeError(w, r, e)
		return
	}
	h := w.Header()
	objectHeaders(h, r, o, false)
	h.Set("Content-Length", strconv.Itoa(len(o.body)))
	w.WriteHeader(http.StatusOK)
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, rt *routed) {
	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e == nil {
		delete(b.objects, rt.key)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type listBucketResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	Contents              []listEntry    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listEntry struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
	Size              int    `xml:"Size"`
	Owner             *owner `xml:"Owner,omitempty"`
	StorageClass      string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listMaxKeys parses max-keys (or max-uploads): default and cap 1000.
func listMaxKeys(q string, name string) (int, *apiError) {
	if q == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("Provided %s not an integer or within integer range", name).with("ArgumentName", name).with("ArgumentValue", q)
	}
	return min(n, 1000), nil
}

func (s *Server) listObjectsV2(w http.ResponseWriter, r *http.Request, rt *routed) {
	q := rt.query
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys, e := listMaxKeys(q.Get("max-keys"), "max-keys")
	if e != nil {
		writeError(w, r, e)
		return
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		writeError(w, r, errInvalidArgument("Invalid Encoding Method specified in Request").with("ArgumentName", "encoding-type"))
		return
	}
	after := q.Get("start-after")
	token := q.Get("continuation-token")
	if q.Has("continuation-token") {
		t, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			writeError(w, r, errInvalidArgument("The continuation token provided is incorrect").with("ArgumentName", "continuation-token"))
			return
		}
		after = string(t)
	}

	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e != nil {
		s.mu.Unlock()
		writeError(w, r, e)
		return
	}
	keys := slices.Sorted(maps.Keys(b.objects))
	res := listBucketResult{Name: rt.bucket, Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys,
		ContinuationToken: token, StartAfter: q.Get("start-after"), EncodingType: enc}
	fetchOwner := q.Get("fetch-owner") == "true"
	last := ""
	for _, k := range keys {
		if k <= after || !strings.HasPrefix(k, prefix) {
			continue
		}
		cp := ""
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp = k[:len(prefix)+i+len(delim)]
				if cp <= after {
					// Listed already, on this page or an earlier one.
					continue
				}
			}
		}
		if res.KeyCount == maxKeys {
			res.IsTruncated = true
			break
		}
		res.KeyCount++
		if cp != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{cp})
			last, after = cp, cp
			continue
		}
		o := b.objects[k]
		entry := listEntry{Key: k, LastModified: o.modified.Format(timeFormat), ETag: o.etag,
			ChecksumAlgorithm: o.sum.alg, ChecksumType: o.sum.typ, Size: len(o.body), StorageClass: "STANDARD"}
		if fetchOwner {
			entry.Owner = &owner{ownerID, ownerName}
		}
		res.Contents = append(res.Contents, entry)
		last = k
	}
	s.mu.Unlock()
	if res.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	if enc == "url" {
		res.Prefix, res.Delimiter, res.StartAfter = urlEncode(res.Prefix), urlEncode(res.Delimiter), urlEncode(res.StartAfter)
		for i := range res.Contents {
			res.Contents[i].Key = urlEncode(res.Contents[i].Key)
		}
		for i := range res.CommonPrefixes {
			res.CommonPrefixes[i].Prefix = urlEncode(res.CommonPrefixes[i].Prefix)
		}
	}
	writeXML(w, res)
}

// urlEncode encodes as S3's encoding-type=url does: like a query value,
// with spaces as "+".
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ---- multipart uploads

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (s *Server) createMultipartUpload(w http.ResponseWriter, r *http.Request, rt *routed) {
	alg, typ := "", ""
	if v := r.Header.Get("X-Amz-Checksum-Algorithm"); v != "" {
		if alg = parseAlgorithm(v); alg == "" {
			writeError(w, r, errInvalidRequest("Checksum algorithm %s is not supported by this endpoint.", v))
			return
		}
		typ = Composite
		if alg == CRC64NVME {
			typ = FullObject
		}
	}
	if v := r.Header.Get("X-Amz-Checksum-Type"); v != "" {
		switch {
		case alg == "":
			writeError(w, r, errInvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."))
			return
		case v == FullObject && !isCRC(alg):
			writeError(w, r, errInvalidRequest("The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.", strings.ToLower(alg)))
			return
		case v == Composite && alg == CRC64NVME:
			writeError(w, r, errInvalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."))
			return
		case v != FullObject && v != Composite:
			writeError(w, r, errInvalidRequest("Value for x-amz-checksum-type header is invalid."))
			return
		}
		typ = v
	}
	var encodings []string
	for _, c := range contentEncodings(r.Header) {
		if !strings.EqualFold(c, "aws-chunked") {
			encodings = append(encodings, c)
		}
	}
	u := &upload{
		id:              strings.ReplaceAll(uuid.New()+uuid.New(), "-", ""),
		key:             rt.key,
		initiated:       time.Now().UTC(),
		contentType:     contentTypeOf(r.Header),
		contentEncoding: strings.Join(encodings, ","),
		metadata:        metadataOf(r.Header),
		alg:             alg,
		typ:             typ,
		parts:           map[int]*part{},
	}
	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e == nil {
		b.uploads[u.id] = u
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	if alg != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", alg)
		w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	writeXML(w, initiateMultipartUploadResult{Bucket: rt.bucket, Key: rt.key, UploadID: u.id})
}

// uploadLocked returns the upload of a request or NoSuchBucket /
// NoSuchUpload; s.mu must be held.
func (s *Server) uploadLocked(rt *routed) (*bucket, *upload, *apiError) {
	b, e := s.bucketLocked(rt.bucket)
	if e != nil {
		return nil, nil, e
	}
	id := rt.query.Get("uploadId")
	u := b.uploads[id]
	if u == nil || u.key != rt.key {
		return nil, nil, errNoSuchUpload(id)
	}
	return b, u, nil
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, rt *routed) {
	n, err := strconv.Atoi(rt.query.Get("partNumber"))
	if err != nil || n < 1 || n > MaxParts {
		writeError(w, r, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive").
			with("ArgumentName", "partNumber").with("ArgumentValue", rt.query.Get("partNumber")))
		return
	}
	s.mu.Lock()
	_, u, e := s.uploadLocked(rt)
	alg := ""
	if u != nil {
		alg = u.alg
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	p, e := readPayload(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	if alg != "" && p.sent.alg != "" && p.sent.alg != alg {
		writeError(w, r, errInvalidRequest("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
			strings.ToLower(alg), strings.ToLower(p.sent.alg)))
		return
	}
	pt := &part{body: p.data, etag: md5ETag(p.data), sums: map[string]string{}, modified: time.Now().UTC()}
	if p.sent.alg != "" {
		pt.sums[p.sent.alg] = p.sent.value
	}
	if alg != "" && pt.sums[alg] == "" {
		pt.sums[alg] = sum64(alg, p.data)
	}
	s.mu.Lock()
	_, u, e = s.uploadLocked(rt)
	if e == nil {
		u.parts[n] = pt
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	h := w.Header()
	h.Set("ETag", pt.etag)
	if p.sent.alg != "" {
		h.Set(checksumHeader(p.sent.alg), p.sent.value)
	} else if alg != "" {
		h.Set(checksumHeader(alg), pt.sums[alg])
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// completedPart is a <Part> of a CompleteMultipartUpload request; the
// checksum elements are read by name.
type completedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
	Any        []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

type completeMultipartUpload struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	Checksum []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	}
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

func (s *Server) completeMultipartUpload(w http.ResponseWriter, r *http.Request, rt *routed) {
	body, _ := io.ReadAll(r.Body)
	var req completeMultipartUpload
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		writeError(w, r, errMalformedXML())
		return
	}
	headerSums, err := requestChecksums(r.Header)
	if err != nil {
		writeError(w, r, errInvalidRequest("%v", err))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	b, u, e := s.uploadLocked(rt)
	if e != nil {
		writeError(w, r, e)
		return
	}
	o, e := s.assemble(u, req.Parts, headerSums, r.Header.Get("X-Amz-Mp-Object-Size"))
	if e == nil {
		e = preconditions(r, b, rt.key)
	}
	if e != nil {
		writeError(w, r, e)
		return
	}
	b.objects[rt.key] = o
	delete(b.uploads, u.id)

	res := completeMultipartUploadResult{
		Location:     s.URL() + "/" + rt.bucket + "/" + locationPath(rt.key),
		Bucket:       rt.bucket,
		Key:          rt.key,
		ETag:         o.etag,
		ChecksumType: o.sum.typ,
	}
	res.Checksum = append(res.Checksum, struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	}{xml.Name{Local: "Checksum" + o.sum.alg}, o.sum.value})
	writeXML(w, res)
}

// locationPath escapes a key for a Location URL.
func locationPath(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = strings.ReplaceAll(urlEncode(seg), "+", "%20")
	}
	return strings.Join(segs, "/")
}

// assemble checks a CompleteMultipartUpload part list against u and
// builds the object; s.mu must be held.
func (s *Server) assemble(u *upload, parts []completedPart, headerSums map[string]string, objectSize string) (*object, *apiError) {
	var (
		data    bytes.Buffer
		md5s    bytes.Buffer
		partSum bytes.Buffer
	)
	for i, cp := range parts {
		if i > 0 && cp.PartNumber <= parts[i-1].PartNumber {
			return nil, errorf(http.StatusBadRequest, "InvalidPartOrder",
				"The list of parts was not in ascending order. The parts list must be specified in order by part number.").with("UploadId", u.id)
		}
		pt := u.parts[cp.PartNumber]
		if pt == nil || strings.Trim(strings.TrimSpace(cp.ETag), `"`) != strings.Trim(pt.etag, `"`) {
			return nil, errInvalidPart(u.id, cp.PartNumber, cp.ETag)
		}
		given := map[string]string{}
		for _, el := range cp.Any {
			name, ok := strings.CutPrefix(el.XMLName.Local, "Checksum")
			if !ok {
				continue
			}
			if alg := parseAlgorithm(name); alg != "" {
				given[alg] = strings.TrimSpace(el.Value)
			}
		}
		for alg, v := range given {
			stored, ok := pt.sums[alg]
			if !ok {
				stored = sum64(alg, pt.body)
			}
			if v != stored {
				return nil, errInvalidPart(u.id, cp.PartNumber, cp.ETag)
			}
		}
		if u.alg != "" && u.typ == Composite && given[u.alg] == "" {
			return nil, errInvalidRequest("The upload was created using a %s checksum. The complete request must include the checksum for each part. It was missing for part %d in the request.",
				strings.ToLower(u.alg), cp.PartNumber)
		}
		data.Write(pt.body)
		m := md5.Sum(pt.body)
		md5s.Write(m[:])
		if u.alg != "" && u.typ == Composite {
			raw, _ := base64.StdEncoding.DecodeString(pt.sums[u.alg])
			partSum.Write(raw)
		}
	}
	// Sizes are checked once the list is known to be valid.
	for i, cp := range parts {
		pt := u.parts[cp.PartNumber]
		if minSize := s.opts.MinPartSize; minSize > 0 && i < len(parts)-1 && int64(len(pt.body)) < minSize {
			return nil, errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size").
				with("ProposedSize", strconv.Itoa(len(pt.body))).with("MinSizeAllowed", strconv.FormatInt(minSize, 10)).
				with("PartNumber", strconv.Itoa(cp.PartNumber)).with("ETag", pt.etag)
		}
	}
	if objectSize != "" {
		if n, err := strconv.ParseInt(objectSize, 10, 64); err != nil || n != int64(data.Len()) {
			return nil, errInvalidRequest("The provided 'x-amz-mp-object-size' header value %s does not match the object size %d.", objectSize, data.Len())
		}
	}

	var sum checksum
	switch {
	case u.alg != "" && u.typ == Composite:
		sum = checksum{alg: u.alg, value: sum64(u.alg, partSum.Bytes()) + "-" + strconv.Itoa(len(parts)), typ: Composite}
	case u.alg != "":
		sum = checksum{alg: u.alg, value: sum64(u.alg, data.Bytes()), typ: FullObject}
	default:
		sum = checksum{alg: CRC64NVME, value: sum64(CRC64NVME, data.Bytes()), typ: FullObject}
	}
	for alg, v := range headerSums {
		switch {
		case alg == sum.alg:
			if v != sum.value {
				return nil, errBadDigest(alg)
			}
		case u.alg == "" && isCRC(alg):
			// A full-object checksum of the client's choosing.
			if v != sum64(alg, data.Bytes()) {
				return nil, errBadDigest(alg)
			}
			sum = checksum{alg: alg, value: v, typ: FullObject}
		default:
			return nil, errInvalidRequest("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
				strings.ToLower(sum.alg), strings.ToLower(alg))
		}
	}
	return &object{
		body:            data.Bytes(),
		contentType:     u.contentType,
		contentEncoding: u.contentEncoding,
		metadata:        u.metadata,
		etag:            `"` + hex.EncodeToString(md5Of(md5s.Bytes())) + "-" + strconv.Itoa(len(parts)) + `"`,
		modified:        time.Now().UTC(),
		sum:             sum,
		parts:           len(parts),
	}, nil
}

func md5Of(b []byte) []byte {
	m := md5.Sum(b)
	return m[:]
}

func (s *Server) abortMultipartUpload(w http.ResponseWriter, r *http.Request, rt *routed) {
	s.mu.Lock()
	b, u, e := s.uploadLocked(rt)
	if e == nil {
		delete(b.uploads, u.id)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, r, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string        `xml:"Bucket"`
	KeyMarker          string        `xml:"KeyMarker"`
	UploadIDMarker     string        `xml:"UploadIdMarker"`
	NextKeyMarker      string        `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string        `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string        `xml:"Prefix,omitempty"`
	MaxUploads         int           `xml:"MaxUploads"`
	IsTruncated        bool          `xml:"IsTruncated"`
	Uploads            []uploadEntry `xml:"Upload"`
}

type uploadEntry struct {
	Key               string `xml:"Key"`
	UploadID          string `xml:"UploadId"`
	Initiator         owner  `xml:"Initiator"`
	Owner             owner  `xml:"Owner"`
	StorageClass      string `xml:"StorageClass"`
	Initiated         string `xml:"Initiated"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

func (s *Server) listMultipartUploads(w http.ResponseWriter, r *http.Request, rt *routed) {
	q := rt.query
	if q.Get("delimiter") != "" {
		writeError(w, r, errNotImplemented("ListMultipartUploads with a delimiter"))
		return
	}
	maxUploads, e := listMaxKeys(q.Get("max-uploads"), "max-uploads")
	if e != nil {
		writeError(w, r, e)
		return
	}
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	s.mu.Lock()
	b, e := s.bucketLocked(rt.bucket)
	if e != nil {
		s.mu.Unlock()
		writeError(w, r, e)
		return
	}
	ups := slices.Collect(maps.Values(b.uploads))
	s.mu.Unlock()
	slices.SortFunc(ups, func(a, b *upload) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := a.initiated.Compare(b.initiated); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	res := listMultipartUploadsResult{Bucket: rt.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxUploads}
	pastMarker := idMarker == ""
	for _, u := range ups {
		if !strings.HasPrefix(u.key, prefix) || (keyMarker != "" && u.key < keyMarker) {
			continue
		}
		if keyMarker != "" && u.key == keyMarker {
			if idMarker == "" {
				continue
			}
			if !pastMarker {
				pastMarker = u.id == idMarker
				continue
			}
		}
		if len(res.Uploads) == maxUploads {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, uploadEntry{
			Key: u.key, UploadID: u.id, Initiator: owner{ownerID, ownerName}, Owner: owner{ownerID, ownerName},
			StorageClass: "STANDARD", Initiated: u.initiated.Format(timeFormat),
			ChecksumAlgorithm: u.alg, ChecksumType: u.typ,
		})
	}
	if res.IsTruncated && len(res.Uploads) > 0 {
		last := res.Uploads[len(res.Uploads)-1]
		res.NextKeyMarker, res.NextUploadIDMarker = last.Key, last.UploadID
	}
	writeXML(w, res)
}
