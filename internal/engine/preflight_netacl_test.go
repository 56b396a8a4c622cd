package engine

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/ec2api"
	"github.com/penstock-dev/penstock/sources/kafka"
)

// aclDenies evaluates rules as EC2 does: in number order, the first rule
// that matches a packet decides it, and what no rule decides is denied.
func TestACLDenies(t *testing.T) {
	rule := func(n int, allow bool, cidr string, lo, hi int) aclRule {
		return aclRule{number: n, allow: allow, prefix: netip.MustParsePrefix(cidr), ports: portRange{lo, hi}}
	}
	all := func(n int, allow bool, cidr string) aclRule { return rule(n, allow, cidr, 0, 65535) }
	broker := netip.MustParsePrefix("10.0.1.17/32")
	subnet := netip.MustParsePrefix("10.0.3.0/24")
	for _, tc := range []struct {
		name   string
		rules  []aclRule
		remote netip.Prefix
		ports  portRange
		want   *aclDenial // nil: allowed
	}{
		{"allow all", []aclRule{all(100, true, "0.0.0.0/0"), all(32767, false, "0.0.0.0/0")}, broker, portRange{9096, 9096}, nil},
		{"no rules", nil, broker, portRange{9096, 9096}, &aclDenial{0, []portRange{{9096, 9096}}, broker}},
		{"only the * rule", []aclRule{all(32767, false, "0.0.0.0/0")}, broker, portRange{9096, 9096},
			&aclDenial{32767, []portRange{{9096, 9096}}, broker}},
		{"deny first", []aclRule{rule(50, false, "10.0.1.0/24", 9092, 9098), all(100, true, "0.0.0.0/0")}, broker, portRange{9096, 9096},
			&aclDenial{50, []portRange{{9096, 9096}}, broker}},
		{"deny of other ports", []aclRule{rule(50, false, "10.0.1.0/24", 22, 22), all(100, true, "0.0.0.0/0")}, broker, portRange{9096, 9096}, nil},
		{"deny of other addresses", []aclRule{all(50, false, "10.0.2.0/24"), all(100, true, "0.0.0.0/0")}, broker, portRange{9096, 9096}, nil},
		{"allow before deny", []aclRule{rule(10, true, "10.0.0.0/16", 9096, 9096), all(20, false, "0.0.0.0/0")}, broker, portRange{9096, 9096}, nil},
		{"an IPv6 rule does not match IPv4", []aclRule{all(10, true, "::/0"), all(32767, false, "0.0.0.0/0")}, broker, portRange{9096, 9096},
			&aclDenial{32767, []portRange{{9096, 9096}}, broker}},
		{"ports covered by two rules", []aclRule{rule(10, true, "0.0.0.0/0", 1024, 32767), rule(20, true, "0.0.0.0/0", 32768, 65535)},
			broker, portRange{1024, 65535}, nil},
		{"a gap in the ports", []aclRule{rule(10, true, "0.0.0.0/0", 1024, 32767), rule(20, true, "0.0.0.0/0", 32769, 65535)},
			broker, portRange{1024, 65535}, &aclDenial{0, []portRange{{32768, 32768}}, broker}},
		{"deny inside the ephemeral range", []aclRule{rule(10, false, "0.0.0.0/0", 3389, 3389), rule(20, true, "0.0.0.0/0", 1024, 65535)},
			broker, portRange{1024, 65535}, &aclDenial{10, []portRange{{3389, 3389}}, broker}},
		{"a range allowed by two halves", []aclRule{all(10, true, "10.0.3.0/25"), all(20, true, "10.0.3.128/25")}, subnet, portRange{9096, 9096}, nil},
		{"a range allowed in part", []aclRule{all(10, true, "10.0.3.0/25")}, subnet, portRange{9096, 9096},
			&aclDenial{0, []portRange{{9096, 9096}}, netip.MustParsePrefix("10.0.3.128/25")}},
		{"an address of the range denied", []aclRule{all(10, false, "10.0.3.7/32"), all(20, true, "10.0.0.0/16")}, subnet, portRange{9096, 9096},
			&aclDenial{10, []portRange{{9096, 9096}}, netip.MustParsePrefix("10.0.3.7/32")}},
		{"a denied address after the allow", []aclRule{all(10, true, "10.0.0.0/16"), all(20, false, "10.0.3.7/32")}, subnet, portRange{9096, 9096}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, denied := aclDenies(tc.rules, tc.remote, []portRange{tc.ports})
			switch {
			case tc.want == nil && denied:
				t.Errorf("denied %+v, want allowed", d)
			case tc.want != nil && !denied:
				t.Errorf("allowed, want denied %+v", *tc.want)
			case tc.want != nil && !reflect.DeepEqual(d, *tc.want):
				t.Errorf("denied %+v, want %+v", d, *tc.want)
			}
		})
	}
}

