package ec2api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Subnet is a subnet of a VPC.
type Subnet struct {
	ID               string // "subnet-..."
	VpcID            string // empty: vpc-0a1b2c3d, as a SecurityGroup's
	CIDR             string // IPv4 CIDR block
	AvailabilityZone string // empty: the region + "a"
}

// Route is one route of a route table: a destination and one target.
type Route struct {
	// Destination is an IPv4 CIDR, e.g. "0.0.0.0/0" (or an IPv6 one,
	// answered as destinationIpv6CidrBlock); or DestinationPrefixListID
	// ("pl-...") is set instead.
	Destination             string
	DestinationPrefixListID string
	// One target is set; a route to an instance (a NAT instance) may
	// name its network interface too, as EC2 answers it.
	GatewayID              string // "local", "igw-...", "vgw-...", or a gateway VPC endpoint "vpce-..."
	NatGatewayID           string // "nat-..."
	TransitGatewayID       string // "tgw-..."
	NetworkInterfaceID     string // "eni-..."
	InstanceID             string // "i-..."
	VpcPeeringConnectionID string // "pcx-..."
	// Blackhole: the route's target is gone (a deleted peering connection,
	// NAT gateway or interface); EC2 answers its state as "blackhole".
	Blackhole bool
}

// RouteTable is a route table of a VPC. Main marks the VPC's main route
// table, which serves the subnets no table is explicitly associated with;
// Subnets are the explicitly associated ones.
type RouteTable struct {
	ID      string // "rtb-..."
	VpcID   string // empty: vpc-0a1b2c3d, as a SecurityGroup's
	Main    bool
	Subnets []string
	Routes  []Route
}

var (
	vpcIDRe        = idRe("vpc")
	subnetIDRe     = idRe("subnet")
	routeTableIDRe = idRe("rtb")
)

// routeTargets are the target fields of a Route: their name, value and
// the ids they take.
var routeTargets = []struct {
	name string
	id   func(Route) string
	re   *regexp.Regexp
}{
	{"GatewayID", func(r Route) string { return r.GatewayID }, regexp.MustCompile(`^local$|` + idRe("igw|vgw|vpce").String())},
	{"NatGatewayID", func(r Route) string { return r.NatGatewayID }, idRe("nat")},
	{"TransitGatewayID", func(r Route) string { return r.TransitGatewayID }, idRe("tgw")},
	{"NetworkInterfaceID", func(r Route) string { return r.NetworkInterfaceID }, idRe("eni")},
	{"InstanceID", func(r Route) string { return r.InstanceID }, idRe("i")},
	{"VpcPeeringConnectionID", func(r Route) string { return r.VpcPeeringConnectionID }, idRe("pcx")},
}

// AddSubnet adds (or replaces) a subnet. It panics when an id or the CIDR
// is malformed: it is for setting up tests.
func (s *Server) AddSubnet(sn Subnet) {
	if !subnetIDRe.MatchString(sn.ID) {
		panic(fmt.Sprintf("ec2api: AddSubnet: %q is not a subnet id", sn.ID))
	}
	vpc, err := vpcOf(sn.VpcID)
	if err != nil {
		panic(fmt.Sprintf("ec2api: AddSubnet %s: %v", sn.ID, err))
	}
	sn.VpcID = vpc
	if p, err := cidrBlock(sn.CIDR); err != nil || !p.Addr().Is4() {
		panic(fmt.Sprintf("ec2api: AddSubnet %s: %q is not an IPv4 CIDR block", sn.ID, sn.CIDR))
	}
	if sn.AvailabilityZone == "" {
		sn.AvailabilityZone = s.opts.Region + "a"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subnets[sn.ID] = sn
}

// AddRouteTable adds (or replaces) a route table. It panics when an id,
// a destination or a target is malformed, when a route has no target or
// several, when another table is already its VPC's main one, or when a
// subnet is already associated with another table (EC2 associates a
// subnet with one table): it is for setting up tests.
func (s *Server) AddRouteTable(rt RouteTable) {
	if !routeTableIDRe.MatchString(rt.ID) {
		panic(fmt.Sprintf("ec2api: AddRouteTable: %q is not a route table id", rt.ID))
	}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("ec2api: AddRouteTable %s: %s", rt.ID, fmt.Sprintf(format, args...)))
	}
	rt.VpcID = vpcAndSubnets(rt.VpcID, rt.Subnets, fail)
	for i, r := range rt.Routes {
		if err := r.check(); err != nil {
			fail("route %d: %v", i, err)
		}
	}
	rt.Subnets = slices.Clone(rt.Subnets)
	rt.Routes = slices.Clone(rt.Routes)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.routeTables {
		if o.ID == rt.ID {
			continue
		}
		if rt.Main && o.Main && o.VpcID == rt.VpcID {
			fail("%s is already the main route table of %s", o.ID, rt.VpcID)
		}
		for _, sn := range rt.Subnets {
			if slices.Contains(o.Subnets, sn) {
				fail("subnet %s is already associated with %s", sn, o.ID)
			}
		}
	}
	s.routeTables[rt.ID] = rt
}

