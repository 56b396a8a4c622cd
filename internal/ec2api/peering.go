package ec2api

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"strings"
)

// ActionDescribeVpcPeeringConnections is the IAM action of
// DescribeVpcPeeringConnections, for Deny.
const ActionDescribeVpcPeeringConnections = "ec2:DescribeVpcPeeringConnections"

// PeeringConnection is a VPC peering connection, from the requester VPC to
// the accepter VPC.
type PeeringConnection struct {
	ID string // "pcx-..."
	// Status is EC2's status code: "active", "pending-acceptance",
	// "provisioning", "rejected", "failed", "expired", "deleting",
	// "deleted" or "initiating-request"; empty means "active".
	Status         string
	RequesterVpcID string // "vpc-..."
	RequesterCIDR  string // the requester VPC's IPv4 block
	AccepterVpcID  string
	AccepterCIDR   string
	// AccepterOwnerID is the accepter VPC's account; empty means the
	// server's (Options.AccountID), as is the requester's.
	AccepterOwnerID string
}

var peeringIDRe = idRe("pcx")

var peeringIDs = idKind{"VpcPeeringConnectionId", peeringIDRe, "pcx", "InvalidVpcPeeringConnectionId.Malformed", "InvalidVpcPeeringConnectionID.NotFound", "vpcPeeringConnection ID", "vpcPeeringConnection IDs"}

// peeringStatuses are EC2's status codes and their messages.
var peeringStatuses = map[string]string{
	"initiating-request": "Initiating Request to %s",
	"pending-acceptance": "Pending Acceptance by %s",
	"provisioning":       "Provisioning",
	"active":             "Active",
	"rejected":           "Rejected by %s",
	"failed":             "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range",
	"expired":            "Expired",
	"deleting":           "Deleting",
	"deleted":            "Deleted by %s",
}

// AddPeeringConnection adds (or replaces) a peering connection. It panics
// when an id or a block is malformed, when the status is not one of EC2's
// or when the two VPCs are the same or their blocks overlap (EC2 refuses
// such a peering): it is for setting up tests.
func (s *Server) AddPeeringConnection(p PeeringConnection) {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("ec2api: AddPeeringConnection %s: %s", p.ID, fmt.Sprintf(format, args...)))
	}
	if !peeringIDRe.MatchString(p.ID) {
		fail("%q is not a peering connection id", p.ID)
	}
	if p.Status == "" {
		p.Status = "active"
	}
	if _, ok := peeringStatuses[p.Status]; !ok {
		fail("%q is not a status code of EC2", p.Status)
	}
	for _, id := range []string{p.RequesterVpcID, p.AccepterVpcID} {
		if !idRe("vpc").MatchString(id) {
			fail("%q is not a VPC id", id)
		}
	}
	if p.RequesterVpcID == p.AccepterVpcID {
		fail("both sides are %s", p.RequesterVpcID)
	}
	var blocks [2]netip.Prefix
	for i, c := range []string{p.RequesterCIDR, p.AccepterCIDR} {
		b, err := netip.ParsePrefix(c)
		if err != nil || !b.Addr().Is4() || b.Masked() != b {
			fail("%q is not an IPv4 block", c)
		}
		blocks[i] = b
	}
	if blocks[0].Overlaps(blocks[1]) {
		fail("the blocks %s and %s overlap", blocks[0], blocks[1])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peerings[p.ID] = p
}

// The XML shapes of the answers, named as EC2 names their elements.

type xmlPeeringVpcInfo struct {
	CidrBlock    string         `xml:"cidrBlock"`
	CidrBlockSet []xmlCidrBlock `xml:"cidrBlockSet>item"`
	OwnerID      string         `xml:"ownerId"`
	VpcID        string         `xml:"vpcId"`
	Region       string         `xml:"region"`
}

type xmlCidrBlock struct {
	CidrBlock string `xml:"cidrBlock"`
}

type xmlPeeringConnection struct {
	AccepterVpcInfo  xmlPeeringVpcInfo `xml:"accepterVpcInfo"`
	RequesterVpcInfo xmlPeeringVpcInfo `xml:"requesterVpcInfo"`
	Status           struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"status"`
	Tags                   struct{} `xml:"tagSet"`
	VpcPeeringConnectionID string   `xml:"vpcPeeringConnectionId"`
}

type describeVpcPeeringConnectionsResult struct {
	XMLName     xml.Name               `xml:"result"`
	Connections []xmlPeeringConnection `xml:"vpcPeeringConnectionSet>item"`
	NextToken   string                 `xml:"nextToken,omitempty"`
}

// describeVpcPeeringConnections answers the peering connections named by
// VpcPeeringConnectionId.N (all of them when none is) that pass the
// filters, sorted by id.
func (c *call) describeVpcPeeringConnections() (any, *apiError) {
	res := &describeVpcPeeringConnectionsResult{}
	var aerr *apiError
	res.Connections, res.NextToken, aerr = describe(c, peeringIDs, c.s.peerings, c.peeringFilters(), 1000, c.xmlPeering)
	return res, aerr
}

// peeringFilters are the DescribeVpcPeeringConnections filters, by name.
func (c *call) peeringFilters() map[string]func(PeeringConnection) []string {
	return map[string]func(PeeringConnection) []string{
		"vpc-peering-connection-id":     func(p PeeringConnection) []string { return []string{p.ID} },
		"status-code":                   func(p PeeringConnection) []string { return []string{p.Status} },
		"requester-vpc-info.vpc-id":     func(p PeeringConnection) []string { return []string{p.RequesterVpcID} },
		"requester-vpc-info.cidr-block": func(p PeeringConnection) []string { return []string{p.RequesterCIDR} },
		"accepter-vpc-info.vpc-id":      func(p PeeringConnection) []string { return []string{p.AccepterVpcID} },
		"accepter-vpc-info.cidr-block":  func(p PeeringConnection) []string { return []string{p.AccepterCIDR} },
		"accepter-vpc-info.owner-id":    func(p PeeringConnection) []string { return []string{c.peerOwner(p)} },
	}
}

func (c *call) peerOwner(p PeeringConnection) string {
	if p.AccepterOwnerID != "" {
		return p.AccepterOwnerID
	}
	return c.s.opts.AccountID
}

// xmlPeering is p as EC2 describes it: both sides in the server's region,
// with their blocks, and its status with EC2's message.
func (c *call) xmlPeering(p PeeringConnection) xmlPeeringConnection {
	side := func(vpc, cidr, owner string) xmlPeeringVpcInfo {
		return xmlPeeringVpcInfo{CidrBlock: cidr, CidrBlockSet: []xmlCidrBlock{{cidr}}, OwnerID: owner, VpcID: vpc, Region: c.s.opts.Region}
	}
	x := xmlPeeringConnection{
		AccepterVpcInfo:        side(p.AccepterVpcID, p.AccepterCIDR, c.peerOwner(p)),
		RequesterVpcInfo:       side(p.RequesterVpcID, p.RequesterCIDR, c.s.opts.AccountID),
		VpcPeeringConnectionID: p.ID,
	}
	x.Status.Code = p.Status
	x.Status.Message = peeringStatuses[p.Status]
	if strings.Contains(x.Status.Message, "%s") {
		x.Status.Message = fmt.Sprintf(x.Status.Message, c.peerOwner(p))
	}
	return x
}
