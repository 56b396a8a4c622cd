package snsapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Attribute is a message attribute: a data type (String, String.Array,
// Number or Binary, the first three optionally followed by ".label") and
// the value, in StringValue for string and number types, in BinaryValue
// for Binary ones.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

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

// indices returns, in ascending order, the N of the keys of form that
// start with prefix followed by N and a dot: the members of a query
// protocol list or map (prefix "MessageAttributes.entry.").
func indices(form url.Values, prefix string) []int {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		n, _, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// value returns form's value for key, or nil when the key is absent.
func value(form url.Values, key string) *string {
	if vs, ok := form[key]; ok && len(vs) > 0 {
		return &vs[0]
	}
	return nil
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

func validAttrName(n string) bool {
	if !attrNameRE.MatchString(n) {
		return false
	}
	l := strings.ToLower(n)
	return !strings.HasPrefix(l, "aws.") && !strings.HasPrefix(l, "amazon.") &&
		!strings.HasPrefix(n, ".") && !strings.HasSuffix(n, ".") && !strings.Contains(n, "..")
}

var numberRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// parseAttributes reads and validates the message attributes under
// prefix ("" for Publish, "PublishBatchRequestEntries.member.N." for a
// batch entry) and returns them with the bytes they add to the message.
func parseAttributes(form url.Values, prefix string) (map[string]Attribute, int, *apiError) {
	idx := indices(form, prefix+"MessageAttributes.entry.")
	if len(idx) == 0 {
		return nil, 0, nil
	}
	out := make(map[string]Attribute, len(idx))
	size := 0
	for _, i := range idx {
		p := prefix + "MessageAttributes.entry." + strconv.Itoa(i) + "."
		name := value(form, p+"Name")
		if name == nil || *name == "" {
			return nil, 0, invalidParameter("MessageAttributes Reason: a message attribute has no name")
		}
		n := *name
		if !validAttrName(n) {
			return nil, 0, parameterValueInvalid("The message attribute name '%s' is invalid. Attribute names can contain only alphanumeric characters, hyphens, underscores and periods; cannot start with AWS. or Amazon., cannot start or end with a period, cannot contain consecutive periods, and can be at most 256 characters long.", n)
		}
		if _, dup := out[n]; dup {
			return nil, 0, parameterValueInvalid("Message attribute name '%s' is repeated.", n)
		}
		dt := value(form, p+"Value.DataType")
		if dt == nil || *dt == "" {
			return nil, 0, parameterValueInvalid("The message attribute '%s' must contain a non-empty message attribute type.", n)
		}
		base, _, _ := strings.Cut(*dt, ".")
		if len(*dt) > 256 || (base != "String" && base != "Number" && base != "Binary") {
			return nil, 0, parameterValueInvalid("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", n)
		}
		a := Attribute{DataType: *dt}
		sv, bv := value(form, p+"Value.StringValue"), value(form, p+"Value.BinaryValue")
		if base == "Binary" {
			if sv != nil {
				return nil, 0, parameterValueInvalid("The message attribute '%s' with type 'Binary' must use field 'Binary'.", n)
			}
			if bv == nil || *bv == "" {
				return nil, 0, parameterValueInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", n, *dt)
			}
			b, err := base64.StdEncoding.DecodeString(*bv)
			if err != nil {
				return nil, 0, parameterValueInvalid("The message attribute '%s' has an invalid Base64 binary value.", n)
			}
			a.BinaryValue = b
		} else {
			if bv != nil {
				return nil, 0, parameterValueInvalid("The message attribute '%s' with type '%s' must use field 'String'.", n, base)
			}
			if sv == nil || *sv == "" {
				return nil, 0, parameterValueInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", n, *dt)
			}
			if !utf8.ValidString(*sv) {
				return nil, 0, parameterValueInvalid("The message attribute '%s' has an invalid value: it is not UTF-8.", n)
			}
			switch {
			case base == "Number" && !numberRE.MatchString(*sv):
				return nil, 0, parameterValueInvalid("Could not cast message attribute '%s' value to number.", n)
			case *dt == "String.Array":
				var arr []any
				if err := json.Unmarshal([]byte(*sv), &arr); err != nil {
					return nil, 0, parameterValueInvalid("The message attribute '%s' with type 'String.Array' has an invalid value: it must be a JSON array.", n)
				}
			}
			a.StringValue = *sv
		}
		out[n] = a
		size += a.size(n)
	}
	return out, size, nil
}
