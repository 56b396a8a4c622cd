package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/internal/ec2api"
	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/sources/kafka"
)

const (
	vpcKey    = "AKIDVPCCHECK"
	vpcSecret = "vpc-check-secret"
	sgESM     = "sg-0123456789abcdef0"
	sgExtra   = "sg-0aaaabbbbccccdddd"
	sgCluster = "sg-0c1c1c1c1c1c1c1c1"
	sgVPCE    = "sg-0e0e0e0e0e0e0e0e0"
	sgGone    = "sg-0dead0dead0dead00"
	plKafka   = "pl-0f0f0f0f0f0f0f0f0"
)

// vpcHosts is the name service of the checks' tests: two brokers, the
// AWS endpoints of eu-west-1 as VPC endpoints with private DNS would
// resolve them, and Penstock's own address.
var vpcHosts = map[string][]string{
	"b-1.kafka.internal":                     {"10.0.1.17"},
	"b-2.kafka.internal":                     {"10.0.2.9"},
	"sts.eu-west-1.amazonaws.com":            {"10.0.5.10"},
	"lambda.eu-west-1.amazonaws.com":         {"10.0.5.11"},
	"secretsmanager.eu-west-1.amazonaws.com": {"10.0.5.12", "10.0.6.12"},
}

const vpcSource = "10.0.3.7"

