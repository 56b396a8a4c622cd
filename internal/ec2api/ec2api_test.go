package ec2api

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	region = "eu-west-1"
	akid   = "AKIDEC2TEST"
	secret = "ec2-secret"
	sgA    = "sg-0123456789abcdef0"
	sgB    = "sg-0fedcba9876543210"
	plVPC  = "pl-0a1b2c3d4e5f60718"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{Region: region, AccessKeyID: akid, SecretAccessKey: secret, AccountID: "111122223333"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func client(s *Server, key, sec string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(key, sec, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

// describeAll makes the call of action op (one of the Describe actions) that
// asks for everything, as a dry run or not.
func describeAll(c *ec2.Client, op string, dryRun bool) error {
	ctx, dry := context.Background(), aws.Bool(dryRun)
	var err error
	switch op {
	case "DescribeSubnets":
		_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{DryRun: dry})
	case "DescribeRouteTables":
		_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{DryRun: dry})
	case "DescribeNetworkAcls":
		_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{DryRun: dry})
	case "DescribeNetworkInterfaces":
		_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{DryRun: dry})
	case "DescribeVpcPeeringConnections":
		_, err = c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{DryRun: dry})
	default:
		panic("describeAll: " + op)
	}
	return err
}

// testDeny checks Deny for action op: named with or without "ec2:", or by
// Deny() for every action, op's call (describeAll, a dry run or not) is
// refused with UnauthorizedOperation and the action's name, while
// otherOp's call still succeeds when only op is denied; after Allow, op's
// call succeeds. Refused calls count in Requests.
func testDeny(t *testing.T, s *Server, c *ec2.Client, op, otherOp string) {
	call := func(dryRun bool) error { return describeAll(c, op, dryRun) }
	other := func() error { return describeAll(c, otherOp, false) }
	t.Helper()
	denied := func(what string, err error) {
		t.Helper()
		code, msg := apiCode(t, err)
		if code != "UnauthorizedOperation" || !strings.Contains(msg, "is not authorized to perform: ec2:"+op) {
			t.Errorf("%s: %s: %s; want UnauthorizedOperation for ec2:%s", what, code, msg, op)
		}
	}
	before := s.Requests(op)
	s.Deny(op)
	denied("named without ec2:", call(false))
	denied("dry run", call(true))
	if err := other(); err != nil {
		t.Errorf("%s while only %s is denied: %v", otherOp, op, err)
	}
	s.Allow()
	if err := call(false); err != nil {
		t.Errorf("after Allow: %v", err)
	}
	s.Deny("ec2:" + op)
	denied("named with ec2:", call(false))
	s.Allow()
	s.Deny(otherOp)
	if err := call(false); err != nil {
		t.Errorf("%s while only %s is denied: %v", op, otherOp, err)
	}
	s.Allow()
	s.Deny()
	denied("every action denied", call(false))
	if n := s.Requests(op) - before; n != 6 {
		t.Errorf("Requests = %d, want 6 (refused calls count)", n)
	}
}

// filterCase is a Describe call by ids and filters, and the ids it must
// answer, in order.
type filterCase struct {
	name    string
	ids     []string
	filters []types.Filter
	want    []string
}

