package ec2api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	aclDefA   = "acl-0a000000000000000"
	aclPrivA  = "acl-0a000000000000001"
	aclSpareA = "acl-0a000000000000002"
	aclDefB   = "acl-0b000000000000000"
)

// acls is network's two VPCs with network ACLs: in A, a default ACL that
// lists no subnet (so serves A3), a private ACL associated with A2 and A1
// holding rules of every kind, and a spare ACL associated with nothing;
// in B, a default ACL without rules, serving B1.
func acls(t *testing.T) *Server {
	s := network(t)
	allowAll := []ACLEntry{
		{RuleNumber: 100, Protocol: "-1", CIDR: "0.0.0.0/0"},
		{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
	}
	s.AddNetworkACL(NetworkACL{ID: aclDefA, VpcID: vpcA, Default: true, Entries: allowAll})
	s.AddNetworkACL(NetworkACL{ID: aclPrivA, VpcID: vpcA, Subnets: []string{subnetA2, subnetA1}, Entries: []ACLEntry{
		{RuleNumber: 200, Egress: true, Protocol: "6", Deny: true, CIDR: "10.0.0.0/8", PortFrom: 22, PortTo: 22},
		{RuleNumber: 120, Protocol: "17", CIDR: "10.0.0.0/16", PortFrom: 53, PortTo: 53},
		{RuleNumber: 100, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 443, PortTo: 443},
		{RuleNumber: 110, Protocol: "6", CIDR: "2001:db8::/32", PortFrom: 1024, PortTo: 65535},
		{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "::/0"},
		{RuleNumber: 130, Protocol: "1", Deny: true, CIDR: "192.168.0.0/16"},
	}})
	s.AddNetworkACL(NetworkACL{ID: aclSpareA, VpcID: vpcA, Entries: allowAll})
	s.AddNetworkACL(NetworkACL{ID: aclDefB, VpcID: vpcB, Default: true})
	return s
}

func aclIDsOf(out *ec2.DescribeNetworkAclsOutput) []string {
	var ids []string
	for _, acl := range out.NetworkAcls {
		ids = append(ids, aws.ToString(acl.NetworkAclId))
	}
	return ids
}

// entries is how the tests write an ACL's rules: "out 200 deny 6
// 10.0.0.0/8 22-22", "in 130 deny 1 192.168.0.0/16" (no port range).
func entries(acl types.NetworkAcl) []string {
	var out []string
	for _, e := range acl.Entries {
		dir := "in"
		if aws.ToBool(e.Egress) {
			dir = "out"
		}
		s := fmt.Sprintf("%s %d %s %s %s%s", dir, aws.ToInt32(e.RuleNumber), e.RuleAction, aws.ToString(e.Protocol),
			aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock))
		if e.PortRange != nil {
			s += fmt.Sprintf(" %d-%d", aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To))
		}
		out = append(out, s)
	}
	return out
}

// associations are the subnets of acl's associations, checking that each
// names acl and has a well-formed id.
func associations(t *testing.T, acl types.NetworkAcl) []string {
	t.Helper()
	assocRe := regexp.MustCompile(`^aclassoc-[0-9a-f]{17}$`)
	var subnets []string
	for _, a := range acl.Associations {
		if !assocRe.MatchString(aws.ToString(a.NetworkAclAssociationId)) || aws.ToString(a.NetworkAclId) != aws.ToString(acl.NetworkAclId) {
			t.Errorf("%s: association %+v", aws.ToString(acl.NetworkAclId), a)
		}
		subnets = append(subnets, aws.ToString(a.SubnetId))
	}
	return subnets
}

// recorder is an HTTP client that keeps the last response body.
type recorder struct {
	mu   sync.Mutex
	body []byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := awsconf.HTTPClient().Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.body = b
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.body)
}

