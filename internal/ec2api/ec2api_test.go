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

// testDeny checks Deny for action op: named with or without "ec2:", or by
// Deny() for every action, call (a dry run or not) is refused with
// UnauthorizedOperation and the action's name, while otherOp's call
// (other) still succeeds when only op is denied; after Allow, call
// succeeds. Refused calls count in Requests.
func testDeny(t *testing.T, s *Server, op, otherOp string, call func(dryRun bool) error, other func() error) {
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
	if code, msg := apiCode(t, err); code != "InvalidGroup.NotFound" || msg != "The security group '"+sgB+"' does not exist" {
		t.Errorf("unknown group: %s: %s", code, msg)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-nothex"}})
	if code, _ := apiCode(t, err); code != "InvalidGroupId.Malformed" {
		t.Errorf("malformed id: %s, want InvalidGroupId.Malformed", code)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}, MaxResults: aws.Int32(5)})
	if code, _ := apiCode(t, err); code != "InvalidParameterCombination" {
		t.Errorf("GroupIds with MaxResults: %s, want InvalidParameterCombination", code)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("ip-permission.from-port"), Values: []string{"22"}}}})
	if code, _ := apiCode(t, err); code != "InvalidParameterValue" {
		t.Errorf("unsupported filter: %s, want InvalidParameterValue", code)
	}

	// A permitted dry run says it would have succeeded; a denied action is
	// UnauthorizedOperation, naming the caller and the IAM action.
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}, DryRun: aws.Bool(true)})
	if code, _ := apiCode(t, err); code != "DryRunOperation" {
		t.Errorf("dry run: %s, want DryRunOperation", code)
	}
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
	if code, _ := apiCode(t, err); code != "InvalidAction" {
		t.Errorf("DescribeInstances: %s, want InvalidAction", code)
	}
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
	if code, msg := apiCode(t, err); code != "InvalidPrefixListID.NotFound" || !strings.Contains(msg, "pl-00000000") {
		t.Errorf("unknown prefix list: %s: %s", code, msg)
	}
}

func TestEC2SignatureFailures(t *testing.T) {
	s := start(t)
	s.AddGroup(SecurityGroup{ID: sgA})
	ctx := context.Background()
	in := &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgA}}

	_, err := client(s, akid, "wrong").DescribeSecurityGroups(ctx, in)
	if code, msg := apiCode(t, err); code != "AuthFailure" || !strings.Contains(msg, "signature mismatch") {
		t.Errorf("wrong secret: %s: %s", code, msg)
	}
	_, err = client(s, "AKIDOTHER", secret).DescribeSecurityGroups(ctx, in)
	if code, msg := apiCode(t, err); code != "AuthFailure" || !strings.Contains(msg, `unknown access key "AKIDOTHER"`) {
		t.Errorf("unknown key: %s: %s", code, msg)
	}
	other := ec2.New(ec2.Options{Region: "us-west-2", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	_, err = other.DescribeSecurityGroups(ctx, in)
	if code, msg := apiCode(t, err); code != "AuthFailure" || !strings.Contains(msg, "wrong region us-west-2") {
		t.Errorf("wrong region: %s: %s", code, msg)
	}
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
