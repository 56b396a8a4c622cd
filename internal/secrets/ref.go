// Package secrets resolves the secret references of Penstock's
// configuration. A configuration never holds a secret inline: it names
// where the secret is kept, as a Ref —
//
//	secretsmanager:NAME            an AWS Secrets Manager secret, by name
//	secretsmanager:ARN             ... or by ARN (complete or partial)
//	secretsmanager:NAME_OR_ARN:KEY one string of a JSON secret
//	env:NAME                       an environment variable
//	file:PATH                      a file's contents
//
// each of them optionally written as "${...}", the form Kafka Connect's
// config providers use.
//
// A Resolver reads the secrets, caches them, fetches them again after a
// TTL (so that rotated credentials are picked up), and keeps serving a
// cached value for a grace period while Secrets Manager cannot be reached.
// Its errors say which reference failed and why, and what to do about it
// (the IAM action that is missing, the JSON keys a secret has), but never
// quote a secret's value, not even a part of it.
package secrets

import (
	"path/filepath"
	"regexp"
	"strings"
)

// The schemes of a Ref.
const (
	// SchemeSecretsManager names an AWS Secrets Manager secret.
	SchemeSecretsManager = "secretsmanager"
	// SchemeEnv names an environment variable.
	SchemeEnv = "env"
	// SchemeFile names a file.
	SchemeFile = "file"
)

// Ref is a parsed secret reference.
type Ref struct {
	// Scheme is SchemeSecretsManager, SchemeEnv or SchemeFile.
	Scheme string
	// Name is the secret's name or ARN, the variable's name or the file's
	// path (relative paths are relative to the working directory until
	// the caller resolves them, see RelativeTo).
	Name string
	// Key, for a Secrets Manager secret only, selects one key of the
	// secret's JSON object; empty means the whole secret.
	Key string
}

// String returns the reference in its canonical form,
// "SCHEME:NAME[:KEY]". It holds no secret and is safe to log.
func (r Ref) String() string {
	s := r.Scheme + ":" + r.Name
	if r.Scheme == SchemeFile && strings.HasPrefix(r.Name, "//") {
		s = "file://" + r.Name // "file:///x" would read as /x
	}
	if r.Key != "" {
		s += ":" + r.Key
	}
	return s
}

// Region returns the AWS region of a Secrets Manager reference by ARN,
// and "" for any other reference (a secret named without an ARN is in the
// default region).
func (r Ref) Region() string {
	if r.Scheme != SchemeSecretsManager || !strings.HasPrefix(r.Name, "arn:") {
		return ""
	}
	f := strings.SplitN(r.Name, ":", 5)
	if len(f) < 5 {
		return ""
	}
	return f[3]
}

// RelativeTo returns r with a relative file path made relative to dir
// (usually the directory of the configuration file that holds the
// reference); other references are returned unchanged.
func (r Ref) RelativeTo(dir string) Ref {
	if r.Scheme == SchemeFile && !filepath.IsAbs(r.Name) {
		r.Name = filepath.Join(dir, r.Name)
	}
	return r
}

var (
	// secretNameRE is what Secrets Manager accepts in a secret name.
	secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	accountRE    = regexp.MustCompile(`^\d{12}$`)
	schemeLikeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
)

const forms = "secretsmanager:NAME[:KEY], env:NAME or file:PATH"