func TestDescribeNetworkAcls(t *testing.T) {
	s := acls(t)
	rec := &recorder{}
	opts := client(s, akid, secret).Options()
	opts.HTTPClient = rec
	c := ec2.New(opts)
	ctx := context.Background()

	out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclPrivA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkAcls) != 1 {
		t.Fatalf("%d ACLs, want 1", len(out.NetworkAcls))
	}
	priv := out.NetworkAcls[0]
	if aws.ToString(priv.NetworkAclId) != aclPrivA || aws.ToString(priv.VpcId) != vpcA ||
		aws.ToString(priv.OwnerId) != "111122223333" || priv.IsDefault == nil || *priv.IsDefault {
		t.Errorf("ACL %+v", priv)
	}
	if out.NextToken != nil {
		t.Errorf("NextToken %q, want none", *out.NextToken)
	}
	// Outbound rules then inbound ones, each by number, ending with the
	// "*" rules, IPv6 ones too as the ACL has IPv6 rules; port ranges for
	// TCP and UDP only.
	want := []string{
		"out 100 allow -1 ::/0",
		"out 200 deny 6 10.0.0.0/8 22-22",
		"out 32767 deny -1 0.0.0.0/0",
		"out 32768 deny -1 ::/0",
		"in 100 allow 6 0.0.0.0/0 443-443",
		"in 110 allow 6 2001:db8::/32 1024-65535",
		"in 120 allow 17 10.0.0.0/16 53-53",
		"in 130 deny 1 192.168.0.0/16",
		"in 32767 deny -1 0.0.0.0/0",
		"in 32768 deny -1 ::/0",
	}
	if got := entries(priv); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range priv.Entries {
		v6 := strings.Contains(aws.ToString(e.CidrBlock)+aws.ToString(e.Ipv6CidrBlock), ":")
		if v6 && e.CidrBlock != nil || !v6 && e.Ipv6CidrBlock != nil {
			t.Errorf("rule %d: cidrBlock %v, ipv6CidrBlock %v: want one, of the address's family",
				aws.ToInt32(e.RuleNumber), aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock))
		}
	}
	// The explicit associations, in the order the ACL lists them.
	if got := associations(t, priv); fmt.Sprint(got) != fmt.Sprint([]string{subnetA2, subnetA1}) {
		t.Errorf("associations %v, want [%s %s]", got, subnetA2, subnetA1)
	}
	if len(priv.Associations) == 2 && aws.ToString(priv.Associations[0].NetworkAclAssociationId) == aws.ToString(priv.Associations[1].NetworkAclAssociationId) {
		t.Errorf("both associations are %s", aws.ToString(priv.Associations[0].NetworkAclAssociationId))
	}
	// EC2's element names, matched exactly (the SDK ignores their case).
	for _, el := range []string{"<DescribeNetworkAclsResponse ", "<networkAclSet><item><networkAclId>" + aclPrivA + "</networkAclId>",
		"<default>false</default>", "<entrySet><item><ruleNumber>100</ruleNumber><protocol>-1</protocol><ruleAction>allow</ruleAction><egress>true</egress><ipv6CidrBlock>::/0</ipv6CidrBlock></item>",
		"<portRange><from>22</from><to>22</to></portRange>", "<associationSet><item><networkAclAssociationId>aclassoc-",
		"<subnetId>" + subnetA2 + "</subnetId>", "<tagSet></tagSet>", "<ownerId>111122223333</ownerId>"} {
		if !strings.Contains(rec.last(), el) {
			t.Errorf("answer lacks %s:\n%s", el, rec.last())
		}
	}

	// Default ACLs: A's serves A3, the one subnet of A no ACL lists, and
	// only it; B's, with no rules of its own, has only the IPv4 "*" rules
	// and serves B1.
	out, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("default", "true")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aclIDsOf(out); fmt.Sprint(got) != fmt.Sprint([]string{aclDefA, aclDefB}) {
		t.Fatalf("default ACLs %v, want [%s %s]", got, aclDefA, aclDefB)
	}
	defA, defB := out.NetworkAcls[0], out.NetworkAcls[1]
	if !aws.ToBool(defA.IsDefault) || !aws.ToBool(defB.IsDefault) || aws.ToString(defB.VpcId) != vpcB {
		t.Errorf("default ACLs %+v, %+v", defA, defB)
	}
	if got := associations(t, defA); fmt.Sprint(got) != fmt.Sprint([]string{subnetA3}) {
		t.Errorf("%s associations %v, want [%s] (A1 and A2 are %s's, B1 is in another VPC)", aclDefA, got, subnetA3, aclPrivA)
	}
	if got := associations(t, defB); fmt.Sprint(got) != fmt.Sprint([]string{subnetB1}) {
		t.Errorf("%s associations %v, want [%s]", aclDefB, got, subnetB1)
	}
	wantA := []string{"out 100 allow -1 0.0.0.0/0", "out 32767 deny -1 0.0.0.0/0", "in 100 allow -1 0.0.0.0/0", "in 32767 deny -1 0.0.0.0/0"}
	if got := entries(defA); fmt.Sprint(got) != fmt.Sprint(wantA) {
		t.Errorf("%s entries %v, want %v", aclDefA, got, wantA)
	}
	wantB := []string{"out 32767 deny -1 0.0.0.0/0", "in 32767 deny -1 0.0.0.0/0"}
	if got := entries(defB); fmt.Sprint(got) != fmt.Sprint(wantB) {
		t.Errorf("%s entries %v, want %v", aclDefB, got, wantB)
	}

	// A subnet added later is served by its VPC's default ACL until an
	// ACL lists it; association ids stay the same from one call to the
	// next.
	const subnetA4 = "subnet-0a000000000000004"
	s.AddSubnet(Subnet{ID: subnetA4, VpcID: vpcA, CIDR: "10.0.4.0/24"})
	again, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclDefA, aclPrivA}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aclIDsOf(again); fmt.Sprint(got) != fmt.Sprint([]string{aclDefA, aclPrivA}) {
		t.Fatalf("by id: %v", got)
	}
	if got := associations(t, again.NetworkAcls[0]); fmt.Sprint(got) != fmt.Sprint([]string{subnetA3, subnetA4}) {
		t.Errorf("%s associations %v, want [%s %s]", aclDefA, got, subnetA3, subnetA4)
	}
	if a, b := aws.ToString(again.NetworkAcls[0].Associations[0].NetworkAclAssociationId), aws.ToString(defA.Associations[0].NetworkAclAssociationId); a != b {
		t.Errorf("implicit association id %s, then %s", b, a)
	}
	if a, b := aws.ToString(again.NetworkAcls[1].Associations[1].NetworkAclAssociationId), aws.ToString(priv.Associations[1].NetworkAclAssociationId); a != b {
		t.Errorf("association id %s, then %s", b, a)
	}
	s.AddNetworkACL(NetworkACL{ID: aclSpareA, VpcID: vpcA, Subnets: []string{subnetA4}})
	again, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclDefA, aclSpareA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.NetworkAcls) != 2 {
		t.Fatalf("by id: %v", aclIDsOf(again))
	}
	if got := associations(t, again.NetworkAcls[0]); fmt.Sprint(got) != fmt.Sprint([]string{subnetA3}) {
		t.Errorf("%s associations once %s lists %s: %v, want [%s]", aclDefA, aclSpareA, subnetA4, got, subnetA3)
	}
	if got := associations(t, again.NetworkAcls[1]); fmt.Sprint(got) != fmt.Sprint([]string{subnetA4}) {
		t.Errorf("%s associations %v, want [%s]", aclSpareA, got, subnetA4)
	}
	if n := s.Requests("DescribeNetworkAcls"); n != 4 {
		t.Errorf("Requests = %d, want 4", n)
	}
}

