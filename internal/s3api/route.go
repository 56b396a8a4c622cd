package s3api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// routed is a request resolved to an operation.
type routed struct {
	op          string
	bucket, key string
	partNumber  int
	query       url.Values
	handler     func(s *Server, w http.ResponseWriter, r *http.Request, rt *routed)
	unsupported string // what an OpUnknown request asked for
}

// bucketListParams are the query parameters of the bucket GET operations
// served here; any other sub-resource is not implemented.
var bucketListParams = map[string]bool{
	"list-type": true, "prefix": true, "delimiter": true, "max-keys": true,
	"continuation-token": true, "start-after": true, "fetch-owner": true,
	"encoding-type": true, "uploads": true, "key-marker": true,
	"upload-id-marker": true, "max-uploads": true, "x-id": true,
}

// route names the operation of a path-style request:
// /, /BUCKET and /BUCKET/KEY with the method and query parameters.
func route(r *http.Request) *routed {
	q := r.URL.Query()
	rt := &routed{op: OpUnknown, query: q, handler: (*Server).notImplemented}
	p := strings.TrimPrefix(r.URL.Path, "/")
	rt.bucket, rt.key, _ = strings.Cut(p, "/")
	set := func(op string, h func(*Server, http.ResponseWriter, *http.Request, *routed)) {
		rt.op, rt.handler = op, h
	}
	switch {
	case rt.bucket == "":
		if r.Method != http.MethodGet {
			rt.unsupported = r.Method + " /"
			return rt
		}
		for k := range q {
			if k != "x-id" && k != "max-buckets" && k != "prefix" && k != "continuation-token" && k != "bucket-region" {
				rt.unsupported = "ListBuckets with ?" + k
				return rt
			}
		}
		set(OpListBuckets, (*Server).listBuckets)
	case rt.key == "":
		for k := range q {
			if !bucketListParams[k] {
				rt.unsupported = "bucket sub-resource ?" + k
				return rt
			}
		}
		switch r.Method {
		case http.MethodPut:
			set(OpCreateBucket, (*Server).createBucket)
		case http.MethodHead:
			set(OpHeadBucket, (*Server).headBucket)
		case http.MethodDelete:
			set(OpDeleteBucket, (*Server).deleteBucket)
		case http.MethodGet:
			switch {
			case q.Has("uploads"):
				set(OpListMultipartUploads, (*Server).listMultipartUploads)
			case q.Get("list-type") == "2":
				set(OpListObjectsV2, (*Server).listObjectsV2)
			default:
				rt.unsupported = "ListObjects (version 1)"
			}
		default:
			rt.unsupported = r.Method + " on a bucket"
		}
	default:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			rt.unsupported = "CopyObject and UploadPartCopy"
			return rt
		}
		switch r.Method {
		case http.MethodPut:
			if q.Has("uploadId") || q.Has("partNumber") {
				rt.partNumber, _ = strconv.Atoi(q.Get("partNumber"))
				set(OpUploadPart, (*Server).uploadPart)
			} else if len(q) == 0 || (len(q) == 1 && q.Has("x-id")) {
				set(OpPutObject, (*Server).putObject)
			} else {
				rt.unsupported = "object sub-resource " + firstKey(q)
			}
		case http.MethodGet:
			if q.Has("uploadId") {
				rt.unsupported = "ListParts"
			} else if q.Has("partNumber") || q.Has("versionId") || q.Has("tagging") || q.Has("acl") || q.Has("attributes") {
				rt.unsupported = "GetObject with " + firstKey(q)
			} else {
				set(OpGetObject, (*Server).getObject)
			}
		case http.MethodHead:
			set(OpHeadObject, (*Server).headObject)
		case http.MethodDelete:
			if q.Has("uploadId") {
				set(OpAbortMultipartUpload, (*Server).abortMultipartUpload)
			} else {
				set(OpDeleteObject, (*Server).deleteObject)
			}
		case http.MethodPost:
			switch {
			case q.Has("uploads"):
				set(OpCreateMultipartUpload, (*Server).createMultipartUpload)
			case q.Has("uploadId"):
				set(OpCompleteMultipartUpload, (*Server).completeMultipartUpload)
			default:
				rt.unsupported = "POST " + firstKey(q)
			}
		default:
			rt.unsupported = r.Method + " on an object"
		}
	}
	return rt
}

func firstKey(q url.Values) string {
	for k := range q {
		if k != "x-id" {
			return "?" + k
		}
	}
	return ""
}

func (s *Server) notImplemented(w http.ResponseWriter, r *http.Request, rt *routed) {
	writeError(w, r, errNotImplemented(rt.unsupported))
}
