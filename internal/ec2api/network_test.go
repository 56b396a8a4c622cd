package ec2api

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	vpcA     = "vpc-0aaa1111bbbb22223"
	vpcB     = "vpc-0bbb1111cccc22223"
	subnetA1 = "subnet-0a000000000000001"
	subnetA2 = "subnet-0a000000000000002"
	subnetA3 = "subnet-0a000000000000003"
	subnetB1 = "subnet-0b000000000000001"
	rtbMain  = "rtb-0a000000000000000"
	rtbPriv  = "rtb-0a000000000000001"
	rtbB     = "rtb-0b000000000000000"
	igw      = "igw-0123456789abcdef0"
	vgw      = "vgw-0123abcd"
	vpce     = "vpce-0123456789abcdef0"
	nat      = "nat-0123456789abcdef0"
	tgw      = "tgw-0123456789abcdef0"
	eni      = "eni-0123456789abcdef0"
	instance = "i-0123456789abcdef0"
	pcx      = "pcx-0123456789abcdef0"
)

// network is two VPCs: in A, a main table routing to the internet and
// a private table associated with subnets A1 and A2 (A3 uses the main
// table) holding a route to every other kind of target; in B, a main
// table associated explicitly with its subnet too.
func network(t *testing.T) *Server {
	s := start(t)
	s.AddSubnet(Subnet{ID: subnetA1, VpcID: vpcA, CIDR: "10.0.1.0/24"})
	s.AddSubnet(Subnet{ID: subnetA2, VpcID: vpcA, CIDR: "10.0.2.0/28", AvailabilityZone: "eu-west-1b"})
	s.AddSubnet(Subnet{ID: subnetA3, VpcID: vpcA, CIDR: "10.0.3.0/24"})
	s.AddSubnet(Subnet{ID: subnetB1, VpcID: vpcB, CIDR: "172.16.0.0/16"})
	s.AddRouteTable(RouteTable{ID: rtbMain, VpcID: vpcA, Main: true, Routes: []Route{
		{Destination: "10.0.0.0/16", GatewayID: "local"},
		{Destination: "0.0.0.0/0", GatewayID: igw},
		{Destination: "::/0", GatewayID: igw},
	}})
	s.AddRouteTable(RouteTable{ID: rtbPriv, VpcID: vpcA, Subnets: []string{subnetA1, subnetA2}, Routes: []Route{
		{Destination: "10.0.0.0/16", GatewayID: "local"},
		{Destination: "0.0.0.0/0", NatGatewayID: nat},
		{DestinationPrefixListID: plVPC, GatewayID: vpce},
		{Destination: "10.8.0.0/16", TransitGatewayID: tgw},
		{Destination: "10.9.0.0/16", NetworkInterfaceID: eni},
		{Destination: "10.10.0.0/16", InstanceID: instance},
		{Destination: "10.12.0.0/16", InstanceID: instance, NetworkInterfaceID: eni},
		{Destination: "10.11.0.0/16", VpcPeeringConnectionID: pcx},
		{Destination: "10.13.0.0/16", VpcPeeringConnectionID: pcx, Blackhole: true}, // the peering was deleted
		{Destination: "192.168.0.0/16", GatewayID: vgw},
	}})
	s.AddRouteTable(RouteTable{ID: rtbB, VpcID: vpcB, Main: true, Subnets: []string{subnetB1}, Routes: []Route{
		{Destination: "172.16.0.0/16", GatewayID: "local"},
	}})
	return s
}

func subnetIDsOf(out *ec2.DescribeSubnetsOutput) []string {
	var ids []string
	for _, sn := range out.Subnets {
		ids = append(ids, aws.ToString(sn.SubnetId))
	}
	return ids
}

func routeTableIDsOf(out *ec2.DescribeRouteTablesOutput) []string {
	var ids []string
	for _, rt := range out.RouteTables {
		ids = append(ids, aws.ToString(rt.RouteTableId))
	}
	return ids
}

// pager is an ec2 paginator whose pages are O.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*ec2.Options)) (O, error)
}