func TestDescribeNetworkAclsFilters(t *testing.T) {
	s := acls(t)
	c := client(s, akid, secret)
	ctx := context.Background()

	testFilters(t, []filterCase{
		{"none", nil, nil, []string{aclDefA, aclPrivA, aclSpareA, aclDefB}},
		{"network-acl-id", nil, []types.Filter{filter("network-acl-id", aclDefB, aclSpareA)}, []string{aclSpareA, aclDefB}},
		{"network-acl-id wildcard", nil, []types.Filter{filter("network-acl-id", "acl-0a*")}, []string{aclDefA, aclPrivA, aclSpareA}},
		{"vpc-id", nil, []types.Filter{filter("vpc-id", vpcB)}, []string{aclDefB}},
		{"default=false", nil, []types.Filter{filter("default", "false")}, []string{aclPrivA, aclSpareA}},
		{"default=true", nil, []types.Filter{filter("default", "true")}, []string{aclDefA, aclDefB}},
		// A subnet no ACL lists is found through its VPC's default ACL.
		{"association.subnet-id implicit", nil, []types.Filter{filter("association.subnet-id", subnetA3)}, []string{aclDefA}},
		{"association.subnet-id explicit", nil, []types.Filter{filter("association.subnet-id", subnetA1)}, []string{aclPrivA}},
		{"association.subnet-id other VPC", nil, []types.Filter{filter("association.subnet-id", subnetB1)}, []string{aclDefB}},
		{"association.subnet-id ORed", nil, []types.Filter{filter("association.subnet-id", subnetA2, subnetB1)}, []string{aclPrivA, aclDefB}},
		{"association.subnet-id unknown", nil, []types.Filter{filter("association.subnet-id", "subnet-0f000000000000001")}, nil},
		// An ACL without associations has no association.network-acl-id.
		{"association.network-acl-id", nil, []types.Filter{filter("association.network-acl-id", aclSpareA, aclDefB)}, []string{aclDefB}},
		{"association.network-acl-id wildcard", nil, []types.Filter{filter("association.network-acl-id", "acl-*")}, []string{aclDefA, aclPrivA, aclDefB}},
		// Filters are ANDed, and with the ids.
		{"vpc-id and default", nil, []types.Filter{filter("vpc-id", vpcA), filter("default", "true")}, []string{aclDefA}},
		{"vpc-id and association.subnet-id", nil, []types.Filter{filter("vpc-id", vpcA), filter("association.subnet-id", subnetB1)}, nil},
		{"ids and default", []string{aclDefB, aclPrivA}, []types.Filter{filter("default", "false")}, []string{aclPrivA}},
	}, func(ids []string, filters []types.Filter) ([]string, error) {
		out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: ids, Filters: filters})
		if err != nil {
			return nil, err
		}
		return aclIDsOf(out), nil
	})
}

