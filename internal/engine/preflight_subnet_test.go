package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/internal/ec2api"
)

const (
	vpcMain   = "vpc-0a0a0a0a0a0a0a0a0"
	subnetESM = "subnet-0123456789abcdef0" // the subnet vpcPipeline lists
	rtbMain   = "rtb-0a1a1a1a1a1a1a1a1"
	rtbOwn    = "rtb-0b2b2b2b2b2b2b2b2"
)

// vpcPublicHosts is vpcHosts with the AWS endpoints resolving to public
// addresses: no VPC endpoints, so the subnets need a route out.
var vpcPublicHosts = map[string][]string{
	"b-1.kafka.internal":                     {"10.0.1.17"},
	"b-2.kafka.internal":                     {"10.0.2.9"},
	"sts.eu-west-1.amazonaws.com":            {"52.94.0.10"},
	"lambda.eu-west-1.amazonaws.com":         {"52.94.0.11"},
	"secretsmanager.eu-west-1.amazonaws.com": {"52.94.0.12"},
}

// subnetSetup is an EC2 endpoint holding the ESM's group (in vpcMain,
// open as documented), the listed subnet in vpcMain and a main route
// table with the given routes.
func subnetSetup(t *testing.T, hosts map[string][]string, main ...ec2api.Route) *ec2api.Server {
	t.Helper()
	s := startEC2(t)
	fakeVPCNet(t, hosts, vpcSource)
	s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: vpcMain,
		Ingress: []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM)},
		Egress:  []ec2api.Permission{ec2api.TCP(9096, 9096).ToGroups(sgESM), ec2api.TCP(443, 443).ToCIDRs("0.0.0.0/0")}})
	s.AddSubnet(ec2api.Subnet{ID: subnetESM, VpcID: vpcMain, CIDR: "10.0.3.0/24", AvailabilityZone: "eu-west-1a"})
	routes := append([]ec2api.Route{{Destination: "10.0.0.0/16", GatewayID: "local"}}, main...)
	s.AddRouteTable(ec2api.RouteTable{ID: rtbMain, VpcID: vpcMain, Main: true, Routes: routes})
	return s
}

func subnetChecks(t *testing.T) []CheckResult {
	t.Helper()
	f, pc := vpcPipeline(t, sgESM)
	return only(checkSubnet, vpcChecks(context.Background(), f, pc, vpcBrokers))
}