// Parse parses a secret reference: "secretsmanager:NAME_OR_ARN",
// "secretsmanager:NAME_OR_ARN:JSON_KEY", "env:NAME" or "file:PATH", each
// optionally wrapped as "${...}"; surrounding spaces are ignored.
//
// A secret name cannot hold a colon, so the key is what follows the first
// colon after a name, or the seventh colon of an ARN; a key may itself
// hold colons. A file path is taken whole (it may hold colons), and
// "file://" followed by an absolute path is read as that path.
//
// Anything that is not a reference is an error, *Error with Kind
// ErrInvalidRef: secrets are references, never inline text. The error
// does not quote text that is not a reference, since it may be the secret
// itself.
func Parse(s string) (Ref, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Ref{}, invalid("empty: write %s", forms)
	}
	if body, ok := strings.CutPrefix(in, "${"); ok {
		body, ok = strings.CutSuffix(body, "}")
		if !ok {
			return Ref{}, invalid(`"${" is not closed by "}"`)
		}
		in = strings.TrimSpace(body)
	}
	scheme, rest, ok := strings.Cut(in, ":")
	if !ok {
		return Ref{}, notARef()
	}
	switch scheme {
	case SchemeSecretsManager:
		return parseSecretsManager(rest)
	case SchemeEnv:
		switch {
		case rest == "":
			return Ref{}, invalid("env: needs a variable name: env:NAME")
		case strings.Contains(rest, ":"):
			return Ref{}, invalid("env:%s: an environment variable reference takes no JSON key; env:NAME is the variable's whole value", rest)
		case !envNameRE.MatchString(rest):
			return Ref{}, invalid("env:%s: %q is not an environment variable name (letters, digits and _, not starting with a digit)", rest, rest)
		}
		return Ref{Scheme: SchemeEnv, Name: rest}, nil
	case SchemeFile:
		if p, ok := strings.CutPrefix(rest, "//"); ok && strings.HasPrefix(p, "/") {
			rest = p
		}
		if rest == "" {
			return Ref{}, invalid("file: needs a path: file:PATH")
		}
		return Ref{Scheme: SchemeFile, Name: rest}, nil
	case "arn":
		if strings.HasPrefix(rest, "aws") && strings.Contains(rest, ":secretsmanager:") {
			return Ref{}, invalid("a Secrets Manager ARN needs the secretsmanager: prefix: write secretsmanager:%s", in)
		}
	}
	if schemeLikeRE.MatchString(scheme) {
		if hint := closestScheme(scheme); hint != "" {
			return Ref{}, invalid("unknown scheme %q (did you mean %q?): write %s", scheme, hint, forms)
		}
	}
	return Ref{}, notARef()
}

func notARef() error {
	return invalid("not a secret reference (the text is not repeated here, in case it is a secret): "+
		"secrets are references, never inline text; write %s", forms)
}

// parseSecretsManager parses what follows "secretsmanager:".
func parseSecretsManager(rest string) (Ref, error) {
	r := Ref{Scheme: SchemeSecretsManager}
	if rest == "" {
		return r, invalid("secretsmanager: needs a secret name or ARN: secretsmanager:NAME[:KEY]")
	}
	var hasKey bool
	if strings.HasPrefix(rest, "arn:") {
		f := strings.SplitN(rest, ":", 8)
		if len(f) < 7 {
			return r, invalid("secretsmanager:%s: incomplete ARN: want arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME", rest)
		}
		switch {
		case !strings.HasPrefix(f[1], "aws"):
			return r, invalid("secretsmanager:%s: ARN partition %q is not an AWS partition (aws, aws-cn, aws-us-gov, ...)", rest, f[1])
		case f[2] != "secretsmanager":
			return r, invalid("secretsmanager:%s: the ARN is of service %q, not secretsmanager", rest, f[2])
		case !regionRE.MatchString(f[3]):
			return r, invalid("secretsmanager:%s: ARN region %q is not a region (such as eu-west-1)", rest, f[3])
		case !accountRE.MatchString(f[4]):
			return r, invalid("secretsmanager:%s: ARN account %q is not a 12-digit account ID", rest, f[4])
		case f[5] != "secret":
			return r, invalid("secretsmanager:%s: ARN resource type %q, want secret", rest, f[5])
		}
		if err := checkSecretName(rest, f[6]); err != nil {
			return r, err
		}
		r.Name = strings.Join(f[:7], ":")
		if len(f) == 8 {
			r.Key, hasKey = f[7], true
		}
	} else {
		name, key, ok := strings.Cut(rest, ":")
		if err := checkSecretName(rest, name); err != nil {
			return r, err
		}
		r.Name, r.Key, hasKey = name, key, ok
	}
	if hasKey && r.Key == "" {
		return r, invalid("secretsmanager:%s: empty JSON key after the last colon: drop the colon for the whole secret", rest)
	}
	return r, nil
}

func checkSecretName(rest, name string) error {
	switch {
	case name == "":
		return invalid("secretsmanager:%s: empty secret name", rest)
	case len(name) > 512:
		return invalid("secretsmanager:%s: secret name longer than 512 characters", rest)
	}
	if !secretNameRE.MatchString(name) {
		for _, c := range name {
			if !secretNameRE.MatchString(string(c)) {
				return invalid("secretsmanager:%s: a secret name holds letters, digits and /_+=.@- only, not %q", rest, c)
			}
		}
	}
	return nil
}

// closestScheme returns the scheme s most likely stands for (the same
// but for case, or a few letters off), or "".
func closestScheme(s string) string {
	l := strings.ToLower(s)
	for _, k := range []string{SchemeSecretsManager, SchemeEnv, SchemeFile} {
		if distance(l, k) <= max(1, len(k)/4) {
			return k
		}
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