// testFilters makes the calls of cases with describe, which returns the
// ids of what was answered.
func testFilters(t *testing.T, cases []filterCase, describe func(ids []string, filters []types.Filter) ([]string, error)) {
	t.Helper()
	for _, tc := range cases {
		got, err := describe(tc.ids, tc.filters)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// wantError fails the test unless err is EC2's error code, with a message
// that holds each of parts.
func wantError(t *testing.T, what string, err error, code string, parts ...string) {
	t.Helper()
	got, msg := apiCode(t, err)
	ok := got == code
	for _, p := range parts {
		ok = ok && strings.Contains(msg, p)
	}
	if !ok {
		t.Errorf("%s: %s: %s; want %s with %q", what, got, msg, code, parts)
	}
}

// wantErrorMessage fails the test unless err is EC2's error code with
// exactly the message msg.
func wantErrorMessage(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if got, gotMsg := apiCode(t, err); got != code || gotMsg != msg {
		t.Errorf("%s: %s: %s; want %s: %s", what, got, gotMsg, code, msg)
	}
}

// apiCode returns the EC2 error code err carries, or "" with a test error.
func apiCode(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an EC2 API error", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func TestDescribeSecurityGroupsRules(t *testing.T) {
	s := start(t)
	s.AddGroup(SecurityGroup{ID: sgA, Name: "kafka-clients", VpcID: "vpc-0aaa1111bbbb22223",
		Ingress: []Permission{
			TCP(9092, 9098).ToGroups(sgA),
			TCP(22, 22).ToCIDRs("10.0.0.0/16", "2001:db8::/32"),
		},
		Egress: []Permission{
			DefaultEgress(),
			TCP(443, 443).ToPrefixLists(plVPC),
		},
	})
	s.AddGroup(SecurityGroup{ID: sgB})
	out, err := client(s, akid, secret).DescribeSecurityGroups(context.Background(),
		&ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("%d groups, want 1", len(out.SecurityGroups))
	}
	g := out.SecurityGroups[0]
	if aws.ToString(g.GroupId) != sgA || aws.ToString(g.GroupName) != "kafka-clients" || aws.ToString(g.VpcId) != "vpc-0aaa1111bbbb22223" ||
		aws.ToString(g.OwnerId) != "111122223333" ||
		aws.ToString(g.SecurityGroupArn) != "arn:aws:ec2:eu-west-1:111122223333:security-group/"+sgA {
		t.Errorf("group %+v", g)
	}
	if len(g.IpPermissions) != 2 || len(g.IpPermissionsEgress) != 2 {
		t.Fatalf("%d inbound and %d outbound rules, want 2 and 2", len(g.IpPermissions), len(g.IpPermissionsEgress))
	}
	self := g.IpPermissions[0]
	if aws.ToString(self.IpProtocol) != "tcp" || aws.ToInt32(self.FromPort) != 9092 || aws.ToInt32(self.ToPort) != 9098 ||
		len(self.UserIdGroupPairs) != 1 || aws.ToString(self.UserIdGroupPairs[0].GroupId) != sgA ||
		aws.ToString(self.UserIdGroupPairs[0].UserId) != "111122223333" || aws.ToString(self.UserIdGroupPairs[0].VpcId) != "vpc-0aaa1111bbbb22223" {
		t.Errorf("self-referencing rule %+v", self)
	}
	ssh := g.IpPermissions[1]
	if len(ssh.IpRanges) != 1 || aws.ToString(ssh.IpRanges[0].CidrIp) != "10.0.0.0/16" ||
		len(ssh.Ipv6Ranges) != 1 || aws.ToString(ssh.Ipv6Ranges[0].CidrIpv6) != "2001:db8::/32" {
		t.Errorf("CIDR rule %+v", ssh)
	}
	all := g.IpPermissionsEgress[0]
	if aws.ToString(all.IpProtocol) != "-1" || all.FromPort != nil || all.ToPort != nil ||
		len(all.IpRanges) != 1 || aws.ToString(all.IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("all-traffic rule %+v: want protocol -1 without ports to 0.0.0.0/0", all)
	}
	pl := g.IpPermissionsEgress[1]
	if len(pl.PrefixListIds) != 1 || aws.ToString(pl.PrefixListIds[0].PrefixListId) != plVPC {
		t.Errorf("prefix list rule %+v", pl)
	}
	if n := s.Requests("DescribeSecurityGroups"); n != 1 {
		t.Errorf("Requests = %d, want 1", n)
	}
}

func TestDescribeSecurityGroupsErrors(t *testing.T) {
	s := start(t)
	s.AddGroup(SecurityGroup{ID: sgA})
	c := client(s, akid, secret)
	ctx := context.Background()

	_, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA, sgB}})
	wantErrorMessage(t, "unknown group", err, "InvalidGroup.NotFound", "The security group '"+sgB+"' does not exist")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-nothex"}})
	wantError(t, "malformed id", err, "InvalidGroupId.Malformed")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}, MaxResults: aws.Int32(5)})
	wantError(t, "GroupIds with MaxResults", err, "InvalidParameterCombination")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("ip-permission.from-port"), Values: []string{"22"}}}})
	wantError(t, "unsupported filter", err, "InvalidParameterValue")

	// A permitted dry run says it would have succeeded; a denied action is
	// UnauthorizedOperation, naming the caller and the IAM action.
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}, DryRun: aws.Bool(true)})
	wantError(t, "dry run", err, "DryRunOperation")
	s.Deny(ActionDescribeSecurityGroups)
	for _, dry := range []bool{false, true} {
		_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}, DryRun: aws.Bool(dry)})
		code, msg := apiCode(t, err)
		if code != "UnauthorizedOperation" || !strings.Contains(msg, "arn:aws:iam::111122223333:user/penstock is not authorized to perform: ec2:DescribeSecurityGroups") {
			t.Errorf("denied (dry run %v): %s: %s", dry, code, msg)
		}
	}
	// Another action stays allowed.
	s.AddPrefixList(plVPC, "10.0.0.0/16")
	if _, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(plVPC)}); err != nil {
		t.Errorf("GetManagedPrefixListEntries while only DescribeSecurityGroups is denied: %v", err)
	}
	s.Allow()
	if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}}); err != nil {
		t.Errorf("after Allow: %v", err)
	}

	// Actions the endpoint does not serve.
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	wantError(t, "DescribeInstances", err, "InvalidAction")
}

