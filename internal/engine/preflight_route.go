package engine

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
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
// Beyond a peering connection, transit gateway or VPN, the route back is
// checked where the brokers' network interfaces are visible (routeBack);
// the far side's groups and network ACLs are not read.
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
	// text holds `at` where its addresses go, so that addresses taking the
	// same route share one part.
	type part struct {
		status, text, fix string
		addrs             []netip.Addr
	}
	const at = "\x00" // where a part's addresses go
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
		host := netip.PrefixFrom(a, a.BitLen())
		r, dest, unread := v.routeFor(ctx, rt, host)
		addRoute := fmt.Sprintf("add a route covering %s (its network, or %s) to %s through the peering connection, transit gateway or VPN that leads to the brokers",
			a, host, rtID)
		if r == nil {
			if unread != "" {
				add(CheckSkip, "no route covers "+at+", unless the prefix list "+unread+" does, which could not be read", "grant ec2:GetManagedPrefixListEntries, or "+addRoute, a)
				continue
			}
			add(CheckFail, "no route covers "+at, addRoute, a)
			continue
		}
		via := routeTarget(r)
		if r.State == ec2types.RouteStateBlackhole {
			add(CheckFail, "the route "+dest+" to "+via+", which covers "+at+", is a blackhole: its target no longer exists",
				fmt.Sprintf("replace the route %s of %s with one to a target that exists", dest, rtID), a)
			continue
		}
		gw := aws.ToString(r.GatewayId)
		// far is a route to another network: the way back is checked
		// where the broker's side can be read.
		far := func(what string) {
			text := at + " through " + what + " (" + dest + ")"
			back, fix, fail, known := v.routeBack(ctx, a, sn, r)
			switch {
			case !known:
				farSide = true
				add(CheckOK, text, "", a)
			case fail:
				add(CheckFail, text+back, fix, a)
			default:
				add(CheckOK, text+back, "", a)
			}
		}
		switch {
		case gw == "local":
			add(CheckOK, at+" by the local route "+dest, "", a)
		case r.VpcPeeringConnectionId != nil:
			if why, fix, bad := v.peering(ctx, via, a, aws.ToString(sn.VpcId)); bad {
				add(CheckFail, at+" through the peering connection "+via+" ("+dest+"), "+why, fix, a)
				continue
			}
			far("the peering connection " + via)
		case r.TransitGatewayId != nil:
			far("the transit gateway " + via)
		case strings.HasPrefix(gw, "vgw-"):
			far("the virtual private gateway " + via)
		case r.InstanceId != nil, r.NetworkInterfaceId != nil, r.CoreNetworkArn != nil, r.LocalGatewayId != nil, r.CarrierGatewayId != nil:
			far(via)
		case r.NatGatewayId != nil && !a.IsPrivate():
			add(CheckOK, at+" through the NAT gateway "+via+" ("+dest+")", "", a)
		case r.NatGatewayId != nil:
			add(CheckSkip, "the route that covers "+at+", "+dest+", leads to the NAT gateway "+via+": a public NAT gateway does not reach private addresses, a private one must lead on to the brokers",
				"make sure "+via+" is a private NAT gateway whose subnet routes to the brokers, or "+addRoute, a)
		case strings.HasPrefix(gw, "igw-") && a.IsPrivate(), r.EgressOnlyInternetGatewayId != nil && a.IsPrivate():
			add(CheckFail, at+" is a private address, and the route that covers it, "+dest+", leads to the internet through "+via, addRoute, a)
		case strings.HasPrefix(gw, "igw-"):
			add(CheckFail, "the route that covers "+at+", "+dest+", leads to the internet gateway "+via+", which the event source's network interfaces cannot use: they have no public addresses",
				fmt.Sprintf("route %s of %s to a NAT gateway (in a public subnet)", dest, rtID), a)
		case r.EgressOnlyInternetGatewayId != nil:
			add(CheckOK, at+" through the egress-only internet gateway "+via+" ("+dest+")", "", a)
		default: // a gateway VPC endpoint (S3, DynamoDB)
			add(CheckFail, "the route that covers "+at+", "+dest+", leads to "+via+", which does not reach brokers", addRoute, a)
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
			texts = append(texts, strings.Replace(p.text, at, joinAddrs(p.addrs), 1))
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

// routeBack checks the way back from the broker at a, reached through r
// (a peering connection, transit gateway, VPN or router), where the
// broker's network interface is visible to these credentials (a VPC of
// the same account and region): the route table of its subnet must route
// sn's CIDR block back through the same peering connection, or through
// one of those targets for the others. It returns what to add to the
// address's text, and for a failure the fix. known is false when the
// broker's side could not be read.
func (v *vpcCheck) routeBack(ctx context.Context, a netip.Addr, sn ec2types.Subnet, r *ec2types.Route) (text, fix string, fail, known bool) {
	enis, err := v.brokerENIs(ctx)
	if err != nil {
		return "", "", false, false
	}
	e, ok := enis[a]
	if !ok {
		return "", "", false, false
	}
	cidr, err := netip.ParsePrefix(aws.ToString(sn.CidrBlock))
	if err != nil {
		return "", "", false, false
	}
	bsn, err := v.subnetByID(ctx, e.subnet)
	if err != nil || aws.ToString(bsn.VpcId) == aws.ToString(sn.VpcId) {
		return "", "", false, false
	}
	rt, how, err := v.routeTable(ctx, bsn)
	if err != nil || rt == nil {
		return "", "", false, false
	}
	rtID := aws.ToString(rt.RouteTableId)
	where := fmt.Sprintf("%s (%s), the route table of the brokers' subnet %s", rtID, how, e.subnet)
	via := routeTarget(r)
	fix = fmt.Sprintf("add a route to %s to %s through %s", cidr, rtID, via)
	back, dest, _ := v.routeFor(ctx, rt, cidr)
	if back == nil {
		return fmt.Sprintf(", but %s, has no route back to %s", where, cidr), fix, true, true
	}
	bvia := routeTarget(back)
	if back.State == ec2types.RouteStateBlackhole {
		return fmt.Sprintf(", but %s, routes %s back by %s to %s, a blackhole: its target no longer exists", where, cidr, dest, bvia), fix, true, true
	}
	gw := aws.ToString(back.GatewayId)
	farTarget := back.VpcPeeringConnectionId != nil || back.TransitGatewayId != nil || strings.HasPrefix(gw, "vgw-") ||
		back.InstanceId != nil || back.NetworkInterfaceId != nil || back.CoreNetworkArn != nil
	switch {
	case r.VpcPeeringConnectionId != nil && bvia != via, !farTarget:
		return fmt.Sprintf(", but %s, routes %s back to %s (%s)", where, cidr, bvia, dest), fix, true, true
	case bvia == via:
		return fmt.Sprintf(", and back through it from %s (%s)", rtID, dest), "", false, true
	}
	return fmt.Sprintf(", and back through %s from %s (%s)", bvia, rtID, dest), "", false, true
}

// peering checks the peering connection id that the route to the broker
// at a takes from the VPC vpc: it must be active, and a must be in the
// other VPC's blocks (peering does not route beyond the peer VPC). bad is
// false, with nothing to say, when it is so or when the connection could
// not be read (DescribeVpcPeeringConnections).
func (v *vpcCheck) peering(ctx context.Context, id string, a netip.Addr, vpc string) (why, fix string, bad bool) {
	p, ok := v.peerings[id]
	if !ok {
		out, err := v.api.DescribeVpcPeeringConnections(ctx, &awsec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}})
		if err == nil && len(out.VpcPeeringConnections) == 1 {
			p = &out.VpcPeeringConnections[0]
		}
		if v.peerings == nil {
			v.peerings = map[string]*ec2types.VpcPeeringConnection{}
		}
		v.peerings[id] = p // nil: not readable
	}
	if p == nil || p.Status == nil || p.RequesterVpcInfo == nil || p.AccepterVpcInfo == nil {
		return "", "", false
	}
	peer := p.AccepterVpcInfo
	if aws.ToString(peer.VpcId) == vpc {
		peer = p.RequesterVpcInfo
	}
	code := string(p.Status.Code)
	if p.Status.Code != ec2types.VpcPeeringConnectionStateReasonCodeActive {
		why = fmt.Sprintf("which is %s (%s)", code, aws.ToString(p.Status.Message))
		switch p.Status.Code {
		case ec2types.VpcPeeringConnectionStateReasonCodePendingAcceptance:
			fix = fmt.Sprintf("accept %s in the account of %s (%s)", id, aws.ToString(peer.VpcId), aws.ToString(peer.OwnerId))
		case ec2types.VpcPeeringConnectionStateReasonCodeProvisioning, ec2types.VpcPeeringConnectionStateReasonCodeInitiatingRequest:
			fix = fmt.Sprintf("wait until %s is active, then run penstock check again", id)
		default:
			fix = fmt.Sprintf("peer %s with the brokers' VPC again, and route %s through the new peering connection", vpc, a)
		}
		return why, fix, true
	}
	var blocks []string
	for _, b := range peer.CidrBlockSet {
		blocks = append(blocks, aws.ToString(b.CidrBlock))
		if pfx, err := netip.ParsePrefix(aws.ToString(b.CidrBlock)); err == nil && pfx.Contains(a) {
			return "", "", false
		}
	}
	if len(blocks) == 0 {
		return "", "", false
	}
	return fmt.Sprintf("but %s is not in the blocks of %s, the VPC it peers with (%s), and peering does not route beyond it", a, aws.ToString(peer.VpcId), strings.Join(blocks, ", ")),
		fmt.Sprintf("route %s through the peering connection, transit gateway or VPN of the network it is in", a), true
}

// subnetByID reads a subnet, once.
func (v *vpcCheck) subnetByID(ctx context.Context, id string) (ec2types.Subnet, error) {
	if sn, ok := v.subnetsRead[id]; ok {
		return sn, nil
	}
	out, err := v.api.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if err != nil {
		return ec2types.Subnet{}, err
	}
	if len(out.Subnets) != 1 {
		return ec2types.Subnet{}, fmt.Errorf("DescribeSubnets %s: %d subnets", id, len(out.Subnets))
	}
	if v.subnetsRead == nil {
		v.subnetsRead = map[string]ec2types.Subnet{}
	}
	v.subnetsRead[id] = out.Subnets[0]
	return out.Subnets[0], nil
}

// routeFor returns the route of rt that EC2 takes to the addresses of q
// (one address, or a subnet's block), the most specific one that covers
// q (a route to a CIDR block before one to a prefix list of the same
// length), and its destination; or nil, and the prefix list that could
// not be read if there is one.
func (v *vpcCheck) routeFor(ctx context.Context, rt *ec2types.RouteTable, q netip.Prefix) (*ec2types.Route, string, string) {
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
			if p.Bits() > q.Bits() || !p.Contains(q.Addr()) {
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
