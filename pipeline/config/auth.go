package config

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mechanism is how a Kafka source authenticates, named after the ESM's
// SourceAccessConfigurations types.
type Mechanism string

// Mechanisms.
const (
	// BasicAuth is SASL/PLAIN (over TLS).
	BasicAuth Mechanism = "BASIC_AUTH"
	// ScramSHA256 is SASL/SCRAM-SHA-256 (over TLS).
	ScramSHA256 Mechanism = "SASL_SCRAM_256_AUTH"
	// ScramSHA512 is SASL/SCRAM-SHA-512 (over TLS).
	ScramSHA512 Mechanism = "SASL_SCRAM_512_AUTH"
	// ClientCertificate is mutual TLS with a client certificate.
	ClientCertificate Mechanism = "CLIENT_CERTIFICATE_TLS_AUTH"
	// MSKIAM is SASL/AWS_MSK_IAM with AWS credentials.
	MSKIAM Mechanism = "AWS_MSK_IAM"
)

// Mechanisms lists the accepted mechanisms.
var Mechanisms = []Mechanism{BasicAuth, ScramSHA256, ScramSHA512, ClientCertificate, MSKIAM}

// IAMSASLMechanism is the SASL mechanism that carries AWS_MSK_IAM
// authentication to the brokers.
type IAMSASLMechanism string

// IAM SASL mechanisms.
const (
	// SASLAWSMSKIAM is the AWS_MSK_IAM SASL mechanism: a signed JSON
	// payload.
	SASLAWSMSKIAM IAMSASLMechanism = "AWS_MSK_IAM"
	// SASLOAuthBearer is MSK's OAUTHBEARER form: a presigned URL as the
	// bearer token.
	SASLOAuthBearer IAMSASLMechanism = "OAUTHBEARER"
)

// IAMSASLMechanisms lists the accepted IAM SASL mechanisms.
var IAMSASLMechanisms = []IAMSASLMechanism{SASLAWSMSKIAM, SASLOAuthBearer}

// Auth is a Kafka source's authentication. Credentials are secret
// references ("secretsmanager:NAME[:KEY]", "env:NAME", "file:PATH"), never
// inline values.
type Auth struct {
	// Mechanism is the authentication mechanism.
	Mechanism Mechanism
	// Secret is a reference to a secret in Lambda's JSON shapes:
	// {"username","password"} for SASL, {"certificate","privateKey",
	// "privateKeyPassword"} for client certificates.
	Secret string
	// Username and Password are references to the SASL credentials, as an
	// alternative to Secret.
	Username, Password string
	// Certificate, PrivateKey and PrivateKeyPassword are references to the
	// client certificate chain (PEM, leaf first), its PKCS#8 key and the
	// key's password, as an alternative to Secret.
	Certificate, PrivateKey, PrivateKeyPassword string
	// AWS reaches AWS for MSK IAM (region, role to assume).
	AWS AWS
	// SASLMechanism is the SASL mechanism of AWS_MSK_IAM: AWS_MSK_IAM
	// (the default) or OAUTHBEARER. Empty for other mechanisms.
	SASLMechanism IAMSASLMechanism
}

// SASL reports whether the mechanism is a SASL one.
func (m Mechanism) SASL() bool { return m != ClientCertificate && m != "" }

// checkRef checks a secret reference: it must be one, not a value.
func checkRef(s string) (msg, hint string) {
	for _, p := range []string{"secretsmanager:", "env:", "file:", "${secretsmanager:", "${env:", "${file:"} {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return "", ""
		}
	}
	return "secrets are references, never inline values", `write secretsmanager:NAME (or NAME:KEY), env:VARIABLE or file:PATH`
}

func refField(key string, dst *string) field {
	return stringField(key, dst, "a secret reference", checkRef)
}

