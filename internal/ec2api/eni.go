package ec2api

import (
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
)

// ActionDescribeNetworkInterfaces is the IAM action of
// DescribeNetworkInterfaces, for Deny.
const ActionDescribeNetworkInterfaces = "ec2:DescribeNetworkInterfaces"

// NetworkInterface is an elastic network interface in a subnet.
type NetworkInterface struct {
	ID         string   // "eni-..."
	SubnetID   string   // "subnet-...": must name a subnet added with AddSubnet
	PrivateIPs []string // IPv4 addresses; the first is the primary one; each inside the subnet's CIDR
	Groups     []string // security group ids ("sg-...")
	// Description is what EC2 shows of the interface's purpose, e.g.
	// "MSK broker 1"; it may be empty.
	Description string
	// InterfaceType is EC2's type of the interface ("interface",
	// "vpc_endpoint", "lambda", ...); empty means "interface".
	InterfaceType string
}

var networkInterfaceIDRe = idRe("eni")

var networkInterfaceIDs = idKind{"NetworkInterfaceId", networkInterfaceIDRe, "eni", "InvalidNetworkInterfaceId.Malformed", "InvalidNetworkInterfaceID.NotFound", "networkInterface ID", "networkInterface IDs"}

// AddNetworkInterface adds (or replaces) a network interface, in the VPC
// and availability zone of its subnet. It panics when an id is malformed,
// when the subnet was not added, when a security group is listed twice,
// or when the interface has no private address, or one that is not an
// IPv4 address of the subnet's CIDR block or that is already the
// interface's or another interface's of the VPC (EC2 gives an address to
// one interface): it is for setting up tests.
func (s *Server) AddNetworkInterface(eni NetworkInterface) {
	if !networkInterfaceIDRe.MatchString(eni.ID) {
		panic(fmt.Sprintf("ec2api: AddNetworkInterface: %q is not a network interface id", eni.ID))
	}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("ec2api: AddNetworkInterface %s: %s", eni.ID, fmt.Sprintf(format, args...)))
	}
	if !subnetIDRe.MatchString(eni.SubnetID) {
		fail("%q is not a subnet id", eni.SubnetID)
	}
	for i, g := range eni.Groups {
		if !groupIDRe.MatchString(g) {
			fail("%q is not a security group id", g)
		}
		if slices.Contains(eni.Groups[:i], g) {
			fail("security group %s is listed twice", g)
		}
	}
	if len(eni.PrivateIPs) == 0 {
		fail("no private IP address")
	}
	addrs := make([]netip.Addr, len(eni.PrivateIPs))
	for i, ip := range eni.PrivateIPs {
		a, err := netip.ParseAddr(ip)
		if err != nil || !a.Is4() {
			fail("%q is not an IPv4 address", ip)
		}
		if slices.Contains(addrs[:i], a) {
			fail("address %s is listed twice", a)
		}
		addrs[i] = a
	}
	if eni.InterfaceType == "" {
		eni.InterfaceType = "interface"
	}
	eni.PrivateIPs = slices.Clone(eni.PrivateIPs)
	eni.Groups = slices.Clone(eni.Groups)
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, ok := s.subnets[eni.SubnetID]
	if !ok {
		fail("subnet %s was not added", eni.SubnetID)
	}
	block := netip.MustParsePrefix(sn.CIDR)
	for _, a := range addrs {
		if !block.Contains(a) {
			fail("address %s is not in %s's block %s", a, sn.ID, sn.CIDR)
		}
	}
	for _, o := range s.networkInterfaces {
		if o.ID == eni.ID || s.subnets[o.SubnetID].VpcID != sn.VpcID {
			continue
		}
		for _, ip := range o.PrivateIPs {
			if slices.Contains(addrs, netip.MustParseAddr(ip)) {
				fail("address %s is already %s's, in %s", ip, o.ID, sn.VpcID)
			}
		}
	}
	s.networkInterfaces[eni.ID] = eni
}

// The XML shapes of the answers, named as EC2 names their elements.

type xmlNetworkInterface struct {
	NetworkInterfaceID string             `xml:"networkInterfaceId"`
	SubnetID           string             `xml:"subnetId"`
	VpcID              string             `xml:"vpcId"`
	AvailabilityZone   string             `xml:"availabilityZone"`
	Description        string             `xml:"description"`
	OwnerID            string             `xml:"ownerId"`
	RequesterManaged   bool               `xml:"requesterManaged"`
	Status             string             `xml:"status"`
	MacAddress         string             `xml:"macAddress"`
	PrivateIPAddress   string             `xml:"privateIpAddress"`
	SourceDestCheck    bool               `xml:"sourceDestCheck"`
	Groups             []xmlGroupIdentity `xml:"groupSet>item"`
	Tags               struct{}           `xml:"tagSet"`
	PrivateIPAddresses []xmlPrivateIP     `xml:"privateIpAddressesSet>item"`
	InterfaceType      string             `xml:"interfaceType"`
}