const (
	aclESM    = "acl-0a1a1a1a1a1a1a1a1"
	aclCustom = "acl-0b2b2b2b2b2b2b2b2"
	subnetB1  = "subnet-0b1b1b1b1b1b1b1b1" // 10.0.1.0/24, b-1's
	subnetB2  = "subnet-0b2b2b2b2b2b2b2b2" // 10.0.2.0/24, b-2's
)

// naclSetup is subnetSetup with a NAT gateway, the brokers' subnets and
// network interfaces, and the VPC's default network ACL holding entries.
func naclSetup(t *testing.T, hosts map[string][]string, entries ...ec2api.ACLEntry) *ec2api.Server {
	t.Helper()
	s := subnetSetup(t, hosts, ec2api.Route{Destination: "0.0.0.0/0", NatGatewayID: "nat-0123456789abcdef0"})
	s.AddSubnet(ec2api.Subnet{ID: subnetB1, VpcID: vpcMain, CIDR: "10.0.1.0/24"})
	s.AddSubnet(ec2api.Subnet{ID: subnetB2, VpcID: vpcMain, CIDR: "10.0.2.0/24"})
	s.AddNetworkInterface(ec2api.NetworkInterface{ID: "eni-0b1b1b1b1b1b1b1b1", SubnetID: subnetB1, PrivateIPs: []string{"10.0.1.17"}, Groups: []string{sgESM}})
	s.AddNetworkInterface(ec2api.NetworkInterface{ID: "eni-0b2b2b2b2b2b2b2b2", SubnetID: subnetB2, PrivateIPs: []string{"10.0.2.9"}, Groups: []string{sgESM}})
	s.AddNetworkACL(ec2api.NetworkACL{ID: aclESM, VpcID: vpcMain, Default: true, Entries: entries})
	return s
}

func naclChecks(t *testing.T) []CheckResult {
	t.Helper()
	f, pc := vpcPipeline(t, sgESM)
	return only(checkNACL, vpcChecks(context.Background(), f, pc, vpcBrokers))
}

// allTraffic is the rule pair of a VPC's default network ACL.
var allTraffic = []ec2api.ACLEntry{
	{RuleNumber: 100, Protocol: "-1", CIDR: "0.0.0.0/0"},
	{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
}

// The subnet's network ACL lets the event source reach the brokers and the
// AWS APIs: the VPC's default ACL as created, or one that opens only what
// is needed, replies included.
func TestVPCNetworkACLAllows(t *testing.T) {
	// One ACL for all the subnets: out to the brokers, to HTTPS and, for
	// the brokers' subnets, replies within the VPC; in, replies (which
	// cover the broker port too).
	tight := []ec2api.ACLEntry{
		{RuleNumber: 100, Egress: true, Protocol: "6", CIDR: "10.0.0.0/16", PortFrom: 9096, PortTo: 9096},
		{RuleNumber: 110, Egress: true, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 443, PortTo: 443},
		{RuleNumber: 120, Egress: true, Protocol: "6", CIDR: "10.0.0.0/16", PortFrom: 1024, PortTo: 65535},
		{RuleNumber: 100, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 1024, PortTo: 65535},
	}
	for _, tc := range []struct {
		name    string
		hosts   map[string][]string
		entries []ec2api.ACLEntry
		aws     string
	}{
		{"default ACL, VPC endpoints", vpcHosts, allTraffic,
			"sts.eu-west-1.amazonaws.com (10.0.5.10), lambda.eu-west-1.amazonaws.com (10.0.5.11), secretsmanager.eu-west-1.amazonaws.com (10.0.5.12, 10.0.6.12)"},
		{"only what is needed, NAT gateway", vpcPublicHosts, tight,
			"sts.eu-west-1.amazonaws.com (52.94.0.10), lambda.eu-west-1.amazonaws.com (52.94.0.11), secretsmanager.eu-west-1.amazonaws.com (52.94.0.12)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := naclSetup(t, tc.hosts, tc.entries...)
			want := []CheckResult{
				{Pipeline: "orders", Check: checkNACL, Target: subnetESM + " network ACL, brokers", Status: CheckOK,
					Detail: aclESM + " allows TCP 9096 to 10.0.1.17, 10.0.2.9 out, and the replies in (TCP 1024-65535)"},
				{Pipeline: "orders", Check: checkNACL, Target: subnetESM + " network ACL, AWS APIs", Status: CheckOK,
					Detail: aclESM + " allows TCP 443 out to " + tc.aws + ", and the replies in (TCP 1024-65535)"},
				{Pipeline: "orders", Check: checkNACL, Target: subnetB1 + " network ACL, brokers in it", Status: CheckOK,
					Detail: aclESM + " allows TCP 9096 in from 10.0.3.0/24 (the event source's subnets), and the replies out (TCP 1024-65535)"},
				{Pipeline: "orders", Check: checkNACL, Target: subnetB2 + " network ACL, brokers in it", Status: CheckOK,
					Detail: aclESM + " allows TCP 9096 in from 10.0.3.0/24 (the event source's subnets), and the replies out (TCP 1024-65535)"},
			}
			got := naclChecks(t)
			sameResults(t, got, want)
			if n, m := s.Requests("DescribeNetworkAcls"), s.Requests("DescribeNetworkInterfaces"); n != 3 || m != 1 {
				t.Errorf("%d DescribeNetworkAcls and %d DescribeNetworkInterfaces calls, want 3 and 1", n, m)
			}
		})
	}
}

