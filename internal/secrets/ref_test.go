package secrets

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kafka-AbCdEf"
	cases := []struct {
		name, in string
		want     Ref
		region   string
	}{
		{name: "name", in: "secretsmanager:prod/kafka", want: Ref{"secretsmanager", "prod/kafka", ""}},
		{name: "name and key", in: "secretsmanager:prod/kafka:password", want: Ref{"secretsmanager", "prod/kafka", "password"}},
		{name: "wrapped", in: "${secretsmanager:prod/kafka:password}", want: Ref{"secretsmanager", "prod/kafka", "password"}},
		{name: "wrapped with spaces", in: "  ${ secretsmanager:prod/kafka }  ", want: Ref{"secretsmanager", "prod/kafka", ""}},
		{name: "dotted key", in: "${secretsmanager:AmazonMSK_dev/simplydemo/kylo:kfc.password}", want: Ref{"secretsmanager", "AmazonMSK_dev/simplydemo/kylo", "kfc.password"}},
		{name: "key with colons", in: "secretsmanager:db:a:b", want: Ref{"secretsmanager", "db", "a:b"}},
		{name: "name characters", in: "secretsmanager:a+b=c.d@e_f-g/h", want: Ref{"secretsmanager", "a+b=c.d@e_f-g/h", ""}},
		{name: "ARN", in: "secretsmanager:" + arn, want: Ref{"secretsmanager", arn, ""}, region: "eu-west-1"},
		{name: "ARN and key", in: "secretsmanager:" + arn + ":password", want: Ref{"secretsmanager", arn, "password"}, region: "eu-west-1"},
		{name: "ARN and key with colon", in: "${secretsmanager:" + arn + ":x:y}", want: Ref{"secretsmanager", arn, "x:y"}, region: "eu-west-1"},
		{name: "partial ARN", in: "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:my-secret",
			want: Ref{"secretsmanager", "arn:aws:secretsmanager:us-east-1:111122223333:secret:my-secret", ""}, region: "us-east-1"},
		{name: "other partition", in: "secretsmanager:arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:s",
			want: Ref{"secretsmanager", "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:s", ""}, region: "cn-north-1"},
		{name: "env", in: "env:KAFKA_PASSWORD", want: Ref{"env", "KAFKA_PASSWORD", ""}},
		{name: "env wrapped", in: "${env:_X1}", want: Ref{"env", "_X1", ""}},
		{name: "relative file", in: "file:certs/ca.pem", want: Ref{"file", "certs/ca.pem", ""}},
		{name: "absolute file", in: "file:/etc/penstock/ca.pem", want: Ref{"file", "/etc/penstock/ca.pem", ""}},
		{name: "file URL", in: "file:///etc/penstock/ca.pem", want: Ref{"file", "/etc/penstock/ca.pem", ""}},
		{name: "file with colon", in: "file:certs/a:b.pem", want: Ref{"file", "certs/a:b.pem", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			if got.Region() != tc.region {
				t.Errorf("Region() = %q, want %q", got.Region(), tc.region)
			}
			// The canonical form parses back to the same reference.
			again, err := Parse(got.String())
			if err != nil || again != got {
				t.Errorf("Parse(String()) = %#v, %v", again, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in string
		want     string // in the message
		secret   string // never in the message
	}{
		{name: "empty", in: "  ", want: "empty: write secretsmanager:NAME[:KEY], env:NAME or file:PATH"},
		{name: "inline password", in: "hunter2", want: "secrets are references, never inline text", secret: "hunter2"},
		{name: "inline with colon", in: "p@ss:w0rd!", want: "not a secret reference", secret: "w0rd"},
		{name: "inline URL", in: "https://user:pa55@host", want: "not a secret reference", secret: "pa55"},
		{name: "wrapped inline", in: "${t0ps3cret}", want: "not a secret reference", secret: "t0ps3cret"},
		{name: "misspelt scheme", in: "${secretManager:MySecret-1234:dbusername}", want: `unknown scheme "secretManager" (did you mean "secretsmanager"?)`},
		{name: "capitalised scheme", in: "SecretsManager:prod", want: `did you mean "secretsmanager"?`},
		{name: "env capitals", in: "ENV:X", want: `did you mean "env"?`},
		{name: "files", in: "files:x", want: `did you mean "file"?`},
		{name: "bare ARN", in: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s",
			want: "needs the secretsmanager: prefix: write secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:s"},
		{name: "unclosed", in: "${secretsmanager:s", want: `"${" is not closed by "}"`},
		{name: "no name", in: "secretsmanager:", want: "needs a secret name or ARN"},
		{name: "no name before key", in: "secretsmanager::password", want: "empty secret name"},
		{name: "bad name", in: "secretsmanager:prod kafka", want: `holds letters, digits and /_+=.@- only, not ' '`},
		{name: "long name", in: "secretsmanager:" + strings.Repeat("a", 513), want: "longer than 512"},
		{name: "empty key", in: "secretsmanager:prod/kafka:", want: "empty JSON key"},
		{name: "short ARN", in: "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret", want: "incomplete ARN"},
		{name: "ARN of another service", in: "secretsmanager:arn:aws:ssm:eu-west-1:123456789012:secret:s", want: `service "ssm"`},
		{name: "ARN partition", in: "secretsmanager:arn:gcp:secretsmanager:eu-west-1:123456789012:secret:s", want: "not an AWS partition"},
		{name: "ARN region", in: "secretsmanager:arn:aws:secretsmanager:europe:123456789012:secret:s", want: `region "europe"`},
		{name: "ARN account", in: "secretsmanager:arn:aws:secretsmanager:eu-west-1:1234:secret:s", want: "12-digit account"},
		{name: "ARN resource", in: "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:key:s", want: `resource type "key"`},
		{name: "ARN empty key", in: "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:s:", want: "empty JSON key"},
		{name: "env empty", in: "env:", want: "needs a variable name"},
		{name: "env bad name", in: "env:1PASSWORD", want: "not an environment variable name"},
		{name: "env key", in: "env:CREDS:password", want: "takes no JSON key"},
		{name: "file empty", in: "${file:}", want: "needs a path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.in)
			}
			if !errors.Is(err, ErrInvalidRef) {
				t.Errorf("error %v is not ErrInvalidRef", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid secret reference: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to contain %q", msg, tc.want)
			}
			if tc.secret != "" && strings.Contains(msg, tc.secret) {
				t.Errorf("error %q quotes %q", msg, tc.secret)
			}
		})
	}
}

func TestRelativeTo(t *testing.T) {
	r, _ := Parse("file:certs/ca.pem")
	if got := r.RelativeTo("/etc/penstock").Name; got != "/etc/penstock/certs/ca.pem" {
		t.Errorf("relative: %q", got)
	}
	r, _ = Parse("file:/abs/ca.pem")
	if got := r.RelativeTo("/etc/penstock").Name; got != "/abs/ca.pem" {
		t.Errorf("absolute: %q", got)
	}
	r, _ = Parse("secretsmanager:a/b")
	if got := r.RelativeTo("/etc/penstock"); got.Name != "a/b" {
		t.Errorf("secretsmanager: %q", got.Name)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"secretsmanager:prod/kafka:password", "${secretsmanager:prod/kafka}", "env:X", "file:a:b",
		"secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf:k", "hunter2", "${x}", "",
	} {
		f.Add(s)
	}
	template := notARef().Error()
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			in := strings.TrimSpace(s)
			if !strings.Contains(in, ":") && len(in) >= 6 && !strings.Contains(template, in) && strings.Contains(err.Error(), in) {
				t.Fatalf("error %q quotes the text", err)
			}
			return
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Fatalf("Parse(%q) = %#v; Parse(String()) = %#v, %v", s, r, again, err)
		}
	})
}

func TestStringRoundTripsOddPaths(t *testing.T) {
	for _, p := range []string{"///a", "//host/share", "/a", "a}"} {
		r := Ref{Scheme: SchemeFile, Name: p}
		if got, err := Parse(r.String()); err != nil || got != r {
			t.Errorf("%q: Parse(%q) = %#v, %v", p, r.String(), got, err)
		}
	}
}