// allPages reads every page of p, and returns how many there were and the
// ids on them.
func allPages[O any](t *testing.T, p pager[O], ids func(O) []string) (pages int, got []string) {
	t.Helper()
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(out)...)
	}
	return pages, got
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestDescribeSubnets(t *testing.T) {
	s := network(t)
	c := client(s, akid, secret)
	ctx := context.Background()

	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetA1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) != 1 {
		t.Fatalf("%d subnets, want 1", len(out.Subnets))
	}
	sn := out.Subnets[0]
	if aws.ToString(sn.SubnetId) != subnetA1 ||
		aws.ToString(sn.SubnetArn) != "arn:aws:ec2:eu-west-1:111122223333:subnet/"+subnetA1 ||
		aws.ToString(sn.VpcId) != vpcA || aws.ToString(sn.CidrBlock) != "10.0.1.0/24" ||
		aws.ToString(sn.AvailabilityZone) != "eu-west-1a" || sn.State != types.SubnetStateAvailable ||
		aws.ToString(sn.OwnerId) != "111122223333" || aws.ToInt32(sn.AvailableIpAddressCount) != 251 ||
		sn.DefaultForAz == nil || *sn.DefaultForAz || sn.MapPublicIpOnLaunch == nil || *sn.MapPublicIpOnLaunch {
		t.Errorf("subnet %+v", sn)
	}
	if out.NextToken != nil {
		t.Errorf("NextToken %q, want none", *out.NextToken)
	}

	out, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcA)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := subnetIDsOf(out), []string{subnetA1, subnetA2, subnetA3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("vpc-id filter: %v, want %v", got, want)
	}
	if len(out.Subnets) == 3 {
		a2 := out.Subnets[1]
		if aws.ToString(a2.AvailabilityZone) != "eu-west-1b" || aws.ToInt32(a2.AvailableIpAddressCount) != 11 {
			t.Errorf("%s: zone %s, %d addresses; want eu-west-1b, 11 (a /28 less the 5 EC2 reserves)",
				subnetA2, aws.ToString(a2.AvailabilityZone), aws.ToInt32(a2.AvailableIpAddressCount))
		}
	}

	// Ids and filters together; wildcards.
	out, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetB1, subnetA3},
		Filters: []types.Filter{filter("subnet-id", "subnet-0a*")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := subnetIDsOf(out); fmt.Sprint(got) != fmt.Sprint([]string{subnetA3}) {
		t.Errorf("ids and subnet-id filter: %v, want [%s]", got, subnetA3)
	}
	if n := s.Requests("DescribeSubnets"); n != 3 {
		t.Errorf("Requests = %d, want 3", n)
	}
}

func TestDescribeSubnetsErrors(t *testing.T) {
	s := network(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	const unknown, unknown2 = "subnet-0f000000000000001", "subnet-0f000000000000002"

	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetA1, unknown}})
	wantErrorMessage(t, "unknown subnet", err, "InvalidSubnetID.NotFound", "The subnet ID '"+unknown+"' does not exist")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{unknown, unknown2}})
	wantErrorMessage(t, "unknown subnets", err, "InvalidSubnetID.NotFound", "The subnet IDs '"+unknown+", "+unknown2+"' do not exist")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-xyz"}})
	wantError(t, "malformed id", err, "InvalidSubnetID.Malformed")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("cidr-block", "10.0.1.0/24")}})
	wantError(t, "unsupported filter", err, "InvalidParameterValue")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(1001)})
	wantError(t, "MaxResults 1001", err, "InvalidParameterValue")
}