// vpcAndSubnets checks the VPC and the subnets a route table or a network
// ACL names, calling fail (which panics) on the first malformed one, and
// returns the VPC (see vpcOf).
func vpcAndSubnets(vpcID string, subnets []string, fail func(format string, args ...any)) string {
	vpc, err := vpcOf(vpcID)
	if err != nil {
		fail("%v", err)
	}
	for i, sn := range subnets {
		if !subnetIDRe.MatchString(sn) {
			fail("%q is not a subnet id", sn)
		}
		if slices.Contains(subnets[:i], sn) {
			fail("subnet %s is listed twice", sn)
		}
	}
	return vpc
}

// vpcOf is the VPC a resource naming id is in: id, or defaultVpcID for
// none.
func vpcOf(id string) (string, error) {
	switch {
	case id == "":
		return defaultVpcID, nil
	case !vpcIDRe.MatchString(id):
		return "", fmt.Errorf("%q is not a VPC id", id)
	}
	return id, nil
}

// cidrBlock parses a CIDR block as EC2 takes one: no host bits set.
func cidrBlock(s string) (netip.Prefix, error) {
	p, err := parsePrefix(s)
	if err == nil && p != p.Masked() {
		err = fmt.Errorf("%q is not a CIDR block (%s is)", s, p.Masked())
	}
	return p, err
}

// check reports what is wrong with r: not one destination, not one
// target (but an instance with its network interface), or a malformed
// one.
func (r Route) check() error {
	switch {
	case r.Destination != "" && r.DestinationPrefixListID != "":
		return errors.New("both a Destination and a DestinationPrefixListID")
	case r.DestinationPrefixListID != "":
		if !prefixListIDRe.MatchString(r.DestinationPrefixListID) {
			return fmt.Errorf("%q is not a prefix list id", r.DestinationPrefixListID)
		}
	case r.Destination == "":
		return errors.New("no Destination nor DestinationPrefixListID")
	default:
		if _, err := cidrBlock(r.Destination); err != nil {
			return err
		}
	}
	var set []string
	for _, t := range routeTargets {
		id := t.id(r)
		if id == "" {
			continue
		}
		if !t.re.MatchString(id) {
			return fmt.Errorf("%q is not a %s", id, t.name)
		}
		set = append(set, t.name)
	}
	if len(set) == 1 || len(set) == 2 && r.InstanceID != "" && r.NetworkInterfaceID != "" {
		return nil
	}
	return fmt.Errorf("%d targets (%s), want one (or an InstanceID with its NetworkInterfaceID)", len(set), strings.Join(set, ", "))
}

// The XML shapes of the answers, named as EC2 names their elements.