// The subnet exists in the groups' VPC and its route table leads to the
// AWS APIs: through a NAT gateway, through VPC endpoints (private DNS,
// served by the local route), or through a transit gateway or NAT instance.
func TestVPCSubnetsRouteToAWSAPIs(t *testing.T) {
	exists := CheckResult{Pipeline: "orders", Check: "subnet", Target: subnetESM, Status: CheckOK,
		Detail: "exists in " + vpcMain + ", eu-west-1a, 10.0.3.0/24"}
	route := subnetESM + " route to AWS APIs"
	for _, tc := range []struct {
		name   string
		hosts  map[string][]string
		routes []ec2api.Route
		own    bool // the routes are in a table associated with the subnet
		detail string
	}{
		{"NAT gateway in the main table", vpcPublicHosts, []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: "nat-0123456789abcdef0"}}, false,
			"0.0.0.0/0 through the NAT gateway nat-0123456789abcdef0 (" + rtbMain + ", the main route table of " + vpcMain + ")"},
		{"NAT gateway in the subnet's own table", vpcPublicHosts, []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: "nat-0123456789abcdef0"}}, true,
			"0.0.0.0/0 through the NAT gateway nat-0123456789abcdef0 (" + rtbOwn + ", associated with " + subnetESM + ")"},
		{"VPC endpoints", vpcHosts, nil, false,
			"sts.eu-west-1.amazonaws.com (10.0.5.10), lambda.eu-west-1.amazonaws.com (10.0.5.11), secretsmanager.eu-west-1.amazonaws.com (10.0.5.12, 10.0.6.12) " +
				"resolve to private addresses (VPC endpoints), served by the local route of " + rtbMain + " (the main route table of " + vpcMain + ")"},
		{"transit gateway", vpcPublicHosts, []ec2api.Route{{Destination: "0.0.0.0/0", TransitGatewayID: "tgw-0123456789abcdef0"}}, false,
			"0.0.0.0/0 through tgw-0123456789abcdef0 (" + rtbMain + ", the main route table of " + vpcMain + "), which must lead on to the internet through NAT"},
		{"NAT instance", vpcPublicHosts, []ec2api.Route{{Destination: "0.0.0.0/0", InstanceID: "i-0123456789abcdef0", NetworkInterfaceID: "eni-0123456789abcdef0"}}, false,
			"0.0.0.0/0 through i-0123456789abcdef0 (" + rtbMain + ", the main route table of " + vpcMain + "), which must lead on to the internet through NAT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s *ec2api.Server
			if tc.own {
				// The main table has no way out: the subnet's own table
				// must be the one read.
				s = subnetSetup(t, tc.hosts)
				s.AddRouteTable(ec2api.RouteTable{ID: rtbOwn, VpcID: vpcMain, Subnets: []string{subnetESM},
					Routes: append([]ec2api.Route{{Destination: "10.0.0.0/16", GatewayID: "local"}}, tc.routes...)})
			} else {
				s = subnetSetup(t, tc.hosts, tc.routes...)
			}
			got := subnetChecks(t)
			rt := rtbMain + " (the main route table of " + vpcMain + ")"
			if tc.own {
				rt = rtbOwn + " (associated with " + subnetESM + ")"
			}
			want := []CheckResult{exists, {Pipeline: "orders", Check: "subnet", Target: route, Status: CheckOK, Detail: tc.detail},
				{Pipeline: "orders", Check: "subnet", Target: subnetESM + " route to brokers", Status: CheckOK,
					Detail: rt + ": 10.0.1.17, 10.0.2.9 by the local route 10.0.0.0/16"}}
			sameResults(t, got, want)
			if n := s.Requests("DescribeSubnets"); n != 1 {
				t.Errorf("%d DescribeSubnets calls, want 1", n)
			}
		})
	}
}