func TestDescribeSecurityGroupsFiltersAndPages(t *testing.T) {
	s := start(t)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("sg-%017x", i+1)
		vpc := "vpc-0000000000000000a"
		if i%2 == 1 {
			vpc = "vpc-0000000000000000b"
		} else {
			want = append(want, id)
		}
		s.AddGroup(SecurityGroup{ID: id, Name: fmt.Sprintf("group-%d", i), VpcID: vpc})
	}
	c := client(s, akid, secret)
	ctx := context.Background()

	var got []string
	pages := 0
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range out.SecurityGroups {
			got = append(got, aws.ToString(g.GroupId))
		}
	}
	if pages != 2 || len(got) != 7 || !sort.StringsAreSorted(got) {
		t.Errorf("%d pages of %v, want 2 pages of the 7 groups in id order", pages, got)
	}

	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{"vpc-0000000000000000a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, g := range out.SecurityGroups {
		got = append(got, aws.ToString(g.GroupId))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("vpc-id filter: %v, want %v", got, want)
	}

	out, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"group-3"},
		Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"group-*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != fmt.Sprintf("sg-%017x", 4) {
		t.Errorf("by name: %+v", out.SecurityGroups)
	}
}

func TestEC2GetManagedPrefixListEntries(t *testing.T) {
	s := start(t)
	cidrs := []string{"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "10.5.0.0/16", "2001:db8::/32"}
	s.AddPrefixList(plVPC, cidrs...)
	c := client(s, akid, secret)
	ctx := context.Background()

	var got []string
	p := ec2.NewGetManagedPrefixListEntriesPaginator(c, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(plVPC), MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Entries {
			got = append(got, aws.ToString(e.Cidr))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(cidrs) {
		t.Errorf("entries %v, want %v", got, cidrs)
	}
	_, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String("pl-00000000")})
	wantError(t, "unknown prefix list", err, "InvalidPrefixListID.NotFound", "pl-00000000")
}

func TestEC2SignatureFailures(t *testing.T) {
	s := start(t)
	s.AddGroup(SecurityGroup{ID: sgA})
	ctx := context.Background()
	in := &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}}

	_, err := client(s, akid, "wrong").DescribeSecurityGroups(ctx, in)
	wantError(t, "wrong secret", err, "AuthFailure", "signature mismatch")
	_, err = client(s, "AKIDOTHER", secret).DescribeSecurityGroups(ctx, in)
	wantError(t, "unknown key", err, "AuthFailure", `unknown access key "AKIDOTHER"`)
	other := ec2.New(ec2.Options{Region: "us-west-2", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	_, err = other.DescribeSecurityGroups(ctx, in)
	wantError(t, "wrong region", err, "AuthFailure", "wrong region us-west-2")
	if n := s.SignatureFailures(); n != 3 {
		t.Errorf("SignatureFailures = %d, want 3", n)
	}
	if n := s.Requests("DescribeSecurityGroups"); n != 0 {
		t.Errorf("Requests = %d, want 0 (refused requests are not counted)", n)
	}
	if _, err := client(s, akid, secret).DescribeSecurityGroups(ctx, in); err != nil {
		t.Errorf("right credentials: %v", err)
	}
}
