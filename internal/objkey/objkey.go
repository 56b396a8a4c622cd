// Package objkey compiles object key templates, such as the S3 target's
// default "{topic}/{partition}/{first_offset}-{last_offset}.jsonl".
package objkey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/penstock-dev/penstock/pipeline"
)

// Key is a compiled object key template: text with the variables {topic},
// {partition}, {first_offset}, {last_offset} (the batch's fetched offset
// range), {pipeline}, and {yyyy}, {mm}, {dd}, {hh} (the UTC date and hour of
// the batch's first record).
type Key struct{ parts []keyPart }

type keyPart struct {
	lit string
	v   string // variable name, "" for a literal
}

var keyVars = map[string]bool{"topic": true, "partition": true, "first_offset": true, "last_offset": true,
	"pipeline": true, "yyyy": true, "mm": true, "dd": true, "hh": true}

// Parse compiles a key template.
func Parse(s string) (*Key, error) {
	k := &Key{}
	for len(s) > 0 {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			k.parts = append(k.parts, keyPart{lit: s})
			break
		}
		if i > 0 {
			k.parts = append(k.parts, keyPart{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("'{' at byte %d is not closed", i)
		}
		name := s[i+1 : i+j]
		if !keyVars[name] {
			return nil, fmt.Errorf("unknown key variable {%s}: use {topic}, {partition}, {first_offset}, {last_offset}, {pipeline}, {yyyy}, {mm}, {dd}, {hh}", name)
		}
		k.parts = append(k.parts, keyPart{v: name})
		s = s[i+j+1:]
	}
	if len(k.parts) == 0 {
		return nil, errors.New("the key is empty")
	}
	return k, nil
}

// Append appends the key of batch b to dst.
func (k *Key) Append(dst []byte, b *pipeline.Batch, pipelineName string) []byte {
	var ts time.Time
	for _, p := range k.parts {
		switch p.v {
		case "":
			dst = append(dst, p.lit...)
		case "topic":
			dst = append(dst, b.Topic...)
		case "partition":
			dst = strconv.AppendInt(dst, int64(b.Partition), 10)
		case "first_offset":
			dst = strconv.AppendInt(dst, b.FirstOffset(), 10)
		case "last_offset":
			dst = strconv.AppendInt(dst, b.LastOffset(), 10)
		case "pipeline":
			dst = append(dst, pipelineName...)
		default:
			if ts.IsZero() {
				var ms int64
				if len(b.Records) > 0 {
					ms = b.Records[0].Timestamp
				}
				ts = time.UnixMilli(ms).UTC()
			}
			switch p.v {
			case "yyyy":
				dst = ts.AppendFormat(dst, "2006")
			case "mm":
				dst = ts.AppendFormat(dst, "01")
			case "dd":
				dst = ts.AppendFormat(dst, "02")
			case "hh":
				dst = ts.AppendFormat(dst, "15")
			}
		}
	}
	return dst
}
