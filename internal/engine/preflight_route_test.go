package engine

import (
	"testing"

	"github.com/penstock-dev/penstock/internal/ec2api"
	"github.com/penstock-dev/penstock/sources/kafka"
)

// peerHosts puts b-1 in a peered VPC (172.31.0.0/16) and leaves b-2 in the
// VPC; the AWS APIs resolve to public addresses.
var peerHosts = map[string][]string{
	"b-1.kafka.internal":                     {"172.31.5.4"},
	"b-2.kafka.internal":                     {"10.0.2.9"},
	"sts.eu-west-1.amazonaws.com":            {"52.94.0.10"},
	"lambda.eu-west-1.amazonaws.com":         {"52.94.0.11"},
	"secretsmanager.eu-west-1.amazonaws.com": {"52.94.0.12"},
}

// The route a broker address takes is the most specific route of the
// subnet's table that covers it. Brokers in the VPC take the local route;
// brokers elsewhere need a route to a peering connection, transit gateway,
// VPN or router instance; a private address reached only by the default
// route, a blackhole route or no route at all fails with the route to add.
func TestVPCSubnetsRouteToBrokers(t *testing.T) {
	const (
		pcx  = "pcx-0123456789abcdef0"
		tgw  = "tgw-0123456789abcdef0"
		nat  = "nat-0123456789abcdef0"
		igw  = "igw-0123456789abcdef0"
		vgw  = "vgw-0123456789abcdef0"
		peer = "172.31.0.0/16"
	)
	const (
		pcx2       = "pcx-0fedcba9876543210"
		vpcPeer    = "vpc-0c0c0c0c0c0c0c0c0"
		subnetPeer = "subnet-0c1c1c1c1c1c1c1c1"
		rtbPeer    = "rtb-0c2c2c2c2c2c2c2c2"
	)
	// peerVPC adds the VPC b-1 is in, with its network interface, and
	// a main route table with the local route and back.
	peerVPC := func(back ...ec2api.Route) func(*ec2api.Server) {
		return func(s *ec2api.Server) {
			s.AddSubnet(ec2api.Subnet{ID: subnetPeer, VpcID: vpcPeer, CIDR: "172.31.5.0/24", AvailabilityZone: "eu-west-1b"})
			s.AddNetworkInterface(ec2api.NetworkInterface{ID: "eni-0c3c3c3c3c3c3c3c3", SubnetID: subnetPeer, PrivateIPs: []string{"172.31.5.4"},
				Description: "Kafka broker 1"})
			s.AddRouteTable(ec2api.RouteTable{ID: rtbPeer, VpcID: vpcPeer, Main: true,
				Routes: append([]ec2api.Route{{Destination: "172.31.0.0/16", GatewayID: "local"}}, back...)})
			s.AddPeeringConnection(ec2api.PeeringConnection{ID: pcx, RequesterVpcID: vpcMain, RequesterCIDR: "10.0.0.0/16",
				AccepterVpcID: vpcPeer, AccepterCIDR: peer})
		}
	}
	// peering adds pcx between vpcMain and vpcPeer (whose block is cidr).
	peering := func(status, cidr string) func(*ec2api.Server) {
		return func(s *ec2api.Server) {
			s.AddPeeringConnection(ec2api.PeeringConnection{ID: pcx, Status: status, RequesterVpcID: vpcMain, RequesterCIDR: "10.0.0.0/16",
				AccepterVpcID: vpcPeer, AccepterCIDR: cidr, AccepterOwnerID: "444455556666"})
		}
	}
	backTable := rtbPeer + " (the main route table of " + vpcPeer + "), the route table of the brokers' subnet " + subnetPeer + ","
	addBack := "add a route to 10.0.3.0/24 to " + rtbPeer + " through "
	// viaPeer is the detail when b-1 is reached through out, with what the
	// way back adds.
	viaPeer := func(out, back string) string {
		return rtbMain + " (the main route table of " + vpcMain + "): 172.31.5.4 through " + out + " (172.31.0.0/16)" + back +
			"; 10.0.2.9 by the local route 10.0.0.0/16"
	}
	target := subnetESM + " route to brokers"
	table := rtbMain + " (the main route table of " + vpcMain + "): "
	farSide := "; the far side must route back to 10.0.3.0/24 (its routes, security groups and network ACLs are not read)"
	addRoute := "add a route covering 172.31.5.4 (its network, or 172.31.5.4/32) to " + rtbMain +
		" through the peering connection, transit gateway or VPN that leads to the brokers"
	for _, tc := range []struct {
		name    string
		hosts   map[string][]string
		routes  []ec2api.Route
		status  string
		detail  string
		fix     string
		prepare func(*ec2api.Server)
	}{
		{name: "in the VPC", hosts: vpcPublicHosts,
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}},
			status: CheckOK, detail: table + "10.0.1.17, 10.0.2.9 by the local route 10.0.0.0/16"},
		{name: "peering connection", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}, {Destination: peer, VpcPeeringConnectionID: pcx}},
			status: CheckOK, detail: table + "172.31.5.4 through the peering connection " + pcx + " (" + peer + "); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "transit gateway, the most specific route", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: "172.16.0.0/12", VpcPeeringConnectionID: pcx}, {Destination: "172.31.5.0/24", TransitGatewayID: tgw}},
			status: CheckOK, detail: table + "172.31.5.4 through the transit gateway " + tgw + " (172.31.5.0/24); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "VPN", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, GatewayID: vgw}},
			status: CheckOK, detail: table + "172.31.5.4 through the virtual private gateway " + vgw + " (" + peer + "); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "prefix list", hosts: peerHosts,
			routes:  []ec2api.Route{{DestinationPrefixListID: plKafka, VpcPeeringConnectionID: pcx}},
			prepare: func(s *ec2api.Server) { s.AddPrefixList(plKafka, "192.168.0.0/16", "172.31.0.0/20") },
			status:  CheckOK, detail: table + "172.31.5.4 through the peering connection " + pcx + " (" + plKafka + " (172.31.0.0/20)); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "a route to a CIDR block before one to a prefix list", hosts: peerHosts,
			routes:  []ec2api.Route{{DestinationPrefixListID: plKafka, VpcPeeringConnectionID: pcx}, {Destination: peer, TransitGatewayID: tgw}},
			prepare: func(s *ec2api.Server) { s.AddPrefixList(plKafka, peer) },
			status:  CheckOK, detail: table + "172.31.5.4 through the transit gateway " + tgw + " (" + peer + "); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "public brokers through NAT", hosts: map[string][]string{"b-1.kafka.internal": {"203.0.113.7"}, "b-2.kafka.internal": {"203.0.113.8"}},
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}},
			status: CheckOK, detail: table + "203.0.113.7, 203.0.113.8 through the NAT gateway " + nat + " (0.0.0.0/0)"},
		{name: "IPv6", hosts: map[string][]string{"b-1.kafka.internal": {"fd00:1::5"}, "b-2.kafka.internal": {"10.0.2.9"}},
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}, {Destination: "fd00:1::/64", VpcPeeringConnectionID: pcx}},
			status: CheckOK, detail: table + "fd00:1::5 through the peering connection " + pcx + " (fd00:1::/64); 10.0.2.9 by the local route 10.0.0.0/16" + farSide},
		{name: "no route", hosts: peerHosts,
			status: CheckFail, detail: table + "no route covers 172.31.5.4; 10.0.2.9 by the local route 10.0.0.0/16", fix: addRoute},
		{name: "the default route to the internet", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", GatewayID: igw}},
			status: CheckFail, detail: table + "172.31.5.4 is a private address, and the route that covers it, 0.0.0.0/0, leads to the internet through " + igw +
				"; 10.0.2.9 by the local route 10.0.0.0/16",
			fix: addRoute},
		{name: "public brokers through the internet gateway", hosts: map[string][]string{"b-1.kafka.internal": {"203.0.113.7"}, "b-2.kafka.internal": {"10.0.2.9"}},
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", GatewayID: igw}},
			status: CheckFail, detail: table + "the route that covers 203.0.113.7, 0.0.0.0/0, leads to the internet gateway " + igw +
				", which the event source's network interfaces cannot use: they have no public addresses; 10.0.2.9 by the local route 10.0.0.0/16",
			fix: "route 0.0.0.0/0 of " + rtbMain + " to a NAT gateway (in a public subnet)"},
		{name: "blackhole", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}, {Destination: peer, VpcPeeringConnectionID: pcx, Blackhole: true}},
			status: CheckFail, detail: table + "the route " + peer + " to " + pcx + ", which covers 172.31.5.4, is a blackhole: its target no longer exists; 10.0.2.9 by the local route 10.0.0.0/16",
			fix: "replace the route " + peer + " of " + rtbMain + " with one to a target that exists"},
		{name: "private brokers through NAT", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}},
			status: CheckSkip, detail: table + "the route that covers 172.31.5.4, 0.0.0.0/0, leads to the NAT gateway " + nat +
				": a public NAT gateway does not reach private addresses, a private one must lead on to the brokers; 10.0.2.9 by the local route 10.0.0.0/16",
			fix: "make sure " + nat + " is a private NAT gateway whose subnet routes to the brokers, or " + addRoute},
		{name: "prefix list not readable", hosts: peerHosts,
			routes: []ec2api.Route{{DestinationPrefixListID: plKafka, VpcPeeringConnectionID: pcx}},
			prepare: func(s *ec2api.Server) {
				s.AddPrefixList(plKafka, peer)
				s.Deny(ec2api.ActionGetManagedPrefixListEntries)
			},
			status: CheckSkip, detail: table + "no route covers 172.31.5.4, unless the prefix list " + plKafka + " does, which could not be read; 10.0.2.9 by the local route 10.0.0.0/16",
			fix: "grant ec2:GetManagedPrefixListEntries, or " + addRoute},
		{name: "peering connection pending acceptance", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peering("pending-acceptance", peer),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", which is pending-acceptance (Pending Acceptance by 444455556666)"),
			fix: "accept " + pcx + " in the account of " + vpcPeer + " (444455556666)"},
		{name: "peering connection deleted", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peering("deleted", peer),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", which is deleted (Deleted by 444455556666)"),
			fix: "peer " + vpcMain + " with the brokers' VPC again, and route 172.31.5.4 through the new peering connection"},
		{name: "broker beyond the peer VPC", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peering("active", "172.30.0.0/16"),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", but 172.31.5.4 is not in the blocks of "+vpcPeer+
				", the VPC it peers with (172.30.0.0/16), and peering does not route beyond it"),
			fix: "route 172.31.5.4 through the peering connection, transit gateway or VPN of the network it is in"},
		{name: "peering connection, and back", hosts: peerHosts,
			routes:  []ec2api.Route{{Destination: "0.0.0.0/0", NatGatewayID: nat}, {Destination: peer, VpcPeeringConnectionID: pcx}},
			prepare: peerVPC(ec2api.Route{Destination: "10.0.0.0/16", VpcPeeringConnectionID: pcx}),
			status:  CheckOK, detail: viaPeer("the peering connection "+pcx, ", and back through it from "+rtbPeer+" (10.0.0.0/16)")},
		{name: "transit gateway, and back", hosts: peerHosts,
			routes:  []ec2api.Route{{Destination: peer, TransitGatewayID: tgw}},
			prepare: peerVPC(ec2api.Route{Destination: "10.0.3.0/24", TransitGatewayID: tgw}),
			status:  CheckOK, detail: viaPeer("the transit gateway "+tgw, ", and back through it from "+rtbPeer+" (10.0.3.0/24)")},
		{name: "no route back", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peerVPC(),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", but "+backTable+" has no route back to 10.0.3.0/24"),
			fix: addBack + pcx},
		{name: "back through another peering connection", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peerVPC(ec2api.Route{Destination: "10.0.0.0/8", VpcPeeringConnectionID: pcx2}),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", but "+backTable+" routes 10.0.3.0/24 back to "+pcx2+" (10.0.0.0/8)"),
			fix: addBack + pcx},
		{name: "a blackhole back", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, VpcPeeringConnectionID: pcx}}, prepare: peerVPC(ec2api.Route{Destination: "10.0.0.0/16", VpcPeeringConnectionID: pcx, Blackhole: true}),
			status: CheckFail, detail: viaPeer("the peering connection "+pcx, ", but "+backTable+" routes 10.0.3.0/24 back by 10.0.0.0/16 to "+pcx+", a blackhole: its target no longer exists"),
			fix: addBack + pcx},
		{name: "back through the internet", hosts: peerHosts,
			routes: []ec2api.Route{{Destination: peer, TransitGatewayID: tgw}}, prepare: peerVPC(ec2api.Route{Destination: "0.0.0.0/0", GatewayID: igw}),
			status: CheckFail, detail: viaPeer("the transit gateway "+tgw, ", but "+backTable+" routes 10.0.3.0/24 back to "+igw+" (0.0.0.0/0)"),
			fix: addBack + tgw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := subnetSetup(t, tc.hosts, tc.routes...)
			if tc.prepare != nil {
				tc.prepare(s)
			}
			want := CheckResult{Pipeline: "orders", Check: "subnet", Target: target, Status: tc.status, Detail: tc.detail, Fix: tc.fix}
			if tc.status == CheckFail {
				want.Error = kafka.ResultBrokerUnreachable
			}
			sameResult(t, subnetChecks(t), want)
		})
	}
}