// auth walks source.kafka.auth.
func (w *walker) auth(n *yaml.Node, path string, k *Kafka) bool {
	a := &Auth{}
	fields := append([]field{
		required(enumField("mechanism", &a.Mechanism, Mechanisms, map[string]Mechanism{
			"plain": BasicAuth, "sasl_plain": BasicAuth, "scram-sha-256": ScramSHA256, "scram-sha-512": ScramSHA512,
			"scram": ScramSHA512, "mtls": ClientCertificate, "tls": ClientCertificate, "iam": MSKIAM, "aws_msk_iam": MSKIAM})),
		refField("secret", &a.Secret),
		refField("username", &a.Username),
		refField("password", &a.Password),
		refField("certificate", &a.Certificate),
		refField("private_key", &a.PrivateKey),
		refField("private_key_password", &a.PrivateKeyPassword),
		enumField("sasl_mechanism", &a.SASLMechanism, IAMSASLMechanisms, map[string]IAMSASLMechanism{
			"iam": SASLAWSMSKIAM, "aws_msk_iam": SASLAWSMSKIAM, "oauthbearer": SASLOAuthBearer, "oauth": SASLOAuthBearer}),
	}, awsFields(&a.AWS)...)
	b := w.mapping(n, path, fields)
	if !b.ok || !allValid(b) {
		return false
	}
	bad := func(key, format string, args ...any) bool {
		at := n
		if b.has(key) {
			at = b.at(key)
		}
		w.errorf(at, join(path, key), format, args...)
		return false
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if b.has(k) {
				return true
			}
		}
		return false
	}
	switch m := a.Mechanism; {
	case m == BasicAuth || m == ScramSHA256 || m == ScramSHA512:
		if has("certificate", "private_key", "private_key_password") {
			return bad(firstOf(b, "certificate", "private_key", "private_key_password"), "%s takes a username and password, not a certificate", m)
		}
		if b.has("secret") == (b.has("username") || b.has("password")) {
			return bad("secret", "%s needs either secret (a {\"username\", \"password\"} secret) or username and password", m)
		}
		if !b.has("secret") && !(b.has("username") && b.has("password")) {
			return bad(firstOf(b, "username", "password"), "%s needs both username and password", m)
		}
	case m == ClientCertificate:
		if has("username", "password") {
			return bad(firstOf(b, "username", "password"), "%s takes a certificate and private key, not a username and password", m)
		}
		if b.has("secret") == has("certificate", "private_key") {
			return bad("secret", "%s needs either secret (a {\"certificate\", \"privateKey\"} secret) or certificate and private_key", m)
		}
		if !b.has("secret") && !(b.has("certificate") && b.has("private_key")) {
			return bad(firstOf(b, "certificate", "private_key"), "%s needs both certificate and private_key", m)
		}
	case m == MSKIAM:
		if has("secret", "username", "password", "certificate", "private_key", "private_key_password") {
			return bad(firstOf(b, "secret", "username", "password", "certificate", "private_key", "private_key_password"),
				"AWS_MSK_IAM authenticates with AWS credentials (the default chain, or role_arn), not a secret")
		}
	}
	if iamOnly := []string{"region", "role_arn", "external_id", "endpoint_url", "sasl_mechanism"}; a.Mechanism != MSKIAM && has(iamOnly...) {
		return bad(firstOf(b, iamOnly...), "%s applies to AWS_MSK_IAM only", firstOf(b, iamOnly...))
	}
	if a.Mechanism == MSKIAM && a.SASLMechanism == "" {
		a.SASLMechanism = SASLAWSMSKIAM
	}
	k.Auth = a
	return true
}

func firstOf(b block, keys ...string) string {
	for _, k := range keys {
		if b.has(k) {
			return k
		}
	}
	return keys[0]
}

