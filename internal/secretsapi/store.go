package secretsapi

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"
)

// secret is a stored secret.
type secret struct {
	name, arn   string
	description string
	kmsKeyID    string
	tags        []tag
	created     time.Time
	changed     time.Time
	// accessed is the day of the last GetSecretValue, zero if none.
	accessed time.Time
	versions map[string]*version
	// order lists version ids in creation order.
	order []string
	// stages maps a staging label to the id of the version it is on.
	stages map[string]string
}

// version is one version of a secret's value: exactly one of str and bin
// is set.
type version struct {
	id      string
	str     *string
	bin     []byte
	created time.Time
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)

// checkName applies Secrets Manager's rules for a secret name.
func checkName(name string) *apiError {
	switch {
	case name == "":
		return missing("name")
	case len(name) > MaxNameLength:
		return validation("name", "Member must have length less than or equal to 512")
	case !nameRE.MatchString(name):
		return newError("ValidationException",
			"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// checkValue applies the rules for a secret value: one of a string and a
// binary, at most MaxSecretSize bytes. Neither is fine (a secret without
// a value).
func checkValue(str *string, bin []byte) *apiError {
	switch {
	case str != nil && bin != nil:
		return invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil && len(*str) > MaxSecretSize:
		return validation("secretString", "Member must have length less than or equal to 65536")
	case len(bin) > MaxSecretSize:
		return validation("secretBinary", "Member must have length less than or equal to 65536")
	}
	return nil
}

const suffixChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newSecret creates a secret without versions; s.mu must be held.
func (s *Server) newSecret(name string, now time.Time) *secret {
	var suffix [6]byte
	for i := range suffix {
		suffix[i] = suffixChars[rand.IntN(len(suffixChars))]
	}
	sec := &secret{
		name:     name,
		arn:      s.arnPrefix() + name + "-" + string(suffix[:]),
		created:  now,
		changed:  now,
		versions: map[string]*version{},
		stages:   map[string]string{},
	}
	s.secrets[name] = sec
	return sec
}

// arnPrefix is "arn:aws:secretsmanager:REGION:ACCOUNT:secret:".
func (s *Server) arnPrefix() string {
	return "arn:aws:secretsmanager:" + s.opts.Region + ":" + s.opts.AccountID + ":secret:"
}

// completeSuffix matches the hyphen and six characters Secrets Manager
// appends to a name in the ARN.
var completeSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// lookup finds the secret a SecretId names, as Secrets Manager does: by
// name; by complete ARN (the name, a hyphen and the six random
// characters), matched exactly; or by partial ARN (the ARN without the
// hyphen and six characters), matched by name. An ARN whose name part
// ends in a hyphen and six letters or digits is taken as complete, so a
// partial ARN of a secret whose own name ends that way finds nothing, as
// AWS warns. It also returns the name the id stands for (the secret's, or
// the one the id spells when nothing is found), for Deny. s.mu must be
// held.
func (s *Server) lookup(id string) (*secret, string) {
	rest, isARN := strings.CutPrefix(id, "arn:")
	if !isARN {
		return s.secrets[id], id
	}
	f := strings.SplitN(rest, ":", 6)
	if len(f) != 6 || f[1] != "secretsmanager" || f[4] != "secret" || f[5] == "" {
		return nil, id
	}
	name := f[5]
	if f[0] != "aws" || f[2] != s.opts.Region || f[3] != s.opts.AccountID {
		return nil, name
	}
	if completeSuffix.MatchString(name) {
		base := name[:len(name)-7]
		if sec := s.secrets[base]; sec != nil && sec.arn == id {
			return sec, base
		}
		return nil, base
	}
	return s.secrets[name], name
}

// addVersion stores a new version and moves the staging labels stages
// (nil means AWSCURRENT) onto it. Moving AWSCURRENT puts AWSPREVIOUS on
// the version that had it.
func (sec *secret) addVersion(id string, str *string, bin []byte, stages []string, now time.Time) *version {
	v := &version{id: id, str: str, bin: bin, created: now}
	sec.versions[id] = v
	sec.order = append(sec.order, id)
	if stages == nil {
		stages = []string{StageCurrent}
	}
	sec.moveStages(id, stages)
	sec.changed = now
	return v
}

// moveStages attaches the labels to version id, taking them off the
// versions that had them.
func (sec *secret) moveStages(id string, stages []string) {
	if slices.Contains(stages, StageCurrent) {
		if old, ok := sec.stages[StageCurrent]; ok && old != id {
			sec.stages[StagePrevious] = old
		}
	}
	for _, st := range stages {
		sec.stages[st] = id
	}
}

// stagesOf returns the labels on version id, sorted.
func (sec *secret) stagesOf(id string) []string {
	var out []string
	for st, v := range sec.stages {
		if v == id {
			out = append(out, st)
		}
	}
	slices.Sort(out)
	return out
}

// sameValue reports whether v holds exactly str or bin.
func (v *version) sameValue(str *string, bin []byte) bool {
	if (v.str == nil) != (str == nil) || (v.bin == nil) != (bin == nil) {
		return false
	}
	if str != nil {
		return *v.str == *str
	}
	return string(v.bin) == string(bin)
}