func TestDescribeRouteTables(t *testing.T) {
	s := network(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	assocRe := regexp.MustCompile(`^rtbassoc-[0-9a-f]{17}$`)

	// The table of a subnet explicitly associated with one.
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.subnet-id", subnetA2)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RouteTables) != 1 {
		t.Fatalf("association.subnet-id %s: tables %v, want [%s]", subnetA2, routeTableIDsOf(out), rtbPriv)
	}
	priv := out.RouteTables[0]
	if aws.ToString(priv.RouteTableId) != rtbPriv || aws.ToString(priv.VpcId) != vpcA || aws.ToString(priv.OwnerId) != "111122223333" {
		t.Errorf("table %+v", priv)
	}
	if len(priv.Associations) != 2 {
		t.Fatalf("%d associations, want 2", len(priv.Associations))
	}
	for i, sn := range []string{subnetA1, subnetA2} {
		a := priv.Associations[i]
		if !assocRe.MatchString(aws.ToString(a.RouteTableAssociationId)) || aws.ToString(a.RouteTableId) != rtbPriv ||
			aws.ToString(a.SubnetId) != sn || a.Main == nil || *a.Main ||
			a.AssociationState == nil || a.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
			t.Errorf("association %d: %+v (state %+v)", i, a, a.AssociationState)
		}
	}
	if a, b := aws.ToString(priv.Associations[0].RouteTableAssociationId), aws.ToString(priv.Associations[1].RouteTableAssociationId); a == b {
		t.Errorf("both associations are %s", a)
	}

	// Every kind of route target.
	type route struct{ dest, target string }
	var got []route
	for _, r := range priv.Routes {
		dest := aws.ToString(r.DestinationCidrBlock) + aws.ToString(r.DestinationPrefixListId)
		target := aws.ToString(r.GatewayId) + aws.ToString(r.NatGatewayId) + aws.ToString(r.TransitGatewayId) +
			aws.ToString(r.NetworkInterfaceId) + aws.ToString(r.InstanceId) + aws.ToString(r.VpcPeeringConnectionId)
		got = append(got, route{dest, target})
		wantOrigin := types.RouteOriginCreateRoute
		if aws.ToString(r.GatewayId) == "local" {
			wantOrigin = types.RouteOriginCreateRouteTable
		}
		wantState := types.RouteStateActive
		if dest == "10.13.0.0/16" {
			wantState = types.RouteStateBlackhole
		}
		if r.State != wantState || r.Origin != wantOrigin {
			t.Errorf("route to %s via %s: state %q, origin %q; want %s, %s", dest, target, r.State, r.Origin, wantState, wantOrigin)
		}
	}
	want := []route{
		{"10.0.0.0/16", "local"}, {"0.0.0.0/0", nat}, {plVPC, vpce}, {"10.8.0.0/16", tgw},
		{"10.9.0.0/16", eni}, {"10.10.0.0/16", instance}, {"10.12.0.0/16", eni + instance},
		{"10.11.0.0/16", pcx}, {"10.13.0.0/16", pcx}, {"192.168.0.0/16", vgw},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	if len(priv.Routes) == len(want) {
		if r := priv.Routes[2]; r.DestinationCidrBlock != nil || aws.ToString(r.DestinationPrefixListId) != plVPC {
			t.Errorf("prefix list route %+v", r)
		}
		if r := priv.Routes[5]; aws.ToString(r.InstanceOwnerId) != "111122223333" || r.NetworkInterfaceId != nil {
			t.Errorf("instance route %+v: want owner 111122223333, no network interface", r)
		}
		if r := priv.Routes[6]; aws.ToString(r.InstanceId) != instance || aws.ToString(r.NetworkInterfaceId) != eni {
			t.Errorf("NAT instance route %+v: want instance %s and network interface %s", r, instance, eni)
		}
	}

	// A VPC's main table, which serves A3; its main association names no
	// subnet. An IPv6 destination is answered as such.
	out, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		filter("vpc-id", vpcA), filter("association.main", "true")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := routeTableIDsOf(out); fmt.Sprint(got) != fmt.Sprint([]string{rtbMain}) {
		t.Fatalf("main table of %s: %v, want [%s]", vpcA, got, rtbMain)
	}
	main := out.RouteTables[0]
	if len(main.Associations) != 1 {
		t.Fatalf("%d associations, want the main one", len(main.Associations))
	}
	if a := main.Associations[0]; !assocRe.MatchString(aws.ToString(a.RouteTableAssociationId)) ||
		aws.ToString(a.RouteTableId) != rtbMain || a.SubnetId != nil || !aws.ToBool(a.Main) ||
		a.AssociationState == nil || a.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Errorf("main association %+v", a)
	}
	if len(main.Routes) != 3 || aws.ToString(main.Routes[1].GatewayId) != igw ||
		aws.ToString(main.Routes[2].DestinationIpv6CidrBlock) != "::/0" || main.Routes[2].DestinationCidrBlock != nil {
		t.Errorf("main table routes %+v", main.Routes)
	}

	// Association ids stay the same from one call to the next.
	again, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtbMain, rtbPriv}})
	if err != nil {
		t.Fatal(err)
	}
	if got := routeTableIDsOf(again); fmt.Sprint(got) != fmt.Sprint([]string{rtbMain, rtbPriv}) {
		t.Fatalf("by id: %v", got)
	}
	if a, b := aws.ToString(again.RouteTables[0].Associations[0].RouteTableAssociationId), aws.ToString(main.Associations[0].RouteTableAssociationId); a != b {
		t.Errorf("main association id %s, then %s", b, a)
	}
	if a, b := aws.ToString(again.RouteTables[1].Associations[1].RouteTableAssociationId), aws.ToString(priv.Associations[1].RouteTableAssociationId); a != b {
		t.Errorf("association id %s, then %s", b, a)
	}

	// association.main=false: the tables with an explicit association,
	// B's main one too; association.main=true: both main tables.
	for _, c2 := range []struct {
		main string
		want []string
	}{{"false", []string{rtbPriv, rtbB}}, {"true", []string{rtbMain, rtbB}}} {
		out, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.main", c2.main)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := routeTableIDsOf(out); fmt.Sprint(got) != fmt.Sprint(c2.want) {
			t.Errorf("association.main=%s: %v, want %v", c2.main, got, c2.want)
		}
	}
	// A subnet with no explicit association is in no table's associations.
	out, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.subnet-id", subnetA3)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RouteTables) != 0 {
		t.Errorf("association.subnet-id %s: %v, want none", subnetA3, routeTableIDsOf(out))
	}
	if n := s.Requests("DescribeRouteTables"); n != 6 {
		t.Errorf("Requests = %d, want 6", n)
	}
}