type xmlSubnet struct {
	SubnetID                string `xml:"subnetId"`
	SubnetArn               string `xml:"subnetArn"`
	State                   string `xml:"state"`
	VpcID                   string `xml:"vpcId"`
	OwnerID                 string `xml:"ownerId"`
	CidrBlock               string `xml:"cidrBlock"`
	AvailableIPAddressCount int    `xml:"availableIpAddressCount"`
	AvailabilityZone        string `xml:"availabilityZone"`
	DefaultForAz            bool   `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool   `xml:"mapPublicIpOnLaunch"`
}

type xmlRouteTable struct {
	RouteTableID string           `xml:"routeTableId"`
	VpcID        string           `xml:"vpcId"`
	OwnerID      string           `xml:"ownerId"`
	Routes       []xmlRoute       `xml:"routeSet>item"`
	Associations []xmlAssociation `xml:"associationSet>item"`
}

type xmlRoute struct {
	DestinationCidrBlock     string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock string `xml:"destinationIpv6CidrBlock,omitempty"`
	DestinationPrefixListID  string `xml:"destinationPrefixListId,omitempty"`
	GatewayID                string `xml:"gatewayId,omitempty"`
	NatGatewayID             string `xml:"natGatewayId,omitempty"`
	TransitGatewayID         string `xml:"transitGatewayId,omitempty"`
	NetworkInterfaceID       string `xml:"networkInterfaceId,omitempty"`
	InstanceID               string `xml:"instanceId,omitempty"`
	InstanceOwnerID          string `xml:"instanceOwnerId,omitempty"`
	VpcPeeringConnectionID   string `xml:"vpcPeeringConnectionId,omitempty"`
	State                    string `xml:"state"`
	Origin                   string `xml:"origin"`
}

type xmlAssociation struct {
	RouteTableAssociationID string `xml:"routeTableAssociationId"`
	RouteTableID            string `xml:"routeTableId"`
	SubnetID                string `xml:"subnetId,omitempty"`
	Main                    bool   `xml:"main"`
	State                   string `xml:"associationState>state"`
}

type describeSubnetsResult struct {
	XMLName   xml.Name    `xml:"result"`
	Subnets   []xmlSubnet `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

type describeRouteTablesResult struct {
	XMLName     xml.Name        `xml:"result"`
	RouteTables []xmlRouteTable `xml:"routeTableSet>item"`
	NextToken   string          `xml:"nextToken,omitempty"`
}

// subnetFilters are the DescribeSubnets filters, by name: the values of
// the subnet's attribute each tests.
var subnetFilters = map[string]func(Subnet) []string{
	"subnet-id": func(sn Subnet) []string { return []string{sn.ID} },
	"vpc-id":    func(sn Subnet) []string { return []string{sn.VpcID} },
}

// routeTableFilters are the DescribeRouteTables filters, by name: the
// values of the table's attribute each tests. The association filters
// test the table's associations: association.main is "true" for the main
// one, "false" for the explicit ones, and matches no table without
// associations, as EC2's.
var routeTableFilters = map[string]func(RouteTable) []string{
	"route-table-id":        func(rt RouteTable) []string { return []string{rt.ID} },
	"vpc-id":                func(rt RouteTable) []string { return []string{rt.VpcID} },
	"association.subnet-id": func(rt RouteTable) []string { return rt.Subnets },
	"association.main": func(rt RouteTable) []string {
		var vs []string
		if rt.Main {
			vs = append(vs, "true")
		}
		if len(rt.Subnets) > 0 {
			vs = append(vs, "false")
		}
		return vs
	},
}

// describeSubnets answers the subnets named by SubnetId.N (all of them
// when none is) that pass the filters, sorted by id.
func (c *call) describeSubnets() (any, *apiError) {
	res := &describeSubnetsResult{}
	var aerr *apiError
	res.Subnets, res.NextToken, aerr = describe(c, subnetIDs, c.s.subnets, subnetFilters, 1000, c.xmlSubnet)
	return res, aerr
}

// describeRouteTables answers the route tables named by RouteTableId.N
// (all of them when none is) that pass the filters, sorted by id.
func (c *call) describeRouteTables() (any, *apiError) {
	res := &describeRouteTablesResult{}
	var aerr *apiError
	res.RouteTables, res.NextToken, aerr = describe(c, routeTableIDs, c.s.routeTables, routeTableFilters, 100, c.xmlRouteTable)
	return res, aerr
}

// xmlSubnet is sn as EC2 describes it: available, with the addresses its
// block holds but the five EC2 reserves (the network address, the VPC
// router, DNS, one for future use and the broadcast address).
func (c *call) xmlSubnet(sn Subnet) xmlSubnet {
	p := netip.MustParsePrefix(sn.CIDR)
	return xmlSubnet{
		SubnetID:                sn.ID,
		SubnetArn:               c.s.arn("subnet", sn.ID),
		State:                   "available",
		VpcID:                   sn.VpcID,
		OwnerID:                 c.s.opts.AccountID,
		CidrBlock:               sn.CIDR,
		AvailableIPAddressCount: max(1<<(32-p.Bits())-5, 0),
		AvailabilityZone:        sn.AvailabilityZone,
	}
}

// xmlRouteTable is rt as EC2 describes it: its routes, then its main
// association if it is the main table and one per associated subnet.
func (c *call) xmlRouteTable(rt RouteTable) xmlRouteTable {
	x := xmlRouteTable{RouteTableID: rt.ID, VpcID: rt.VpcID, OwnerID: c.s.opts.AccountID}
	for _, r := range rt.Routes {
		xr := xmlRoute{
			DestinationPrefixListID: r.DestinationPrefixListID,
			GatewayID:               r.GatewayID,
			NatGatewayID:            r.NatGatewayID,
			TransitGatewayID:        r.TransitGatewayID,
			NetworkInterfaceID:      r.NetworkInterfaceID,
			InstanceID:              r.InstanceID,
			VpcPeeringConnectionID:  r.VpcPeeringConnectionID,
			State:                   "active",
			Origin:                  "CreateRoute",
		}
		if r.Blackhole {
			xr.State = "blackhole"
		}
		if r.Destination != "" {
			if netip.MustParsePrefix(r.Destination).Addr().Is4() {
				xr.DestinationCidrBlock = r.Destination
			} else {
				xr.DestinationIpv6CidrBlock = r.Destination
			}
		}
		if r.InstanceID != "" {
			xr.InstanceOwnerID = c.s.opts.AccountID
		}
		if r.GatewayID == "local" {
			xr.Origin = "CreateRouteTable"
		}
		x.Routes = append(x.Routes, xr)
	}
	assoc := func(subnet string) xmlAssociation {
		return xmlAssociation{
			RouteTableAssociationID: associationID("rtbassoc", rt.ID, subnet),
			RouteTableID:            rt.ID,
			SubnetID:                subnet,
			Main:                    subnet == "",
			State:                   "associated",
		}
	}
	if rt.Main {
		x.Associations = append(x.Associations, assoc(""))
	}
	for _, sn := range rt.Subnets {
		x.Associations = append(x.Associations, assoc(sn))
	}
	return x
}

// associationID is the id of the association of a route table or network
// ACL (owner) with subnet (a route table's main association for ""):
// prefix ("rtbassoc", "aclassoc"), a dash and 17 hexadecimal digits, the
// same for the same two.
func associationID(prefix, owner, subnet string) string {
	sum := sha256.Sum256([]byte(owner + "/" + subnet))
	return prefix + "-" + hex.EncodeToString(sum[:])[:17]
}