func TestDescribeNetworkAclsErrors(t *testing.T) {
	s := acls(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	const unknown, unknown2 = "acl-0f000000000000001", "acl-0f000000000000002"

	_, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclDefA, unknown}})
	wantErrorMessage(t, "unknown ACL", err, "InvalidNetworkAclID.NotFound", "The networkAcl ID '"+unknown+"' does not exist")
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{unknown, unknown2}})
	wantErrorMessage(t, "unknown ACLs", err, "InvalidNetworkAclID.NotFound", "The networkAcl IDs '"+unknown+", "+unknown2+"' do not exist")
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-x"}})
	wantError(t, "malformed id", err, "InvalidNetworkAclId.Malformed")
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("entry.cidr", "0.0.0.0/0")}})
	wantError(t, "unsupported filter", err, "InvalidParameterValue", "entry.cidr")
	for _, n := range []int32{4, 1001} {
		_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(n)})
		wantError(t, fmt.Sprintf("MaxResults %d", n), err, "InvalidParameterValue", "between 5 and 1000")
	}
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{DryRun: aws.Bool(true)})
	wantError(t, "dry run", err, "DryRunOperation")
}

func TestDescribeNetworkAclsDenied(t *testing.T) {
	s := acls(t)
	c := client(s, akid, secret)
	testDeny(t, s, c, "DescribeNetworkAcls", "DescribeRouteTables")
}

func TestDescribeNetworkAclsPages(t *testing.T) {
	s := start(t)
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("acl-%017x", 12-i)
		ids = append(ids, id)
		s.AddNetworkACL(NetworkACL{ID: id, Default: i == 0})
	}
	sort.Strings(ids)
	c := client(s, akid, secret)

	pages, got := allPages(t, ec2.NewDescribeNetworkAclsPaginator(c, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(5)}), aclIDsOf)
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, got, ids)
	}
	pages, got = allPages(t, ec2.NewDescribeNetworkAclsPaginator(c, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(5),
		Filters: []types.Filter{filter("default", "false")}}), aclIDsOf)
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(ids[:11]) {
		t.Errorf("default=false: %d pages of %v, want 3 pages of %v", pages, got, ids[:11])
	}
	_, err := c.DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(5), NextToken: aws.String("13")})
	wantError(t, "token past the end", err, "InvalidPaginationToken")
}

