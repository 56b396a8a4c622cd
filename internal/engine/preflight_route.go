package engine

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/penstock-dev/penstock/sources/kafka"
)

// brokerRoutes checks that the route table of sn (rt, found as how says)
// has a way to every broker address: the route EC2 would take to it, the
// most specific one that covers it, must lead somewhere that reaches a
// private address (the VPC's local route, a peering connection, a transit
// gateway, a virtual private gateway, a router instance), or, for a public
// address, to a NAT gateway. Brokers in another VPC or network are the
// case this is for: their addresses are outside the VPC, and a subnet
// whose table has only the local and the default route cannot reach them.
// What lies beyond a peering connection, transit gateway or VPN (the route
// back, the far side's groups and network ACLs) is not read.
func (v *vpcCheck) brokerRoutes(ctx context.Context, sn ec2types.Subnet, rt *ec2types.RouteTable, how string) {
	var addrs []netip.Addr
	for _, port := range v.ports {
		for _, a := range v.addrs[port] {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return // no broker resolved: the group checks say so
	}
	id := aws.ToString(sn.SubnetId)
	rtID := aws.ToString(rt.RouteTableId)
	target := id + " route to brokers"

	// The parts of the answer, each with the addresses it is about, in
	// order of first appearance; the worst decides the status. A part's
	// text is a format whose one %s is where its addresses go, so that
	// addresses taking the same route share one part.
	type part struct {
		status, text, fix string
		addrs             []netip.Addr
	}
	var parts []*part
	add := func(status, text, fix string, a netip.Addr) {
		for _, p := range parts {
			if p.status == status && p.text == text {
				p.addrs = append(p.addrs, a)
				return
			}
		}
		parts = append(parts, &part{status, text, fix, []netip.Addr{a}})
	}
	farSide := false
	for _, a := range addrs {
		r, dest, unread := v.routeFor(ctx, rt, a)
		network := netip.PrefixFrom(a, a.BitLen()).String()
		addRoute := fmt.Sprintf("add a route covering %s (its network, or %s) to %s through the peering connection, transit gateway or VPN that leads to the brokers",
			a, network, rtID)
		if r == nil {
			if unread != "" {
				add(CheckSkip, "no route covers %s, unless the prefix list "+unread+" does, which could not be read", "grant ec2:GetManagedPrefixListEntries, or "+addRoute, a)
				continue
			}
			add(CheckFail, "no route covers %s", addRoute, a)
			continue
		}
		via := routeTarget(r)
		if r.State == ec2types.RouteStateBlackhole {
			add(CheckFail, fmt.Sprintf("the route %s to %s, which covers %%s, is a blackhole: its target no longer exists", dest, via),
				fmt.Sprintf("replace the route %s of %s with one to a target that exists", dest, rtID), a)
			continue
		}
		gw := aws.ToString(r.GatewayId)
		switch {
		case gw == "local":
			add(CheckOK, "%s by the local route "+dest, "", a)
		case r.VpcPeeringConnectionId != nil:
			farSide = true
			add(CheckOK, "%s through the peering connection "+via+" ("+dest+")", "", a)
		case r.TransitGatewayId != nil:
			farSide = true
			add(CheckOK, "%s through the transit gateway "+via+" ("+dest+")", "", a)
		case strings.HasPrefix(gw, "vgw-"):
			farSide = true
			add(CheckOK, "%s through the virtual private gateway "+via+" ("+dest+")", "", a)
		case r.InstanceId != nil, r.NetworkInterfaceId != nil, r.CoreNetworkArn != nil, r.LocalGatewayId != nil, r.CarrierGatewayId != nil:
			farSide = true
			add(CheckOK, "%s through "+via+" ("+dest+")", "", a)
		case r.NatGatewayId != nil && !a.IsPrivate():
			add(CheckOK, "%s through the NAT gateway "+via+" ("+dest+")", "", a)
		case r.NatGatewayId != nil:
			add(CheckSkip, fmt.Sprintf("the route that covers %%s, %s, leads to the NAT gateway %s: a public NAT gateway does not reach private addresses, a private one must lead on to the brokers", dest, via),
				"make sure "+via+" is a private NAT gateway whose subnet routes to the brokers, or "+addRoute, a)
		case strings.HasPrefix(gw, "igw-") && a.IsPrivate(), r.EgressOnlyInternetGatewayId != nil && a.IsPrivate():
			add(CheckFail, fmt.Sprintf("%%s is a private address, and the route that covers it, %s, leads to the internet through %s", dest, via), addRoute, a)
		case strings.HasPrefix(gw, "igw-"):
			add(CheckFail, fmt.Sprintf("the route that covers %%s, %s, leads to the internet gateway %s, which the event source's network interfaces cannot use: they have no public addresses", dest, via),
				fmt.Sprintf("route %s of %s to a NAT gateway (in a public subnet)", dest, rtID), a)
		case r.EgressOnlyInternetGatewayId != nil:
			add(CheckOK, "%s through the egress-only internet gateway "+via+" ("+dest+")", "", a)
		default: // a gateway VPC endpoint (S3, DynamoDB)
			add(CheckFail, fmt.Sprintf("the route that covers %%s, %s, leads to %s, which does not reach brokers", dest, via), addRoute, a)
		}
	}
	status := CheckOK
	var texts, fixes []string
	for _, want := range []string{CheckFail, CheckSkip, CheckOK} {
		for _, p := range parts {
			if p.status != want {
				continue
			}
			if status == CheckOK {
				status = p.status
			}
			texts = append(texts, fmt.Sprintf(p.text, joinAddrs(p.addrs)))
			if p.fix != "" && !slices.Contains(fixes, p.fix) {
				fixes = append(fixes, p.fix)
			}
		}
	}
	detail := fmt.Sprintf("%s (%s): %s", rtID, how, strings.Join(texts, "; "))
	if farSide && status == CheckOK {
		detail += "; the far side must route back to " + aws.ToString(sn.CidrBlock) + " (its routes, security groups and network ACLs are not read)"
	}
	errCode := ""
	if status == CheckFail {
		errCode = kafka.ResultBrokerUnreachable
	}
	v.addSubnet(target, status, errCode, detail, strings.Join(fixes, "; "))
}

// routeFor returns the route of rt that EC2 takes to a, the most specific
// one that covers it (a route to a CIDR block before one to a prefix list
// of the same length), and its destination; or nil, and the prefix list
// that could not be read if there is one.
func (v *vpcCheck) routeFor(ctx context.Context, rt *ec2types.RouteTable, a netip.Addr) (*ec2types.Route, string, string) {
	var best *ec2types.Route
	bestBits, bestList, dest, unread := -1, false, "", ""
	for i := range rt.Routes {
		r := &rt.Routes[i]
		var covers []netip.Prefix
		list := false
		switch {
		case r.DestinationCidrBlock != nil, r.DestinationIpv6CidrBlock != nil:
			p, err := netip.ParsePrefix(cmp.Or(aws.ToString(r.DestinationCidrBlock), aws.ToString(r.DestinationIpv6CidrBlock)))
			if err != nil {
				continue
			}
			covers = []netip.Prefix{p}
		case r.DestinationPrefixListId != nil:
			list = true
			entries, err := v.prefixList(ctx, aws.ToString(r.DestinationPrefixListId))
			if err != nil {
				unread = cmp.Or(unread, aws.ToString(r.DestinationPrefixListId))
				continue
			}
			covers = entries
		}
		for _, p := range covers {
			if !p.Contains(a) {
				continue
			}
			if p.Bits() > bestBits || p.Bits() == bestBits && bestList && !list {
				best, bestBits, bestList = r, p.Bits(), list
				dest = p.String()
				if list {
					dest = aws.ToString(r.DestinationPrefixListId) + " (" + p.String() + ")"
				}
			}
		}
	}
	return best, dest, unread
}

// routeTarget names the target of r.
func routeTarget(r *ec2types.Route) string {
	return cmp.Or(aws.ToString(r.VpcPeeringConnectionId), aws.ToString(r.TransitGatewayId), aws.ToString(r.InstanceId),
		aws.ToString(r.NatGatewayId), aws.ToString(r.NetworkInterfaceId), aws.ToString(r.EgressOnlyInternetGatewayId),
		aws.ToString(r.CoreNetworkArn), aws.ToString(r.LocalGatewayId), aws.ToString(r.CarrierGatewayId), aws.ToString(r.GatewayId))
}