// Subnets that do not exist, that are in another VPC, or whose route table
// cannot take the event source to the AWS APIs fail, each with the fix.
func TestVPCSubnetsFailures(t *testing.T) {
	route := subnetESM + " route to AWS APIs"
	natFix := "route 0.0.0.0/0 of " + rtbMain + " to a NAT gateway (in a public subnet), or create VPC endpoints (private DNS enabled) of " +
		"sts.eu-west-1.amazonaws.com, lambda.eu-west-1.amazonaws.com, secretsmanager.eu-west-1.amazonaws.com"
	t.Run("internet gateway only", func(t *testing.T) {
		subnetSetup(t, vpcPublicHosts, ec2api.Route{Destination: "0.0.0.0/0", GatewayID: "igw-0123456789abcdef0"})
		want := CheckResult{Pipeline: "orders", Check: "subnet", Target: route, Status: CheckFail, Error: resultAWSUnreachable,
			Detail: rtbMain + " (the main route table of " + vpcMain + ") sends 0.0.0.0/0 to the internet gateway igw-0123456789abcdef0, " +
				"which the event source's network interfaces cannot use: they have no public addresses",
			Fix: natFix}
		sameResult(t, subnetChecks(t), want)
	})
	t.Run("no default route", func(t *testing.T) {
		subnetSetup(t, vpcPublicHosts)
		want := CheckResult{Pipeline: "orders", Check: "subnet", Target: route, Status: CheckFail, Error: resultAWSUnreachable,
			Detail: rtbMain + " (the main route table of " + vpcMain + ") has no default route (0.0.0.0/0), and sts.eu-west-1.amazonaws.com (52.94.0.10), " +
				"lambda.eu-west-1.amazonaws.com (52.94.0.11), secretsmanager.eu-west-1.amazonaws.com (52.94.0.12) resolve to public addresses",
			Fix: natFix}
		sameResult(t, subnetChecks(t), want)
	})
	t.Run("virtual private gateway", func(t *testing.T) {
		subnetSetup(t, vpcPublicHosts, ec2api.Route{Destination: "0.0.0.0/0", GatewayID: "vgw-0123456789abcdef0"})
		r := result(t, subnetChecks(t), route)
		if r.Status != CheckSkip || r.Detail != rtbMain+" (the main route table of "+vpcMain+") sends 0.0.0.0/0 to vgw-0123456789abcdef0, which Penstock cannot follow" ||
			r.Fix != "make sure vgw-0123456789abcdef0 leads to the AWS APIs, or "+natFix {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("unknown subnet", func(t *testing.T) {
		s := startEC2(t)
		fakeVPCNet(t, vpcPublicHosts, vpcSource)
		s.AddGroup(ec2api.SecurityGroup{ID: sgESM, VpcID: vpcMain})
		got := subnetChecks(t)
		if len(got) != 1 {
			t.Fatalf("got:\n%s", formatResults(got))
		}
		r := got[0]
		if r.Target != subnetESM || r.Status != CheckFail || r.Error != "ESM_CONFIG_NOT_VALID" ||
			r.Detail != "InvalidSubnetID.NotFound: The subnet ID '"+subnetESM+"' does not exist" ||
			!strings.HasPrefix(r.Fix, subnetESM+" does not exist in eu-west-1 for these credentials' account: fix the id in source.kafka.vpc.subnets (") ||
			!strings.Contains(r.Fix, "pipelines.yaml:12)") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("another VPC", func(t *testing.T) {
		s := subnetSetup(t, vpcPublicHosts, ec2api.Route{Destination: "0.0.0.0/0", NatGatewayID: "nat-0123456789abcdef0"})
		s.AddSubnet(ec2api.Subnet{ID: subnetESM, VpcID: "vpc-0b0b0b0b0b0b0b0b0", CIDR: "10.1.3.0/24", AvailabilityZone: "eu-west-1b"})
		got := subnetChecks(t)
		if len(got) != 1 {
			t.Fatalf("got:\n%s", formatResults(got))
		}
		r := got[0]
		if r.Status != CheckFail || r.Error != "ESM_CONFIG_NOT_VALID" ||
			r.Detail != subnetESM+" is in vpc-0b0b0b0b0b0b0b0b0, the security groups in "+vpcMain ||
			!strings.HasPrefix(r.Fix, "list subnets of the security groups' VPC ("+vpcMain+") in source.kafka.vpc.subnets (") {
			t.Errorf("got %+v", r)
		}
	})
}

// Without the permissions, the subnet lines are skipped and say what to
// grant; the security group lines are unaffected.
func TestVPCSubnetsCannotVerify(t *testing.T) {
	for _, action := range []string{"DescribeSubnets", "DescribeRouteTables"} {
		t.Run(action, func(t *testing.T) {
			s := subnetSetup(t, vpcPublicHosts, ec2api.Route{Destination: "0.0.0.0/0", NatGatewayID: "nat-0123456789abcdef0"})
			s.Deny(action)
			f, pc := vpcPipeline(t, sgESM)
			all := vpcChecks(context.Background(), f, pc, vpcBrokers)
			for _, r := range only(checkSecurityGroup, all) {
				if r.Status != CheckOK {
					t.Errorf("security group line not OK: %+v", r)
				}
			}
			got := only(checkSubnet, all)
			last := got[len(got)-1]
			if last.Status != CheckSkip || !strings.HasPrefix(last.Detail, "cannot verify the subnets: not allowed to call EC2 "+action+": ") ||
				last.Fix != "grant ec2:DescribeSubnets and ec2:DescribeRouteTables to the identity penstock check runs as" {
				t.Errorf("got:\n%s", formatResults(got))
			}
		})
	}
}
