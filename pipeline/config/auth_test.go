package config

import "testing"

// sasl_mechanism chooses the SASL form of AWS_MSK_IAM, AWS_MSK_IAM by
// default, and stays empty for the other mechanisms.
func TestIAMSASLMechanism(t *testing.T) {
	for _, tc := range []struct {
		auth string
		want IAMSASLMechanism
	}{
		{"{mechanism: AWS_MSK_IAM, region: eu-west-1}", SASLAWSMSKIAM},
		{"{mechanism: AWS_MSK_IAM, sasl_mechanism: AWS_MSK_IAM}", SASLAWSMSKIAM},
		{"{mechanism: AWS_MSK_IAM, sasl_mechanism: OAUTHBEARER, role_arn: \"arn:aws:iam::123456789012:role/reader\"}", SASLOAuthBearer},
		{"{mechanism: SASL_SCRAM_512_AUTH, secret: \"secretsmanager:prod/kafka\"}", ""},
	} {
		f, err := Parse("p.yaml", []byte(`
version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: b-1:9098
        topic: orders
        starting_position: LATEST
        tls: {}
        auth: `+tc.auth+`
    target: {stdout: }
`))
		if err != nil {
			t.Errorf("%s: %v", tc.auth, err)
			continue
		}
		if got := f.Pipelines[0].Source.Kafka.Auth.SASLMechanism; got != tc.want {
			t.Errorf("%s: SASLMechanism = %q, want %q", tc.auth, got, tc.want)
		}
	}
}