func TestDescribeRouteTablesErrors(t *testing.T) {
	s := network(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	const unknown = "rtb-0f000000000000000"

	_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtbMain, unknown}})
	wantErrorMessage(t, "unknown route table", err, "InvalidRouteTableID.NotFound", "The routeTable ID '"+unknown+"' does not exist")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-main"}})
	wantError(t, "malformed id", err, "InvalidRouteTableId.Malformed")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("route.gateway-id", igw)}})
	wantError(t, "unsupported filter", err, "InvalidParameterValue")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(101)})
	wantError(t, "MaxResults 101", err, "InvalidParameterValue", "between 5 and 100")
}

func TestNetworkDenied(t *testing.T) {
	s := network(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	denied := func(what string, err error, action string) {
		t.Helper()
		code, msg := apiCode(t, err)
		if code != "UnauthorizedOperation" || !strings.Contains(msg, "is not authorized to perform: "+action) {
			t.Errorf("%s: %s: %s; want UnauthorizedOperation for %s", what, code, msg, action)
		}
	}

	s.Deny(ActionDescribeSubnets)
	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	denied("DescribeSubnets", err, "ec2:DescribeSubnets")
	if _, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{}); err != nil {
		t.Errorf("DescribeRouteTables while only DescribeSubnets is denied: %v", err)
	}
	// An action named without "ec2:".
	s.Deny("DescribeRouteTables")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtbMain}})
	denied("DescribeRouteTables", err, "ec2:DescribeRouteTables")
	if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}); err != nil {
		t.Errorf("DescribeSecurityGroups while only the network actions are denied: %v", err)
	}
	s.Allow()
	if _, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("DescribeSubnets after Allow: %v", err)
	}
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{DryRun: aws.Bool(true)})
	wantError(t, "dry run", err, "DryRunOperation")
	s.Deny()
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{DryRun: aws.Bool(true)})
	denied("DescribeSubnets (dry run, every action denied)", err, "ec2:DescribeSubnets")
}

