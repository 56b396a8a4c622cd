package lambdaapi

import (
	"fmt"
	"regexp"
	"strings"
)

// functionName is a parsed FunctionName path parameter.
type functionName struct {
	region, account, name, qualifier string
}

const (
	functionNamePattern = `Member must satisfy regular expression pattern: ` +
		`(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	qualifierPattern = `Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`
)

var (
	partitionRE = regexp.MustCompile(`^aws[a-zA-Z-]*$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d$`)
	accountRE   = regexp.MustCompile(`^\d{12}$`)
	nameRE      = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,140}$`)
	qualifierRE = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)
)

func validQualifier(q string) bool { return qualifierRE.MatchString(q) }

// parseFunctionName accepts the forms Lambda does: NAME, NAME:QUALIFIER,
// ACCOUNT:function:NAME[:QUALIFIER] and
// arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], reading the
// optional parts left to right as Lambda's pattern does.
func parseFunctionName(s string) (functionName, error) {
	var fn functionName
	bad := fmt.Errorf("%s", validation(s, "functionName", functionNamePattern))
	if s == "" || len(s) > 170 {
		return fn, bad
	}
	t := strings.Split(s, ":")
	i := 0
	if t[0] == "arn" && len(t) >= 4 {
		if (t[1] != "" && !partitionRE.MatchString(t[1])) || t[2] != "lambda" {
			return fn, bad
		}
		i = 3
	}
	// Each optional part counts only when a name still follows it.
	if i+1 < len(t) && regionRE.MatchString(t[i]) {
		fn.region = t[i]
		i++
	}
	if i+1 < len(t) && accountRE.MatchString(t[i]) {
		fn.account = t[i]
		i++
	}
	if i+1 < len(t) && t[i] == "function" {
		i++
	}
	switch len(t) - i {
	case 1:
		fn.name = t[i]
	case 2:
		fn.name, fn.qualifier = t[i], t[i+1]
		if !validQualifier(fn.qualifier) {
			return fn, bad
		}
	default:
		return fn, bad
	}
	if !nameRE.MatchString(fn.name) || (fn.account == "" && fn.region == "" && len(fn.name) > 64) {
		return fn, bad
	}
	return fn, nil
}