// checkAuthTLS applies the rules between auth and tls: SASL and client
// certificates need TLS (SASL over plaintext would send the credentials in
// clear).
func (w *walker) checkAuthTLS(n *yaml.Node, path string, b block, k *Kafka) {
	if k.Auth == nil {
		return
	}
	switch {
	case k.Auth.Mechanism == ClientCertificate && !k.TLS.Enabled && b.has("tls"):
		w.errorf(b.at("tls"), join(path, "tls.enabled"), "%s is mutual TLS: TLS cannot be disabled", k.Auth.Mechanism)
	case k.Auth.Mechanism == ClientCertificate:
		k.TLS.Enabled = true
	case k.Auth.Mechanism.SASL() && !k.TLS.Enabled:
		at := b.at("auth")
		if b.has("tls") {
			at = b.at("tls")
		}
		e := w.errorf(at, join(path, "tls"), "SASL over plaintext: %s would send credentials in clear; enable TLS", k.Auth.Mechanism)
		e.Hint = "add tls: {} (and root_ca when the brokers use a private CA)"
	}
}

// VPC is the network the ESM would attach to (its VPC settings). Penstock
// runs inside the user's network and creates no network interfaces; the
// settings are validated and used by penstock check.
type VPC struct {
	// Subnets are subnet ids (subnet-0123abcd…).
	Subnets []string
	// SecurityGroups are security group ids (sg-0123abcd…).
	SecurityGroups []string
}

var (
	subnetRe = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	sgRe     = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// vpc walks source.kafka.vpc.
func (w *walker) vpc(n *yaml.Node, path string, k *Kafka) bool {
	v := &VPC{}
	ids := func(key string, dst *[]string, re *regexp.Regexp, what, example string) field {
		return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
			items, ok := w.list(n, path, "a list of "+what+" ids")
			if !ok {
				return false
			}
			for i, it := range items {
				s, good := w.str(it, index(path, i), "a "+what+" id")
				if !good {
					ok = false
					continue
				}
				if !re.MatchString(s) {
					w.errorf(it, index(path, i), "%s is not a %s id", quote(s), what).Hint = "such as " + example
					ok = false
					continue
				}
				*dst = append(*dst, s)
			}
			return ok
		}}
	}
	b := w.mapping(n, path, []field{
		required(ids("subnets", &v.Subnets, subnetRe, "subnet", "subnet-0123456789abcdef0")),
		required(ids("security_groups", &v.SecurityGroups, sgRe, "security group", "sg-0123456789abcdef0")),
	})
	if !b.ok || !allValid(b) {
		return false
	}
	if len(v.Subnets) == 0 || len(v.SecurityGroups) == 0 {
		w.errorf(n, path, "vpc needs at least one subnet and one security group")
		return false
	}
	k.VPC = v
	return true
}

// MSK names an Amazon MSK cluster whose bootstrap brokers Penstock looks up
// (kafka:GetBootstrapBrokers) instead of bootstrap_servers.
type MSK struct {
	// ClusterARN is the cluster's ARN, or a vpc-connection ARN for a
	// cluster of another account.
	ClusterARN string
	// AWS reaches the MSK API (region defaults to the ARN's).
	AWS AWS
}

var mskARNRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:kafka:[a-z0-9-]+:\d{12}:(cluster|vpc-connection)/.+$`)

// msk walks source.kafka.msk.
func (w *walker) msk(n *yaml.Node, path string, k *Kafka) bool {
	m := &MSK{}
	b := w.mapping(n, path, append(awsFields(&m.AWS),
		required(stringField("cluster_arn", &m.ClusterARN, "an MSK cluster ARN", func(s string) (string, string) {
			if !mskARNRe.MatchString(s) {
				return fmt.Sprintf("%s is not an MSK cluster ARN", quote(s)),
					"write arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID (or a vpc-connection ARN for another account's cluster)"
			}
			return "", ""
		}))))
	if !b.ok || !allValid(b) {
		return false
	}
	if m.AWS.Region == "" {
		m.AWS.Region = strings.Split(m.ClusterARN, ":")[3]
	}
	k.MSK = m
	return true
}