func TestAddNetworkACLPanics(t *testing.T) {
	s := acls(t)
	rule := func(e ACLEntry) NetworkACL { return NetworkACL{ID: aclSpareA, VpcID: vpcA, Entries: []ACLEntry{e}} }
	for _, c := range []struct {
		name string
		acl  NetworkACL
		want string
	}{
		{"ACL id", NetworkACL{ID: "acl-1"}, "not a network ACL id"},
		{"route table id", NetworkACL{ID: rtbMain}, "not a network ACL id"},
		{"VPC id", NetworkACL{ID: aclSpareA, VpcID: "vpc-a"}, "not a VPC id"},
		{"subnet id", NetworkACL{ID: aclSpareA, Subnets: []string{"subnet-1"}}, "not a subnet id"},
		{"subnet twice", NetworkACL{ID: aclSpareA, VpcID: vpcA, Subnets: []string{subnetA3, subnetA3}}, "listed twice"},
		{"subnet in two ACLs", NetworkACL{ID: aclSpareA, VpcID: vpcA, Subnets: []string{subnetA1}}, "subnet " + subnetA1 + " is already associated with " + aclPrivA},
		{"second default ACL", NetworkACL{ID: aclSpareA, VpcID: vpcA, Default: true}, aclDefA + " is already the default network ACL of " + vpcA},
		{"rule number 0", rule(ACLEntry{RuleNumber: 0, Protocol: "-1", CIDR: "0.0.0.0/0"}), "rule number 0 is not in 1..32766"},
		{"rule number 32767", rule(ACLEntry{RuleNumber: 32767, Protocol: "-1", CIDR: "0.0.0.0/0"}), "rule number 32767 is not in 1..32766"},
		{"duplicate rule", NetworkACL{ID: aclSpareA, Entries: []ACLEntry{
			{RuleNumber: 100, Protocol: "-1", CIDR: "0.0.0.0/0"},
			{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
			{RuleNumber: 100, Protocol: "6", CIDR: "10.0.0.0/8", PortFrom: 1, PortTo: 2},
		}}, "entry 2: two inbound rules numbered 100"},
		{"malformed CIDR", rule(ACLEntry{RuleNumber: 1, Protocol: "-1", CIDR: "10.0.0.0"}), "not a CIDR block"},
		{"host bits", rule(ACLEntry{RuleNumber: 1, Protocol: "-1", CIDR: "10.0.0.1/8"}), "not a CIDR block"},
		{"no CIDR", rule(ACLEntry{RuleNumber: 1, Protocol: "-1"}), "not a CIDR block"},
		{"protocol name", rule(ACLEntry{RuleNumber: 1, Protocol: "tcp", CIDR: "0.0.0.0/0", PortFrom: 1, PortTo: 2}), `protocol "tcp"`},
		{"protocol 256", rule(ACLEntry{RuleNumber: 1, Protocol: "256", CIDR: "0.0.0.0/0"}), `protocol "256"`},
		{"protocol -2", rule(ACLEntry{RuleNumber: 1, Protocol: "-2", CIDR: "0.0.0.0/0"}), `protocol "-2"`},
		{"protocol 06", rule(ACLEntry{RuleNumber: 1, Protocol: "06", CIDR: "0.0.0.0/0", PortFrom: 1, PortTo: 2}), `protocol "06"`},
		{"no protocol", rule(ACLEntry{RuleNumber: 1, CIDR: "0.0.0.0/0"}), `protocol ""`},
		{"TCP without ports", rule(ACLEntry{RuleNumber: 1, Protocol: "6", CIDR: "0.0.0.0/0"}), "protocol 6 without a port range"},
		{"UDP ports reversed", rule(ACLEntry{RuleNumber: 1, Protocol: "17", CIDR: "0.0.0.0/0", PortFrom: 53, PortTo: 52}), "ports 53..52 are not a port range"},
		{"TCP port too high", rule(ACLEntry{RuleNumber: 1, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 1, PortTo: 65536}), "ports 1..65536 are not a port range"},
		{"TCP port negative", rule(ACLEntry{RuleNumber: 1, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: -1, PortTo: 5}), "ports -1..5 are not a port range"},
		{"all traffic with ports", rule(ACLEntry{RuleNumber: 1, Protocol: "-1", CIDR: "0.0.0.0/0", PortFrom: 0, PortTo: 80}), "ports 0..80 for protocol -1"},
		{"ICMP with ports", rule(ACLEntry{RuleNumber: 1, Protocol: "1", CIDR: "0.0.0.0/0", PortFrom: 8, PortTo: 8}), "ports 8..8 for protocol 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Errorf("panic %v, want one saying %q", r, c.want)
				}
			}()
			s.AddNetworkACL(c.acl)
		})
	}
	// None of the refused ACLs was kept: the spare one is as acls added it.
	out, err := client(s, akid, secret).DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclSpareA}})
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(out.NetworkAcls[0]); len(got) != 4 || len(out.NetworkAcls[0].Associations) != 0 {
		t.Errorf("%s after the refused replacements: entries %v, %d associations", aclSpareA, got, len(out.NetworkAcls[0].Associations))
	}
	// Valid edges: rule 32766, protocol 0 and 255, ports 0 and 65535, an
	// IPv6 rule; replacing an ACL keeps its own default role and subnets.
	s.AddNetworkACL(NetworkACL{ID: aclSpareA, VpcID: vpcA, Entries: []ACLEntry{
		{RuleNumber: 32766, Protocol: "0", CIDR: "::/0"},
		{RuleNumber: 1, Protocol: "255", CIDR: "0.0.0.0/0"},
		{RuleNumber: 1, Egress: true, Protocol: "6", CIDR: "0.0.0.0/0", PortFrom: 0, PortTo: 65535},
	}})
	s.AddNetworkACL(NetworkACL{ID: aclPrivA, VpcID: vpcA, Subnets: []string{subnetA1}})
	s.AddNetworkACL(NetworkACL{ID: aclDefA, VpcID: vpcA, Default: true, Subnets: []string{subnetA2}})
}
