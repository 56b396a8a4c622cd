package sqsapi

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Attribute is a message attribute: a data type (String, Number or
// Binary, optionally followed by ".label") and the value, in StringValue
// for String and Number types, in BinaryValue for Binary ones.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// binary reports whether the attribute's value travels as BinaryValue.
func (a Attribute) binary() bool { return strings.HasPrefix(a.DataType, "Binary") }

// size is what the attribute adds to a message's size: the bytes of its
// name, data type and value.
func (a Attribute) size(name string) int {
	n := len(name) + len(a.DataType)
	if a.binary() {
		return n + len(a.BinaryValue)
	}
	return n + len(a.StringValue)
}

// Transport type codes of the attribute MD5 digest.
const (
	transportString byte = 1
	transportBinary byte = 2
)

// MD5OfAttributes returns the digest SQS answers as MD5OfMessageAttributes
// (and, over the system attributes, MD5OfMessageSystemAttributes), in hex;
// "" for no attributes. It is the MD5 of, for each attribute in ascending
// order of name: the name, the data type and the value, each preceded by
// its length as a 4-byte big-endian integer, with a transport byte (1 for
// a string value, 2 for a binary one) between the data type and the value.
func MD5OfAttributes(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	var l [4]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if a.binary() {
			h.Write([]byte{transportBinary})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{transportString})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// md5Hex is the hex MD5 of s, as in MD5OfMessageBody.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// attrValue is a MessageAttributeValue as the JSON protocol carries it;
// blobs are base64.
type attrValue struct {
	DataType         *string
	StringValue      *string
	BinaryValue      []byte
	StringListValues []string
	BinaryListValues [][]byte
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// validText reports whether s holds only the characters SQS accepts in a
// message: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
// #x10000 to #x10FFFF.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

var numberRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// validNumber reports whether s is a number SQS accepts: at most 38
// significant digits.
func validNumber(s string) bool {
	if !numberRE.MatchString(s) {
		return false
	}
	mant := strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		mant = mant[:i]
	}
	mant = strings.Replace(mant, ".", "", 1)
	mant = strings.TrimLeft(mant, "0")
	mant = strings.TrimRight(mant, "0")
	return len(mant) <= 38
}

// parseAttributes validates the message attributes of a send (system
// selects the rules of MessageSystemAttributes, where only AWSTraceHeader
// is allowed) and returns them with the bytes they add to the message.
func parseAttributes(in map[string]attrValue, system bool) (map[string]Attribute, int, *apiError) {
	if len(in) == 0 {
		return nil, 0, nil
	}
	kind := "user"
	if system {
		kind = "system"
	}
	if !system && len(in) > MaxMessageAttributes {
		return nil, 0, invalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in), MaxMessageAttributes)
	}
	out := make(map[string]Attribute, len(in))
	size := 0
	for name, v := range in {
		if system {
			if name != "AWSTraceHeader" {
				return nil, 0, invalidParameterValue("Message system attribute name '%s' is invalid.", name)
			}
		} else if !validAttrName(name) {
			return nil, 0, invalidParameterValue("Message (%s) attribute name '%s' is invalid. Attribute names can contain only alphanumeric characters, hyphens, underscores and periods; cannot start with AWS. or Amazon., cannot start or end with a period, cannot contain consecutive periods, and can be at most 256 characters long.", kind, name)
		}
		if v.DataType == nil || *v.DataType == "" {
			return nil, 0, invalidParameterValue("The message (%s) attribute '%s' must contain a non-empty attribute type.", kind, name)
		}
		dt := *v.DataType
		base, _, _ := strings.Cut(dt, ".")
		if len(dt) > 256 || (base != "String" && base != "Number" && base != "Binary") {
			return nil, 0, invalidParameterValue("The type of message (%s) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", kind, name)
		}
		if system && base != "String" {
			return nil, 0, invalidParameterValue("The type of message (%s) attribute '%s' is invalid. The AWSTraceHeader attribute must be of type String.", kind, name)
		}
		if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
			return nil, 0, invalidParameterValue("Message (%s) attribute '%s': list values are not supported.", kind, name)
		}
		a := Attribute{DataType: dt}
		switch base {
		case "Binary":
			if v.StringValue != nil {
				return nil, 0, invalidParameterValue("The message (%s) attribute '%s' with type 'Binary' must use field 'Binary'.", kind, name)
			}
			if len(v.BinaryValue) == 0 {
				return nil, 0, invalidParameterValue("The message (%s) attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", kind, name, dt)
			}
			a.BinaryValue = v.BinaryValue
		default:
			if v.BinaryValue != nil {
				return nil, 0, invalidParameterValue("The message (%s) attribute '%s' with type '%s' must use field 'String'.", kind, name, base)
			}
			if v.StringValue == nil || *v.StringValue == "" {
				return nil, 0, invalidParameterValue("The message (%s) attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", kind, name, dt)
			}
			s := *v.StringValue
			if !validText(s) {
				return nil, 0, newError("InvalidMessageContents", 0, true, "Invalid characters found in the message (%s) attribute '%s'.", kind, name)
			}
			if base == "Number" && !validNumber(s) {
				return nil, 0, invalidParameterValue("Can't cast the value of message (%s) attribute '%s' to a number.", kind, name)
			}
			a.StringValue = s
		}
		out[name] = a
		size += a.size(name)
	}
	return out, size, nil
}

// validAttrName applies SQS's rules for message attribute names.
func validAttrName(n string) bool {
	if !attrNameRE.MatchString(n) {
		return false
	}
	l := strings.ToLower(n)
	return !strings.HasPrefix(l, "aws.") && !strings.HasPrefix(l, "amazon.") &&
		!strings.HasPrefix(n, ".") && !strings.HasSuffix(n, ".") && !strings.Contains(n, "..")
}

// cloneAttrs copies an attribute map, values included.
func cloneAttrs(in map[string]Attribute) map[string]Attribute {
	if in == nil {
		return nil
	}
	out := make(map[string]Attribute, len(in))
	for k, v := range in {
		if v.BinaryValue != nil {
			v.BinaryValue = append([]byte(nil), v.BinaryValue...)
		}
		out[k] = v
	}
	return out
}

// wireAttr is an attribute as a JSON response carries it.
type wireAttr struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

func toWire(in map[string]Attribute) map[string]wireAttr {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]wireAttr, len(in))
	for k, a := range in {
		w := wireAttr{DataType: a.DataType}
		if a.binary() {
			w.BinaryValue = a.BinaryValue
		} else {
			s := a.StringValue
			w.StringValue = &s
		}
		out[k] = w
	}
	return out
}