// What the ACL denies fails, naming the rule (or the * rule) and the
// traffic, with the rule to add: above all the replies, which stateless
// ACLs need rules for.
func TestVPCNetworkACLDenies(t *testing.T) {
	brokers, apis := subnetESM+" network ACL, brokers", subnetESM+" network ACL, AWS APIs"
	t.Run("no inbound rule for the replies", func(t *testing.T) {
		naclSetup(t, vpcPublicHosts,
			ec2api.ACLEntry{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
			ec2api.ACLEntry{RuleNumber: 100, Protocol: "6", CIDR: "10.0.0.0/16", PortFrom: 9096, PortTo: 9096})
		got := naclChecks(t)
		r := result(t, got, brokers)
		want := CheckResult{Pipeline: "orders", Check: checkNACL, Target: brokers, Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
			Detail: aclESM + ": no rule allows inbound TCP 1024-9095, 9097-65535 from 10.0.1.17 (broker) (the * rule denies it); " +
				"no rule allows inbound TCP 1024-9095, 9097-65535 from 10.0.2.9 (broker) (the * rule denies it)",
			Fix: "add to " + aclESM + " an inbound rule allowing TCP 1024-65535 from 10.0.1.17/32; an inbound rule allowing TCP 1024-65535 from 10.0.2.9/32 " +
				"(network ACLs are stateless: replies need rules of their own)"}
		if r != want {
			t.Errorf("\n got %+v\nwant %+v", r, want)
		}
		r = result(t, got, apis)
		if r.Status != CheckFail || r.Error != resultAWSUnreachable ||
			!strings.HasPrefix(r.Detail, aclESM+": no rule allows inbound TCP 1024-65535 from 52.94.0.10 (sts.eu-west-1.amazonaws.com) (the * rule denies it); ") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("a deny rule before the allow", func(t *testing.T) {
		naclSetup(t, vpcPublicHosts, append([]ec2api.ACLEntry{
			{RuleNumber: 50, Egress: true, Deny: true, Protocol: "6", CIDR: "10.0.2.0/24", PortFrom: 9000, PortTo: 9999},
		}, allTraffic...)...)
		got := naclChecks(t)
		want := CheckResult{Pipeline: "orders", Check: checkNACL, Target: brokers, Status: CheckFail, Error: kafka.ResultBrokerUnreachable,
			Detail: aclESM + ": rule 50 denies outbound TCP 9096 to 10.0.2.9 (broker)",
			Fix: "add to " + aclESM + " an outbound rule allowing TCP 9096 to 10.0.2.9/32, numbered below 50 " +
				"(network ACLs are stateless: replies need rules of their own)"}
		sameResult(t, got, want)
		if r := result(t, got, apis); r.Status != CheckOK {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("HTTPS out denied", func(t *testing.T) {
		naclSetup(t, vpcPublicHosts,
			ec2api.ACLEntry{RuleNumber: 100, Egress: true, Protocol: "6", CIDR: "10.0.0.0/16", PortFrom: 9096, PortTo: 9096},
			ec2api.ACLEntry{RuleNumber: 100, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 1024, PortTo: 65535})
		got := naclChecks(t)
		if r := result(t, got, brokers); r.Status != CheckOK {
			t.Errorf("got %+v", r)
		}
		r := result(t, got, apis)
		if r.Status != CheckFail || r.Error != resultAWSUnreachable ||
			r.Detail != aclESM+": no rule allows outbound TCP 443 to 52.94.0.10 (sts.eu-west-1.amazonaws.com) (the * rule denies it); "+
				"no rule allows outbound TCP 443 to 52.94.0.11 (lambda.eu-west-1.amazonaws.com) (the * rule denies it); "+
				"no rule allows outbound TCP 443 to 52.94.0.12 (secretsmanager.eu-west-1.amazonaws.com) (the * rule denies it)" ||
			!strings.HasPrefix(r.Fix, "add to "+aclESM+" an outbound rule allowing TCP 443 to 52.94.0.10/32; ") {
			t.Errorf("got %+v", r)
		}
	})
}

// A subnet the subnet lists that holds brokers must let the other listed
// subnets in on the broker port, and their replies out; traffic within one
// subnet does not cross its ACL.
func TestVPCNetworkACLBrokersInSubnet(t *testing.T) {
	const subnetBrokers = "subnet-0fedcba9876543210"
	s := startEC2(t)
	fakeVPCNet(t, vpcHosts, vpcSource)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: vpcMain,
		Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
		Egress:  []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM), ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0")}})
	s.AddSubnet(ec2api.Subnet{ID: subnetESM, VpcID: vpcMain, CIDR: "10.0.3.0/24"})
	s.AddSubnet(ec2api.Subnet{ID: subnetBrokers, VpcID: vpcMain, CIDR: "10.0.1.0/24"}) // holds b-1
	s.AddRouteTable(ec2api.RouteTable{ID: rtbMain, VpcID: vpcMain, Main: true, Routes: []ec2api.Route{{Destination: "10.0.0.0/16", GatewayID: "local"}}})
	s.AddNetworkACL(ec2api.NetworkACL{ID: aclESM, VpcID: vpcMain, Default: true, Entries: allTraffic})
	// The brokers' subnet takes 9096 from its own range and not from the
	// event source's subnet, and answers only within the VPC's first /20.
	s.AddNetworkACL(ec2api.NetworkACL{ID: aclCustom, VpcID: vpcMain, Subnets: []string{subnetBrokers}, Entries: []ec2api.ACLEntry{
		{RuleNumber: 100, Protocol: "6", CIDR: "10.0.1.0/24", PortFrom: 9096, PortTo: 9096},
		{RuleNumber: 105, Deny: true, Protocol: "6", CIDR: "10.0.3.0/24", PortFrom: 9096, PortTo: 9096},
		{RuleNumber: 110, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 1024, PortTo: 65535},
		{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "10.0.0.0/20"},
		{RuleNumber: 110, Egress: true, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 443, PortTo: 443},
	}})
	f, pc := vpcPipelineSubnets(t, []string{subnetESM, subnetBrokers}, sgESM)
	got := only(checkNACL, vpcChecks(context.Background(), f, pc, vpcBrokers))

	// From the brokers' subnet, b-1 is inside (not checked) and b-2 is
	// reached through the rules above.
	if r := result(t, got, subnetBrokers+" network ACL, brokers"); r.Status != CheckOK ||
		r.Detail != aclCustom+" allows TCP 9096 to 10.0.2.9 out, and the replies in (TCP 1024-65535)" {
		t.Errorf("got %+v", r)
	}
	want := CheckResult{Pipeline: "orders", Check: checkNACL, Target: subnetBrokers + " network ACL, brokers in it", Status: CheckFail,
		Error:  kafka.ResultBrokerUnreachable,
		Detail: aclCustom + ": rule 105 denies inbound TCP 9096 from 10.0.3.0/24",
		Fix: "add to " + aclCustom + " an inbound rule allowing TCP 9096 from 10.0.3.0/24, numbered below 105 " +
			"(network ACLs are stateless: replies need rules of their own)"}
	sameResult(t, got, want)
	// The event source's own subnet holds no broker: no such line. No
	// network interface holds b-2's address: its subnet is not known.
	for _, r := range got {
		if r.Target == subnetESM+" network ACL, brokers in it" {
			t.Errorf("unexpected %+v", r)
		}
	}
	want = CheckResult{Pipeline: "orders", Check: checkNACL, Target: "10.0.2.9 network ACL", Status: CheckSkip,
		Detail: "no network interface these credentials can see holds the broker address 10.0.2.9 (another account or VPC): the network ACL of its subnet is not checked",
		Fix:    "make sure that ACL lets 10.0.3.0/24, 10.0.1.0/24 in on the broker port and the replies out (TCP 1024-65535)"}
	sameResult(t, got, want)

	// Opened to the VPC, it passes.
	s.AddNetworkACL(ec2api.NetworkACL{ID: aclCustom, VpcID: vpcMain, Subnets: []string{subnetBrokers}, Entries: []ec2api.ACLEntry{
		{RuleNumber: 100, Protocol: "6", CIDR: "10.0.0.0/16", PortFrom: 9096, PortTo: 9096},
		{RuleNumber: 110, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 1024, PortTo: 65535},
		{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "10.0.0.0/20"},
		{RuleNumber: 110, Egress: true, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 443, PortTo: 443},
	}})
	got = only(checkNACL, vpcChecks(context.Background(), f, pc, vpcBrokers))
	if r := result(t, got, subnetBrokers+" network ACL, brokers in it"); r.Status != CheckOK ||
		r.Detail != aclCustom+" allows TCP 9096 in from 10.0.3.0/24 (the event source's subnets), and the replies out (TCP 1024-65535)" {
		t.Errorf("got %+v", r)
	}
}

// A subnet that holds brokers but is not listed is found by the brokers'
// network interfaces, and its ACL must let the event source's subnets in.
func TestVPCNetworkACLBrokerSubnets(t *testing.T) {
	s := naclSetup(t, vpcPublicHosts, allTraffic...)
	s.AddNetworkACL(ec2api.NetworkACL{ID: aclCustom, VpcID: vpcMain, Subnets: []string{subnetB2}, Entries: []ec2api.ACLEntry{
		{RuleNumber: 100, Protocol: "6", CIDR: "10.0.2.0/24", PortFrom: 9096, PortTo: 9096},
		{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
	}})
	got := naclChecks(t)
	if r := result(t, got, subnetB1+" network ACL, brokers in it"); r.Status != CheckOK {
		t.Errorf("got %+v", r)
	}
	want := CheckResult{Pipeline: "orders", Check: checkNACL, Target: subnetB2 + " network ACL, brokers in it", Status: CheckFail,
		Error:  kafka.ResultBrokerUnreachable,
		Detail: aclCustom + ": no rule allows inbound TCP 9096 from 10.0.3.0/24 (the * rule denies it)",
		Fix: "add to " + aclCustom + " an inbound rule allowing TCP 9096 from 10.0.3.0/24 " +
			"(network ACLs are stateless: replies need rules of their own)"}
	sameResult(t, got, want)
}

// Without ec2:DescribeNetworkAcls or ec2:DescribeNetworkInterfaces the
// lines that need them are skipped and say what to grant; the other checks
// are unaffected.
func TestVPCNetworkACLCannotVerify(t *testing.T) {
	const grant = "grant ec2:DescribeNetworkAcls and ec2:DescribeNetworkInterfaces to the identity penstock check runs as"
	for _, tc := range []struct {
		deny    string
		targets []string // the lines skipped
		ok      int      // the network ACL lines still OK
	}{
		{"DescribeNetworkAcls", []string{subnetESM + " network ACL", subnetB1 + " network ACL", subnetB2 + " network ACL"}, 0},
		{"DescribeNetworkInterfaces", []string{"brokers' subnets network ACL"}, 2},
	} {
		t.Run(tc.deny, func(t *testing.T) {
			s := naclSetup(t, vpcPublicHosts, allTraffic...)
			s.Deny(tc.deny)
			f, pc := vpcPipeline(t, sgESM)
			all := vpcChecks(context.Background(), f, pc, vpcBrokers)
			for _, r := range all {
				if r.Check != checkNACL && r.Status != CheckOK {
					t.Errorf("not OK: %+v", r)
				}
			}
			var skipped []string
			ok := 0
			for _, r := range only(checkNACL, all) {
				switch {
				case r.Status == CheckOK:
					ok++
				case r.Status == CheckSkip && r.Fix == grant &&
					strings.HasPrefix(r.Detail, "cannot verify the network ACL: not allowed to call EC2 "+tc.deny+": "):
					skipped = append(skipped, r.Target)
				default:
					t.Errorf("unexpected %+v", r)
				}
			}
			if !reflect.DeepEqual(skipped, tc.targets) || ok != tc.ok {
				t.Errorf("skipped %q and %d OK, want %q and %d", skipped, ok, tc.targets, tc.ok)
			}
		})
	}
}

// EC2 throttles Describe calls per account: the checks' calls are retried
// with backoff, so a throttled moment gives the same lines.
func TestVPCChecksRetryThrottledCalls(t *testing.T) {
	shortBackoff(t)
	s := naclSetup(t, vpcPublicHosts, allTraffic...)
	f, pc := vpcPipeline(t, sgESM)
	want := vpcChecks(context.Background(), f, pc, vpcBrokers)
	before := s.Requests("DescribeSecurityGroups")
	s.Throttle(2) // the first call and its first retry
	got := vpcChecks(context.Background(), f, pc, vpcBrokers)
	sameResults(t, got, want)
	if n := s.Requests("DescribeSecurityGroups") - before; n != 3 {
		t.Errorf("%d DescribeSecurityGroups requests, want 3 (two throttled)", n)
	}
	for _, r := range got {
		if r.Status != CheckOK {
			t.Errorf("not OK: %+v", r)
		}
	}
}

// Throttled beyond the retries, the line is skipped and says so.
func TestVPCChecksThrottledTooLong(t *testing.T) {
	shortBackoff(t)
	s := naclSetup(t, vpcPublicHosts, allTraffic...)
	s.Throttle(3)
	f, pc := vpcPipeline(t, sgESM)
	got := vpcChecks(context.Background(), f, pc, vpcBrokers)
	r := got[0]
	if r.Check != checkSecurityGroup || r.Status != CheckSkip ||
		!strings.Contains(r.Detail, "RequestLimitExceeded") ||
		r.Fix != "EC2 throttled the account's calls, three attempts in a row: run penstock check again later" {
		t.Errorf("got %+v", r)
	}
}

// shortBackoff makes one-shot AWS calls retry at once for the test.
func shortBackoff(t *testing.T) {
	saved := awsconf.OneShotMaxBackoff
	awsconf.OneShotMaxBackoff = time.Millisecond
	t.Cleanup(func() { awsconf.OneShotMaxBackoff = saved })
}

// aclDenies agrees with evaluating every address and port one by one, on
// random rule sets: it reports a denial exactly when some packet is
// denied, and the traffic it reports is denied.
func TestACLDeniesMatchesPerPacketEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randPrefix := func(minBits int) netip.Prefix {
		bits := minBits + rng.IntN(33-minBits)
		a := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
		return netip.PrefixFrom(a, bits).Masked()
	}
	randPorts := func() portRange {
		lo := rng.IntN(40)
		return portRange{lo, lo + rng.IntN(24)}
	}
	// decide is EC2's evaluation of one packet.
	decide := func(rules []aclRule, a netip.Addr, port int) (allowed bool) {
		for _, r := range rules {
			if r.prefix.Contains(a) && r.ports.lo <= port && port <= r.ports.hi {
				return r.allow
			}
		}
		return false
	}
	for i := 0; i < 3000; i++ {
		var rules []aclRule
		for n := 1 + rng.IntN(6); n > 0; n-- {
			rules = append(rules, aclRule{number: 10 * (len(rules) + 1), allow: rng.IntN(3) > 0, prefix: randPrefix(20), ports: randPorts()})
		}
		remote, ports := randPrefix(22), randPorts()
		anyDenied := false
		for a := remote.Addr(); remote.Contains(a) && !anyDenied; a = a.Next() {
			for p := ports.lo; p <= ports.hi; p++ {
				if !decide(rules, a, p) {
					anyDenied = true
					break
				}
			}
		}
		d, denied := aclDenies(rules, remote, []portRange{ports})
		if denied != anyDenied {
			t.Fatalf("rules %+v, remote %s, ports %v: aclDenies says denied=%v (%+v), per packet %v", rules, remote, ports, denied, d, anyDenied)
		}
		if denied {
			// Every address of the reported range, on the reported ports,
			// is denied.
			for a := d.remote.Addr(); d.remote.Contains(a); a = a.Next() {
				for _, pr := range d.ports {
					for p := pr.lo; p <= pr.hi; p++ {
						if decide(rules, a, p) {
							t.Fatalf("rules %+v, remote %s, ports %v: reported %+v, but %s port %d is allowed", rules, remote, ports, d, a, p)
						}
					}
				}
			}
		}
	}
}
