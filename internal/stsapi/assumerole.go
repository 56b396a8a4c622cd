package stsapi

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The bounds of DurationSeconds, as STS's model states them.
const (
	minDurationSeconds = 900
	maxDurationSeconds = 43200
)

// assumeRoleResponse is the AssumeRole answer, with the element names of
// STS (and of the SDK's deserializer).
type assumeRoleResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		AssumedRoleUser struct {
			Arn           string
			AssumedRoleID string `xml:"AssumedRoleId"`
		}
		SourceIdentity string `xml:",omitempty"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// constraint is one rule of STS's input validation: what a parameter's
// value must be, and whether v is.
type constraint struct {
	must string
	ok   func(v string) bool
}

func pattern(p string) constraint {
	re := regexp.MustCompile(`^` + p + `$`)
	return constraint{"Member must satisfy regular expression pattern: " + p, re.MatchString}
}

func minLen(n int) constraint {
	return constraint{fmt.Sprintf("Member must have length greater than or equal to %d", n), func(v string) bool { return len(v) >= n }}
}

func maxLen(n int) constraint {
	return constraint{fmt.Sprintf("Member must have length less than or equal to %d", n), func(v string) bool { return len(v) <= n }}
}

// intRange is the rule of an integer parameter, bounds included.
func intRange(lo, hi int) []constraint {
	num := func(v string) (int, bool) { n, err := strconv.Atoi(v); return n, err == nil }
	return []constraint{
		{"Member must be an integer", func(v string) bool { _, ok := num(v); return ok }},
		{fmt.Sprintf("Member must have value greater than or equal to %d", lo), func(v string) bool { n, ok := num(v); return !ok || n >= lo }},
		{fmt.Sprintf("Member must have value less than or equal to %d", hi), func(v string) bool { n, ok := num(v); return !ok || n <= hi }},
	}
}

// param is a parameter STS validates: its form name, the name its
// messages use, whether it is required, and its constraints.
type param struct {
	name, member string
	required     bool
	rules        []constraint
}

var sessionNameRules = []constraint{pattern(`[\w+=,.@-]*`), minLen(2), maxLen(64)}

var assumeRoleParams = []param{
	{"RoleArn", "roleArn", true, []constraint{minLen(20), maxLen(2048)}},
	{"RoleSessionName", "roleSessionName", true, sessionNameRules},
	{"DurationSeconds", "durationSeconds", false, intRange(minDurationSeconds, maxDurationSeconds)},
	{"ExternalId", "externalId", false, []constraint{pattern(`[\w+=,.@:/-]*`), minLen(2), maxLen(1224)}},
	{"SourceIdentity", "sourceIdentity", false, sessionNameRules},
}

// validate checks form against params as STS does, and answers every
// broken rule in one ValidationError.
func validate(form url.Values, params []param) *apiError {
	var broken []string
	for _, p := range params {
		if _, ok := form[p.name]; !ok {
			if p.required {
				broken = append(broken, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", p.member))
			}
			continue
		}
		v := form.Get(p.name)
		for _, c := range p.rules {
			if !c.ok(v) {
				broken = append(broken, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", v, p.member, c.must))
			}
		}
	}
	switch len(broken) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: %s", broken[0])
	}
	return validationError("%d validation errors detected: %s", len(broken), strings.Join(broken, "; "))
}

// assumeRole answers AssumeRole: the role's credentials, or why not.
func (s *Server) assumeRole(form url.Values) (*assumeRoleResponse, *apiError) {
	if aerr := validate(form, assumeRoleParams); aerr != nil {
		return nil, aerr
	}
	arn, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if parts := strings.SplitN(arn, ":", 6); len(parts) < 6 || parts[0] != "arn" {
		return nil, validationError("Request ARN is invalid")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[arn]
	if !ok || r.ExternalID != "" && form.Get("ExternalId") != r.ExternalID {
		return nil, newError(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.principal(), arn)
	}
	d := r.Duration
	if d <= 0 {
		d = DefaultDuration
		if v := form.Get("DurationSeconds"); v != "" {
			n, _ := strconv.Atoi(v) // validated
			d = time.Duration(n) * time.Second
		}
	}
	res := &assumeRoleResponse{}
	c := &res.Result.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = r.AccessKeyID, r.SecretAccessKey, r.SessionToken
	c.Expiration = s.opts.Now().Add(d).UTC().Format(time.RFC3339)
	u := &res.Result.AssumedRoleUser
	u.Arn = "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + r.name + "/" + session
	u.AssumedRoleID = r.id + ":" + session
	res.Result.SourceIdentity = form.Get("SourceIdentity")
	s.sessions = append(s.sessions, session)
	return res, nil
}