// fakeVPCNet makes the checks resolve names with hosts and send from
// source, and restores the real network afterwards.
func fakeVPCNet(t *testing.T, hosts map[string][]string, source string) {
	t.Helper()
	saved := vpcNet
	t.Cleanup(func() { vpcNet = saved })
	vpcNet.lookupHost = func(_ context.Context, host string) ([]string, error) {
		if as, ok := hosts[host]; ok {
			return as, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	vpcNet.sourceAddr = func(netip.Addr) (netip.Addr, error) { return netip.MustParseAddr(source), nil }
}

// startEC2 starts a local EC2 endpoint and points the checks at it, with
// credentials from the environment only.
func startEC2(t *testing.T) *ec2api.Server {
	t.Helper()
	awsEnv(t, vpcKey, vpcSecret)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s, err := ec2api.Start(ec2api.Options{Region: "eu-west-1", AccessKeyID: vpcKey, SecretAccessKey: vpcSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	t.Setenv(ec2EndpointEnv, s.URL())
	return s
}

// vpcPipeline parses a pipeline over SCRAM (with its secret in Secrets
// Manager) whose source has vpc settings with groups.
func vpcPipeline(t *testing.T, groups ...string) (*config.File, *config.Pipeline) {
	t.Helper()
	return vpcPipelineSubnets(t, []string{subnetESM}, groups...)
}

// vpcPipelineSubnets is vpcPipeline listing subnets.
func vpcPipelineSubnets(t *testing.T, subnets []string, groups ...string) (*config.File, *config.Pipeline) {
	t.Helper()
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: [b-1.kafka.internal:9096, b-2.kafka.internal:9096]
        topic: orders
        starting_position: LATEST
        tls: {}
        auth: {mechanism: SASL_SCRAM_512_AUTH, secret: "secretsmanager:prod/kafka"}
        vpc:
          subnets: [%s]
          security_groups: [%s]
    target: {file: {path: out.jsonl}}
`, strings.Join(subnets, ", "), strings.Join(groups, ", "))
	f, err := config.Parse(filepath.Join(t.TempDir(), "pipelines.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f, &f.Pipelines[0]
}

var vpcBrokers = []string{"b-1.kafka.internal:9096", "b-2.kafka.internal:9096"}

// result finds the result for target, failing the test when there is
// none.
func result(t *testing.T, rs []CheckResult, target string) CheckResult {
	t.Helper()
	for _, r := range rs {
		if r.Target == target {
			return r
		}
	}
	t.Fatalf("no result for %q in:\n%s", target, formatResults(rs))
	return CheckResult{}
}

// only keeps the results of one check (the security group tests leave
// the subnets, which have their own, out).
func only(check string, rs []CheckResult) []CheckResult {
	var out []CheckResult
	for _, r := range rs {
		if r.Check == check {
			out = append(out, r)
		}
	}
	return out
}

// sameResults fails the test unless got is want, in order.
func sameResults(t *testing.T, got, want []CheckResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(got), len(want), formatResults(got))
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

// sameResult fails the test unless rs holds want (found by its target).
func sameResult(t *testing.T, rs []CheckResult, want CheckResult) {
	t.Helper()
	if r := result(t, rs, want.Target); r != want {
		t.Errorf("\n got %+v\nwant %+v", r, want)
	}
}

func formatResults(rs []CheckResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s | %s | %s | %s | %s | fix: %s\n", r.Check, r.Target, r.Status, r.Error, r.Detail, r.Fix)
	}
	return b.String()
}

// The ESM's documented setup passes: the group lets its members reach
// each other on the broker port (self-referencing rules both ways) and
// lets TCP 443 out to all destinations.
func TestVPCSecurityGroupsDocumentedSetupPasses(t *testing.T) {
	s := startEC2(t)
	fakeVPCNet(t, vpcHosts, vpcSource)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: "vpc-0a0a0a0a0a0a0a0a0",
		Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
		Egress: []ec2api.Permission{
			ec2api.TCP(9096, 9096).ToGroups(sgESM),
			ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0"),
		}})
	f, pc := vpcPipeline(t, sgESM)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	want := []CheckResult{
		{Target: sgESM, Detail: "exists in vpc-0a0a0a0a0a0a0a0a0: 1 inbound and 2 outbound rules"},
		{Target: sgESM + " outbound TCP 9096", Detail: "allowed by " + sgESM + ": TCP 9096 to " + sgESM +
			" (itself): the brokers must be in that group, as in the ESM's documented setup"},
		{Target: sgESM + " inbound TCP 9096", Detail: "allowed by " + sgESM + ": TCP 9096 from " + sgESM + " (itself)"},
		{Target: sgESM + " outbound TCP 443", Detail: "allowed to all destinations by " + sgESM + ": TCP 443 to 0.0.0.0/0"},
	}
	for i := range want {
		want[i].Pipeline, want[i].Check, want[i].Status = "orders", "security group", CheckOK
	}
	sameResults(t, got, want)
	if n := s.Requests("DescribeSecurityGroups"); n != 1 {
		t.Errorf("%d DescribeSecurityGroups calls, want 1", n)
	}
}

// Rules are evaluated as EC2 applies them: all traffic ("-1"), port
// ranges, IPv4 and IPv6 CIDRs holding the brokers' addresses, prefix
// lists, the rules of several groups added up, and VPC endpoints reached
// through a CIDR that holds their private addresses.
func TestVPCSecurityGroupsRuleForms(t *testing.T) {
	s := startEC2(t)
	hosts := map[string][]string{}
	for k, v := range vpcHosts {
		hosts[k] = v
	}
	hosts["b-2.kafka.internal"] = []string{"2001:db8:0:2::9"}
	fakeVPCNet(t, hosts, vpcSource)
	s.AddPrefixList(plKafka, "10.0.1.0/24", "10.0.9.0/24")
	// sgESM holds the broker rules, sgExtra the AWS endpoints' rule.
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM,
		Ingress: []ec2api.Permission{ec2api.TCP(9092, 9098).ToCIDRs("10.0.0.0/22")},
		Egress: []ec2api.Permission{
			ec2api.TCP(9090, 9100).ToPrefixLists(plKafka),
			ec2api.AllTraffic().ToCIDRs("2001:db8::/32"),
		}})
	s.AddGroup(ec2api.SecurityGroup{ID: sgExtra,
		Egress: []ec2api.Permission{ec2api.TCP(443, 443).ToCIDRs("10.0.4.0/23", "10.0.6.0/24")}})
	f, pc := vpcPipeline(t, sgESM, sgExtra)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	for _, r := range got {
		if r.Status != CheckOK {
			t.Errorf("%s: %s %s %s (fix: %s)", r.Target, r.Status, r.Error, r.Detail, r.Fix)
		}
	}
	all := sgESM + "," + sgExtra
	if d := result(t, got, all+" outbound TCP 9096").Detail; d != "brokers 10.0.1.17, 2001:db8:0:2::9 allowed by "+
		sgESM+": TCP 9090-9100 to "+plKafka+" (10.0.1.0/24); "+sgESM+": all traffic to 2001:db8::/32" {
		t.Errorf("outbound 9096: %s", d)
	}
	if d := result(t, got, all+" inbound TCP 9096").Detail; d != "allowed by "+sgESM+": TCP 9092-9098 from 10.0.0.0/22, which holds Penstock's address 10.0.3.7" {
		t.Errorf("inbound 9096: %s", d)
	}
	if d := result(t, got, all+" outbound TCP 443").Detail; !strings.Contains(d, "secretsmanager.eu-west-1.amazonaws.com (10.0.5.12, 10.0.6.12) by "+
		sgExtra+": TCP 443 to 10.0.4.0/23, "+sgExtra+": TCP 443 to 10.0.6.0/24") || !strings.Contains(d, "sts.eu-west-1.amazonaws.com (10.0.5.10)") {
		t.Errorf("outbound 443: %s", d)
	}
	if n := s.Requests("GetManagedPrefixListEntries"); n != 1 {
		t.Errorf("%d GetManagedPrefixListEntries calls, want 1 (entries read once)", n)
	}

	// The same endpoints outside the allowed ranges: Secrets Manager has
	// one address outside, and fails.
	hosts["secretsmanager.eu-west-1.amazonaws.com"] = []string{"10.0.5.12", "10.0.7.12"}
	got = only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	r := result(t, got, all+" outbound TCP 443")
	if r.Status != CheckFail || r.Error != resultAWSUnreachable ||
		r.Detail != "no outbound rule of "+sgESM+", "+sgExtra+" allows TCP 443 to secretsmanager.eu-west-1.amazonaws.com (10.0.7.12)" {
		t.Errorf("endpoint outside the ranges: %+v", r)
	}
}

// Each missing piece fails with what is missing and the rule to add.
func TestVPCSecurityGroupsFailures(t *testing.T) {
	sts := "sts.eu-west-1.amazonaws.com (10.0.5.10), lambda.eu-west-1.amazonaws.com (10.0.5.11), secretsmanager.eu-west-1.amazonaws.com (10.0.5.12, 10.0.6.12)"
	cases := []struct {
		name            string
		ingress, egress []ec2api.Permission
		target          string
		want            CheckResult
	}{
		{
			name:    "no outbound rule for the broker port",
			ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
			egress:  []ec2api.Permission{ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0")},
			target:  sgESM + " outbound TCP 9096",
			want: CheckResult{Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
				Detail: "no outbound rule of " + sgESM + " allows TCP 9096 to the brokers (10.0.1.17, 10.0.2.9)",
				Fix:    "add an outbound rule to " + sgESM + " allowing TCP 9096 to the cluster's security group (" + sgESM + " itself when the cluster shares it) or CIDR"},
		},
		{
			name:    "outbound rules of another protocol, port range or address range",
			ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
			egress: []ec2api.Permission{
				{Protocol: ec2api.ProtocolUDP, FromPort: 9096, ToPort: 9096, CIDRs: []string{"0.0.0.0/0"}},
				ec2api.TCP(9092, 9094).ToGroups(sgESM),
				ec2api.TCP(9096, 9096).ToCIDRs("10.0.1.0/24"),
				ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0"),
			},
			target: sgESM + " outbound TCP 9096",
			want: CheckResult{Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
				Detail: "no outbound rule of " + sgESM + " allows TCP 9096 to the brokers (10.0.2.9)",
				Fix:    "add an outbound rule to " + sgESM + " allowing TCP 9096 to the cluster's security group (" + sgESM + " itself when the cluster shares it) or CIDR"},
		},
		{
			name:    "no outbound TCP 443",
			ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
			egress:  []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
			target:  sgESM + " outbound TCP 443",
			want: CheckResult{Status: CheckFail, Error: resultAWSUnreachable,
				Detail: "no outbound rule of " + sgESM + " allows TCP 443 to " + sts,
				Fix: "add an outbound rule to " + sgESM + " allowing TCP 443 to 0.0.0.0/0 (with a NAT gateway), or to the VPC endpoints (private DNS enabled) of " +
					"sts.eu-west-1.amazonaws.com, lambda.eu-west-1.amazonaws.com, secretsmanager.eu-west-1.amazonaws.com"},
		},
		{
			name:    "no self-referencing inbound rule",
			ingress: []ec2api.Permission{ec2api.TCP(22, 22).ToCIDRs("10.0.0.0/8")},
			egress:  []ec2api.Permission{ec2api.DefaultEgress()},
			target:  sgESM + " inbound TCP 9096",
			want: CheckResult{Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
				Detail: "no inbound rule of " + sgESM + " allows TCP 9096 from " + sgESM + " or from Penstock's address 10.0.3.7",
				Fix:    "add an inbound rule to " + sgESM + " allowing TCP 9096 from " + sgESM + " itself (a self-referencing rule)"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startEC2(t)
			fakeVPCNet(t, vpcHosts, vpcSource)
			s.AddGroup(ec2api.SecurityGroup{ID: sgESM, Ingress: c.ingress, Egress: c.egress})
			f, pc := vpcPipeline(t, sgESM)
			got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
			r := result(t, got, c.target)
			c.want.Pipeline, c.want.Check, c.want.Target = "orders", "security group", c.target
			if r != c.want {
				t.Errorf("\n got %+v\nwant %+v", r, c.want)
			}
			// Only the broken rule fails.
			for _, o := range got {
				if o.Target != c.target && o.Status != CheckOK {
					t.Errorf("%s: %s %s", o.Target, o.Status, o.Detail)
				}
			}
		})
	}
}

// An unknown group fails, pointing at its line; the rules of the groups
// that exist are still checked.
func TestVPCSecurityGroupsUnknownGroup(t *testing.T) {
	s := startEC2(t)
	fakeVPCNet(t, vpcHosts, vpcSource)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM,
		Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
		Egress:  []ec2api.Permission{ec2api.DefaultEgress()}})
	f, pc := vpcPipeline(t, sgESM, sgGone)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	gone := result(t, got, sgGone)
	want := CheckResult{Pipeline: "orders", Check: "security group", Target: sgGone, Status: CheckFail, Error: "ESM_CONFIG_NOT_VALID",
		Detail: "InvalidGroup.NotFound: The security group '" + sgGone + "' does not exist",
		Fix: sgGone + " does not exist in eu-west-1 for these credentials' account: fix the id in source.kafka.vpc.security_groups (" +
			f.Path + ":13), or check with the cluster account's credentials and region"}
	if gone != want {
		t.Errorf("\n got %+v\nwant %+v", gone, want)
	}
	if r := result(t, got, sgESM); r.Status != CheckOK {
		t.Errorf("the existing group: %+v", r)
	}
	// The rules are those of the group that exists, and name it alone.
	if r := result(t, got, sgESM+" outbound TCP 9096"); r.Status != CheckOK {
		t.Errorf("rules of the existing group: %+v", r)
	}
	if len(got) != 5 {
		t.Errorf("%d results, want 2 for the groups and 3 for the rules:\n%s", len(got), formatResults(got))
	}
}

// Without the IAM permission, or without credentials, the checks are
// skipped and say what to grant or provide.
func TestVPCSecurityGroupsCannotVerify(t *testing.T) {
	t.Run("UnauthorizedOperation", func(t *testing.T) {
		s := startEC2(t)
		fakeVPCNet(t, vpcHosts, vpcSource)
		s.AddGroup(ec2api.SecurityGroup{ID: sgESM})
		s.Deny(ec2api.ActionDescribeSecurityGroups)
		f, pc := vpcPipeline(t, sgESM)
		got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
		want := CheckResult{Pipeline: "orders", Check: "security group", Target: sgESM, Status: CheckSkip,
			Detail: "cannot verify the security groups: not allowed to call EC2 DescribeSecurityGroups: You are not authorized to perform this operation. " +
				"User: arn:aws:iam::123456789012:user/penstock is not authorized to perform: ec2:DescribeSecurityGroups because no identity-based policy allows the ec2:DescribeSecurityGroups action",
			Fix: "grant ec2:DescribeSecurityGroups (and ec2:GetManagedPrefixListEntries when rules use prefix lists) to the identity penstock check runs as"}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("got:\n%s", formatResults(got))
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		s := startEC2(t)
		fakeVPCNet(t, vpcHosts, vpcSource)
		s.AddGroup(ec2api.SecurityGroup{ID: sgESM})
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
		t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
		f, pc := vpcPipeline(t, sgESM)
		got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
		if len(got) != 1 || got[0].Status != CheckSkip || got[0].Target != sgESM ||
			!strings.HasPrefix(got[0].Detail, "cannot verify the security groups: no AWS credentials: ") ||
			got[0].Fix != "give penstock check AWS credentials (environment, profile, web identity, container or instance role) allowed ec2:DescribeSecurityGroups" {
			t.Fatalf("got:\n%s", formatResults(got))
		}
		if n := s.Requests("DescribeSecurityGroups"); n != 0 || s.SignatureFailures() != 0 {
			t.Errorf("%d calls and %d refused: the endpoint must not be called without credentials", n, s.SignatureFailures())
		}
	})
	t.Run("no vpc settings", func(t *testing.T) {
		f, pc := vpcPipeline(t, sgESM)
		pc.Source.Kafka.VPC = nil
		if got := vpcChecks(context.Background(), f, pc, vpcBrokers); got != nil {
			t.Fatalf("got:\n%s", formatResults(got))
		}
	})
}

// Rules Penstock cannot verify from the rules alone (another group, an
// unreadable prefix list) are skipped with what to make sure of; VPC
// endpoints reached through their group are checked for the inbound
// TCP 443 rule they need.
func TestVPCSecurityGroupsUnverifiable(t *testing.T) {
	s := startEC2(t)
	fakeVPCNet(t, vpcHosts, vpcSource)
	s.AddPrefixList(plKafka, "10.0.0.0/16")
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM,
		Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToPrefixLists(plKafka)},
		Egress: []ec2api.Permission{
			ec2api.TCP(9096, 9096).ToGroups(sgCluster),
			ec2api.TCP(443, 443).ToGroups(sgVPCE),
		}})
	s.AddGroup(ec2api.SecurityGroup{ID: sgCluster})
	s.AddGroup(ec2api.SecurityGroup{ID: sgVPCE, Ingress: []ec2api.Permission{ec2api.TCP(443, 443).ToCIDRs("10.0.8.0/24")}})
	s.Deny(ec2api.ActionGetManagedPrefixListEntries)
	f, pc := vpcPipeline(t, sgESM)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))

	want := map[string]CheckResult{
		sgESM + " outbound TCP 9096": {Status: CheckSkip,
			Detail: "no rule allows TCP 9096 to 10.0.1.17, 10.0.2.9 by address; allowed only by " + sgESM + ": TCP 9096 to " + sgCluster +
				", which Penstock cannot match to the brokers",
			Fix: "make sure the brokers are in " + sgCluster + "; or add an outbound rule to " + sgESM + " allowing TCP 9096 to the cluster's security group or CIDR"},
		sgESM + " inbound TCP 9096": {Status: CheckSkip,
			Detail: "no rule allows TCP 9096 from the event source's security groups; allowed only by " + sgESM + ": TCP 9096 from " + plKafka +
				" (UnauthorizedOperation), which Penstock cannot match to its own address",
			Fix: "grant ec2:GetManagedPrefixListEntries to read " + plKafka + "; or add an inbound rule to " + sgESM + " allowing TCP 9096 from " + sgESM + " itself (a self-referencing rule)"},
		sgVPCE + " inbound TCP 443": {Status: CheckFail, Error: resultAWSUnreachable,
			Detail: "no inbound rule of " + sgVPCE + " allows TCP 443 from " + sgESM,
			Fix:    "add an inbound rule to " + sgVPCE + " (the VPC endpoints' group) allowing TCP 443 from " + sgESM},
	}
	for target, w := range want {
		w.Pipeline, w.Check, w.Target = "orders", "security group", target
		sameResult(t, got, w)
	}
	r := result(t, got, sgESM+" outbound TCP 443")
	if r.Status != CheckSkip || !strings.Contains(r.Detail, "allowed only by "+sgESM+": TCP 443 to "+sgVPCE) ||
		!strings.HasPrefix(r.Fix, "make sure the VPC endpoints of sts.eu-west-1.amazonaws.com, lambda.eu-west-1.amazonaws.com, secretsmanager.eu-west-1.amazonaws.com are in "+sgVPCE+"; or add an outbound rule") {
		t.Errorf("outbound 443 to the endpoints' group: %+v", r)
	}

	// Once the endpoints' group accepts TCP 443 from the source's group,
	// that check passes.
	s.AddGroup(ec2api.SecurityGroup{ID: sgVPCE, Ingress: []ec2api.Permission{ec2api.TCP(443, 443).ToGroups(sgESM)}})
	got = only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	if r := result(t, got, sgVPCE+" inbound TCP 443"); r.Status != CheckOK || r.Detail != "allowed by "+sgVPCE+": TCP 443 from "+sgESM {
		t.Errorf("endpoints' group with the inbound rule: %+v", r)
	}
}

// Rules naming groups are matched to the brokers through the groups of
// the network interfaces that hold the brokers' addresses: a broker in the
// group named passes, one in another group fails, also when the group
// named is the source's own (the ESM's documented setup, verified).
func TestVPCSecurityGroupsBrokerMembership(t *testing.T) {
	const subnetBrokers = "subnet-0b1b1b1b1b1b1b1b1"
	setup := func(t *testing.T, egressTo string, b2Group string, clusterIngress ...ec2api.Permission) []CheckResult {
		t.Helper()
		s := startEC2(t)
		fakeVPCNet(t, vpcHosts, vpcSource)
		s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: vpcMain,
			Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
			Egress:  []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(egressTo), ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0")}})
		s.AddGroup(ec2api.SecurityGroup{ID: sgCluster, VpcID: vpcMain, Ingress: clusterIngress})
		s.AddSubnet(ec2api.Subnet{ID: subnetBrokers, VpcID: vpcMain, CIDR: "10.0.0.0/22"})
		s.AddNetworkInterface(ec2api.NetworkInterface{ID: "eni-0b1b1b1b1b1b1b1b1", SubnetID: subnetBrokers, PrivateIPs: []string{"10.0.1.17"}, Groups: []string{egressTo}})
		s.AddNetworkInterface(ec2api.NetworkInterface{ID: "eni-0b2b2b2b2b2b2b2b2", SubnetID: subnetBrokers, PrivateIPs: []string{"10.0.2.9"}, Groups: []string{b2Group}})
		f, pc := vpcPipeline(t, sgESM)
		return only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	}
	target := sgESM + " outbound TCP 9096"
	t.Run("another group", func(t *testing.T) {
		r := result(t, setup(t, sgCluster, sgCluster), target)
		rule := sgESM + ": TCP 9096 to " + sgCluster
		want := "brokers 10.0.1.17, 10.0.2.9 allowed by " + rule + ", which holds the network interface of 10.0.1.17; " +
			rule + ", which holds the network interface of 10.0.2.9"
		if r.Status != CheckOK || r.Detail != want {
			t.Errorf("got %+v\nwant detail %q", r, want)
		}
	})
	// The cluster's group must accept the connections: from the source's
	// group, or from a range that holds Penstock's address.
	clusterIn := sgCluster + " inbound TCP 9096"
	t.Run("the cluster's group refuses", func(t *testing.T) {
		want := CheckResult{Pipeline: "orders", Check: checkSecurityGroup, Target: clusterIn, Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
			Detail: "no inbound rule of the brokers' security groups allows TCP 9096 from " + sgESM + " or from Penstock's address " + vpcSource +
				": 10.0.1.17 (in " + sgCluster + "), 10.0.2.9 (in " + sgCluster + ")",
			Fix: "add an inbound rule to " + sgCluster + " allowing TCP 9096 from " + sgESM}
		sameResult(t, setup(t, sgCluster, sgCluster, ec2api.TCP(22, 22).ToGroups(sgESM)), want)
	})
	t.Run("the cluster's group accepts", func(t *testing.T) {
		got := setup(t, sgCluster, sgCluster, ec2api.TCP(9092, 9098).ToGroups(sgESM))
		rule := sgCluster + ": TCP 9092-9098 from " + sgESM
		if r := result(t, got, clusterIn); r.Status != CheckOK || r.Detail != "the brokers accept TCP 9096: 10.0.1.17 by "+rule+"; 10.0.2.9 by "+rule {
			t.Errorf("got %+v", r)
		}
		got = setup(t, sgCluster, sgCluster, ec2api.TCP(9096, 9096).ToCIDRs("10.0.3.0/24"))
		if r := result(t, got, clusterIn); r.Status != CheckOK ||
			!strings.HasPrefix(r.Detail, "the brokers accept TCP 9096: 10.0.1.17 by "+sgCluster+": TCP 9096 from 10.0.3.0/24, which holds Penstock's address "+vpcSource) {
			t.Errorf("by address: got %+v", r)
		}
	})
	t.Run("a broker outside the group", func(t *testing.T) {
		r := result(t, setup(t, sgCluster, sgESM), target)
		if r.Status != CheckFail || r.Error != kafka.ResultBrokerUnreachable ||
			r.Detail != "no outbound rule of "+sgESM+" allows TCP 9096 to the brokers (10.0.2.9)" {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("the source's own group", func(t *testing.T) {
		r := result(t, setup(t, sgESM, sgESM), target)
		if r.Status != CheckOK || !strings.HasPrefix(r.Detail, "brokers 10.0.1.17, 10.0.2.9 allowed by "+sgESM+": TCP 9096 to "+sgESM+" (itself), which holds the network interface of 10.0.1.17; ") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("brokers not in the source's own group", func(t *testing.T) {
		r := result(t, setup(t, sgESM, sgCluster), target)
		if r.Status != CheckFail || r.Detail != "no outbound rule of "+sgESM+" allows TCP 9096 to the brokers (10.0.2.9)" {
			t.Errorf("got %+v", r)
		}
	})
}

// With the real resolver and routing: brokers given by address on the
// loopback network, whose ranges hold Penstock's own address.
func TestVPCSecurityGroupsRealNetwork(t *testing.T) {
	s := startEC2(t)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM,
		Ingress: []ec2api.Permission{ec2api.TCP(1024, 65535).ToCIDRs("127.0.0.0/8")},
		Egress:  []ec2api.Permission{ec2api.DefaultEgress()}})
	f, pc := vpcPipeline(t, sgESM)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, []string{"127.0.0.1:19096"}))
	for _, r := range got {
		if r.Status != CheckOK {
			t.Errorf("%s: %s %s", r.Target, r.Status, r.Detail)
		}
	}
	if d := result(t, got, sgESM+" inbound TCP 19096").Detail; d != "allowed by "+sgESM+": TCP 1024-65535 from 127.0.0.0/8, which holds Penstock's address 127.0.0.1" {
		t.Errorf("inbound: %s", d)
	}
	if d := result(t, got, sgESM+" outbound TCP 19096").Detail; d != "brokers 127.0.0.1 allowed by "+sgESM+": all traffic to 0.0.0.0/0" {
		t.Errorf("outbound: %s", d)
	}
}

// Groups of different VPCs cannot be attached together.
func TestVPCSecurityGroupsDifferentVPCs(t *testing.T) {
	s := startEC2(t)
	fakeVPCNet(t, vpcHosts, vpcSource)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: "vpc-0a0a0a0a0a0a0a0a0", Egress: []ec2api.Permission{ec2api.DefaultEgress()}})
	s.AddGroup(ec2api.SecurityGroup{ID: sgExtra, VpcID: "vpc-0b0b0b0b0b0b0b0b0"})
	f, pc := vpcPipeline(t, sgESM, sgExtra)
	got := only(checkSecurityGroup, vpcChecks(context.Background(), f, pc, vpcBrokers))
	want := CheckResult{Pipeline: "orders", Check: "security group", Target: sgESM + "," + sgExtra, Status: CheckFail, Error: "ESM_CONFIG_NOT_VALID",
		Detail: "the security groups belong to different VPCs: " + sgESM + " in vpc-0a0a0a0a0a0a0a0a0; " + sgExtra + " in vpc-0b0b0b0b0b0b0b0b0",
		Fix:    "list security groups of one VPC, the VPC of source.kafka.vpc.subnets"}
	sameResult(t, got, want)
}