func TestNetworkPages(t *testing.T) {
	s := start(t)
	var subnets, tables []string
	for i := range 12 {
		id := fmt.Sprintf("subnet-%017x", 12-i)
		subnets = append(subnets, id)
		s.AddSubnet(Subnet{ID: id, CIDR: fmt.Sprintf("10.0.%d.0/24", i)})
		if i < 7 {
			rtb := fmt.Sprintf("rtb-%017x", 7-i)
			tables = append(tables, rtb)
			s.AddRouteTable(RouteTable{ID: rtb, Main: i == 0, Subnets: []string{id},
				Routes: []Route{{Destination: "10.0.0.0/16", GatewayID: "local"}}})
		}
	}
	sort.Strings(subnets)
	sort.Strings(tables)
	c := client(s, akid, secret)

	pages, got := allPages(t, ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)}), subnetIDsOf)
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(subnets) {
		t.Errorf("subnets: %d pages of %v, want 3 pages of %v", pages, got, subnets)
	}

	pages, got = allPages(t, ec2.NewDescribeRouteTablesPaginator(c, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(5),
		Filters: []types.Filter{filter("vpc-id", defaultVpcID)}}), routeTableIDsOf)
	if pages != 2 || fmt.Sprint(got) != fmt.Sprint(tables) {
		t.Errorf("route tables: %d pages of %v, want 2 pages of %v", pages, got, tables)
	}
}

func TestAddNetworkPanics(t *testing.T) {
	s := network(t)
	local := Route{Destination: "10.0.0.0/16", GatewayID: "local"}
	for _, c := range []struct {
		name string
		add  func()
		want string
	}{
		{"subnet id", func() { s.AddSubnet(Subnet{ID: "subnet-1", CIDR: "10.0.0.0/24"}) }, "not a subnet id"},
		{"subnet VPC", func() { s.AddSubnet(Subnet{ID: subnetA1, VpcID: "vpc-a", CIDR: "10.0.0.0/24"}) }, "not a VPC id"},
		{"IPv6 subnet", func() { s.AddSubnet(Subnet{ID: subnetA1, CIDR: "2001:db8::/64"}) }, "not an IPv4 CIDR block"},
		{"host bits", func() { s.AddSubnet(Subnet{ID: subnetA1, CIDR: "10.0.1.1/24"}) }, "not an IPv4 CIDR block"},
		{"table id", func() { s.AddRouteTable(RouteTable{ID: "rtb-main"}) }, "not a route table id"},
		{"second main table", func() { s.AddRouteTable(RouteTable{ID: "rtb-0c000000000000000", VpcID: vpcA, Main: true}) }, "already the main route table of " + vpcA},
		{"subnet in two tables", func() { s.AddRouteTable(RouteTable{ID: rtbB, VpcID: vpcB, Subnets: []string{subnetA1}}) }, "already associated with " + rtbPriv},
		{"subnet twice", func() { s.AddRouteTable(RouteTable{ID: rtbB, Subnets: []string{subnetB1, subnetB1}}) }, "listed twice"},
		{"no target", func() { s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{Destination: "0.0.0.0/0"}}}) }, "0 targets"},
		{"two targets", func() {
			s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{Destination: "0.0.0.0/0", GatewayID: igw, NatGatewayID: nat}}})
		}, "2 targets (GatewayID, NatGatewayID)"},
		{"network interface and peering", func() {
			s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{Destination: "0.0.0.0/0", NetworkInterfaceID: eni, VpcPeeringConnectionID: pcx}}})
		}, "2 targets"},
		{"bad target", func() {
			s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{local, {Destination: "0.0.0.0/0", GatewayID: nat}}})
		}, `route 1: "` + nat + `" is not a GatewayID`},
		{"no destination", func() { s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{GatewayID: igw}}}) }, "no Destination"},
		{"two destinations", func() {
			s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{Destination: "0.0.0.0/0", DestinationPrefixListID: plVPC, GatewayID: vpce}}})
		}, "both"},
		{"bad destination", func() {
			s.AddRouteTable(RouteTable{ID: rtbB, Routes: []Route{{Destination: "10.0.0.0", GatewayID: igw}}})
		}, "not a CIDR block"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Errorf("panic %v, want one saying %q", r, c.want)
				}
			}()
			c.add()
		})
	}
	// Replacing a table keeps its own main role and subnets.
	s.AddRouteTable(RouteTable{ID: rtbPriv, VpcID: vpcA, Subnets: []string{subnetA1}, Routes: []Route{local}})
	s.AddRouteTable(RouteTable{ID: rtbMain, VpcID: vpcA, Main: true, Subnets: []string{subnetA2}, Routes: []Route{local}})
}