type xmlGroupIdentity struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlPrivateIP struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
	Primary          bool   `xml:"primary"`
}

type describeNetworkInterfacesResult struct {
	XMLName           xml.Name              `xml:"result"`
	NetworkInterfaces []xmlNetworkInterface `xml:"networkInterfaceSet>item"`
	NextToken         string                `xml:"nextToken,omitempty"`
}

// describeNetworkInterfaces answers the network interfaces named by
// NetworkInterfaceId.N (all of them when none is) that pass the filters,
// sorted by id. As EC2, it refuses MaxResults with ids.
func (c *call) describeNetworkInterfaces() (any, *apiError) {
	if _, ok := c.form["MaxResults"]; ok && len(list(c.form, networkInterfaceIDs.param)) > 0 {
		return nil, newError(http.StatusBadRequest, "InvalidParameterCombination", "The parameter networkInterfaceIds cannot be used with the parameter maxResults")
	}
	res := &describeNetworkInterfacesResult{}
	var aerr *apiError
	res.NetworkInterfaces, res.NextToken, aerr = describe(c, networkInterfaceIDs, c.s.networkInterfaces, c.networkInterfaceFilters(), 1000, c.xmlNetworkInterface)
	return res, aerr
}

// networkInterfaceFilters are the DescribeNetworkInterfaces filters, by
// name: the values of the interface's attribute each tests; they are
// called with c.s.mu held. addresses.private-ip-address tests every
// address of the interface, private-ip-address its primary one only.
func (c *call) networkInterfaceFilters() map[string]func(NetworkInterface) []string {
	return map[string]func(NetworkInterface) []string{
		"network-interface-id":         func(eni NetworkInterface) []string { return []string{eni.ID} },
		"subnet-id":                    func(eni NetworkInterface) []string { return []string{eni.SubnetID} },
		"vpc-id":                       func(eni NetworkInterface) []string { return []string{c.s.subnets[eni.SubnetID].VpcID} },
		"addresses.private-ip-address": func(eni NetworkInterface) []string { return eni.PrivateIPs },
		"private-ip-address":           func(eni NetworkInterface) []string { return eni.PrivateIPs[:1] },
		"group-id":                     func(eni NetworkInterface) []string { return eni.Groups },
		"description":                  func(eni NetworkInterface) []string { return []string{eni.Description} },
		"interface-type":               func(eni NetworkInterface) []string { return []string{eni.InterfaceType} },
	}
}

// xmlNetworkInterface is eni as EC2 describes it: in use, in its subnet's
// VPC and availability zone, with a MAC address that stays the same for
// an id, its addresses (the first one primary), and its groups by name
// when the server has them (by id otherwise); c.s.mu is held.
func (c *call) xmlNetworkInterface(eni NetworkInterface) xmlNetworkInterface {
	sn := c.s.subnets[eni.SubnetID]
	x := xmlNetworkInterface{
		NetworkInterfaceID: eni.ID,
		SubnetID:           eni.SubnetID,
		VpcID:              sn.VpcID,
		AvailabilityZone:   sn.AvailabilityZone,
		Description:        eni.Description,
		OwnerID:            c.s.opts.AccountID,
		Status:             "in-use",
		MacAddress:         macAddress(eni.ID),
		PrivateIPAddress:   eni.PrivateIPs[0],
		SourceDestCheck:    true,
		InterfaceType:      eni.InterfaceType,
	}
	for i, ip := range eni.PrivateIPs {
		x.PrivateIPAddresses = append(x.PrivateIPAddresses, xmlPrivateIP{PrivateIPAddress: ip, Primary: i == 0})
	}
	for _, id := range eni.Groups {
		name := id
		if g, ok := c.s.groups[id]; ok {
			name = g.Name
		}
		x.Groups = append(x.Groups, xmlGroupIdentity{GroupID: id, GroupName: name})
	}
	return x
}

// macAddress is the MAC address of the interface id: a locally
// administered unicast address, as EC2's are, the same for the same id.
func macAddress(id string) string {
	sum := sha256.Sum256([]byte(id))
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", sum[0], sum[1], sum[2], sum[3], sum[4])
}
