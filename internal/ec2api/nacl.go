package ec2api

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// ActionDescribeNetworkAcls is the IAM action of DescribeNetworkAcls, for
// Deny.
const ActionDescribeNetworkAcls = "ec2:DescribeNetworkAcls"

// NetworkACL is a network ACL of a VPC.
type NetworkACL struct {
	ID    string // "acl-..."
	VpcID string // empty: the default VPC id, as for a Subnet
	// Default marks the VPC's default ACL, which serves the subnets of the
	// VPC that no other ACL lists.
	Default bool
	// Subnets are the subnets explicitly associated with the ACL.
	Subnets []string
	// Entries are the ACL's rules; the final "*" rules, which deny what no
	// rule matched, are added by the server.
	Entries []ACLEntry
}

// ACLEntry is one numbered rule of a network ACL.
type ACLEntry struct {
	RuleNumber int  // 1..32766
	Egress     bool // outbound rule
	// Protocol is "-1" (all), or a protocol number: "6" TCP, "17" UDP,
	// "1" ICMP.
	Protocol string
	Deny     bool // false: allow
	// CIDR is an IPv4 CIDR (answered as cidrBlock) or an IPv6 one
	// (ipv6CidrBlock).
	CIDR string
	// PortFrom and PortTo bound the ports of a TCP or UDP rule; both are
	// required for "6" and "17", and both 0 for the other protocols.
	PortFrom, PortTo int
}

// The rule numbers of the "*" rules EC2 ends every ACL with: one for IPv4
// and, when the ACL has IPv6 rules, one for IPv6.
const (
	lastRuleIPv4 = 32767
	lastRuleIPv6 = 32768
)

var networkACLIDRe = idRe("acl")

var networkACLIDs = idKind{"NetworkAclId", networkACLIDRe, "acl", "InvalidNetworkAclId.Malformed", "InvalidNetworkAclID.NotFound", "networkAcl ID", "networkAcl IDs"}

// AddNetworkACL adds (or replaces) a network ACL. It panics when an id, a
// rule number, a protocol, a port range or a CIDR is malformed, when two
// rules in the same direction share a number, when another ACL is already
// its VPC's default one, or when a subnet is already associated with
// another ACL (EC2 associates a subnet with one ACL): it is for setting up
// tests.
func (s *Server) AddNetworkACL(acl NetworkACL) {
	if !networkACLIDRe.MatchString(acl.ID) {
		panic(fmt.Sprintf("ec2api: AddNetworkACL: %q is not a network ACL id", acl.ID))
	}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("ec2api: AddNetworkACL %s: %s", acl.ID, fmt.Sprintf(format, args...)))
	}
	acl.VpcID = vpcAndSubnets(acl.VpcID, acl.Subnets, fail)
	for i, e := range acl.Entries {
		if err := e.check(); err != nil {
			fail("entry %d: %v", i, err)
		}
		for _, o := range acl.Entries[:i] {
			if o.RuleNumber == e.RuleNumber && o.Egress == e.Egress {
				fail("entry %d: two %s rules numbered %d", i, direction(e.Egress), e.RuleNumber)
			}
		}
	}
	acl.Subnets = slices.Clone(acl.Subnets)
	acl.Entries = slices.Clone(acl.Entries)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.networkACLs {
		if o.ID == acl.ID {
			continue
		}
		if acl.Default && o.Default && o.VpcID == acl.VpcID {
			fail("%s is already the default network ACL of %s", o.ID, acl.VpcID)
		}
		for _, sn := range acl.Subnets {
			if slices.Contains(o.Subnets, sn) {
				fail("subnet %s is already associated with %s", sn, o.ID)
			}
		}
	}
	s.networkACLs[acl.ID] = acl
}

func direction(egress bool) string {
	if egress {
		return "outbound"
	}
	return "inbound"
}

// check reports what is wrong with e: a rule number EC2 does not take,
// a malformed protocol or CIDR, or ports that do not fit the protocol.
func (e ACLEntry) check() error {
	if e.RuleNumber < 1 || e.RuleNumber > lastRuleIPv4-1 {
		return fmt.Errorf("rule number %d is not in 1..%d", e.RuleNumber, lastRuleIPv4-1)
	}
	if e.Protocol != AllProtocols {
		if n, err := strconv.Atoi(e.Protocol); err != nil || n < 0 || n > 255 || strconv.Itoa(n) != e.Protocol {
			return fmt.Errorf("protocol %q is not -1 nor a protocol number (0..255)", e.Protocol)
		}
	}
	if _, err := cidrBlock(e.CIDR); err != nil {
		return err
	}
	if e.ports() {
		switch {
		case e.PortFrom == 0 && e.PortTo == 0:
			return fmt.Errorf("protocol %s without a port range", e.Protocol)
		case e.PortFrom < 0 || e.PortTo > 65535 || e.PortFrom > e.PortTo:
			return fmt.Errorf("ports %d..%d are not a port range (from <= to, 0..65535)", e.PortFrom, e.PortTo)
		}
	} else if e.PortFrom != 0 || e.PortTo != 0 {
		return fmt.Errorf("ports %d..%d for protocol %s, which has none", e.PortFrom, e.PortTo, e.Protocol)
	}
	return nil
}

// ports reports whether e's protocol (TCP or UDP) takes a port range.
func (e ACLEntry) ports() bool { return e.Protocol == "6" || e.Protocol == "17" }

// The XML shapes of the answers, named as EC2 names their elements.

type xmlNetworkACL struct {
	NetworkACLID string              `xml:"networkAclId"`
	VpcID        string              `xml:"vpcId"`
	Default      bool                `xml:"default"`
	Entries      []xmlACLEntry       `xml:"entrySet>item"`
	Associations []xmlACLAssociation `xml:"associationSet>item"`
	Tags         struct{}            `xml:"tagSet"`
	OwnerID      string              `xml:"ownerId"`
}

type xmlACLEntry struct {
	RuleNumber    int           `xml:"ruleNumber"`
	Protocol      string        `xml:"protocol"`
	RuleAction    string        `xml:"ruleAction"`
	Egress        bool          `xml:"egress"`
	CidrBlock     string        `xml:"cidrBlock,omitempty"`
	IPv6CidrBlock string        `xml:"ipv6CidrBlock,omitempty"`
	PortRange     *xmlPortRange `xml:"portRange,omitempty"`
}

type xmlPortRange struct {
	From int `xml:"from"`
	To   int `xml:"to"`
}

type xmlACLAssociation struct {
	NetworkACLAssociationID string `xml:"networkAclAssociationId"`
	NetworkACLID            string `xml:"networkAclId"`
	SubnetID                string `xml:"subnetId"`
}

type describeNetworkAclsResult struct {
	XMLName     xml.Name        `xml:"result"`
	NetworkACLs []xmlNetworkACL `xml:"networkAclSet>item"`
	NextToken   string          `xml:"nextToken,omitempty"`
}

// describeNetworkAcls answers the network ACLs named by NetworkAclId.N
// (all of them when none is) that pass the filters, sorted by id.
func (c *call) describeNetworkAcls() (any, *apiError) {
	res := &describeNetworkAclsResult{}
	var aerr *apiError
	res.NetworkACLs, res.NextToken, aerr = describe(c, networkACLIDs, c.s.networkACLs, c.networkACLFilters(), 1000, c.xmlNetworkACL)
	return res, aerr
}

// networkACLFilters are the DescribeNetworkAcls filters, by name: the
// values of the ACL's attribute each tests; they are called with c.s.mu
// held. The association filters test the ACL's associations, the
// implicit ones of its VPC's subnets that a default ACL serves too, and
// match no ACL without associations, as EC2's.
func (c *call) networkACLFilters() map[string]func(NetworkACL) []string {
	return map[string]func(NetworkACL) []string{
		"network-acl-id":        func(acl NetworkACL) []string { return []string{acl.ID} },
		"vpc-id":                func(acl NetworkACL) []string { return []string{acl.VpcID} },
		"default":               func(acl NetworkACL) []string { return []string{strconv.FormatBool(acl.Default)} },
		"association.subnet-id": c.s.aclSubnets,
		"association.network-acl-id": func(acl NetworkACL) []string {
			if len(c.s.aclSubnets(acl)) == 0 {
				return nil
			}
			return []string{acl.ID}
		},
	}
}

// aclSubnets are the subnets associated with acl: those it lists, in
// their order, then, for its VPC's default ACL, the subnets of the VPC
// that no ACL of the VPC lists, in id order (EC2 associates every subnet
// with an ACL, and answers these associations too); s.mu is held.
func (s *Server) aclSubnets(acl NetworkACL) []string {
	out := slices.Clone(acl.Subnets)
	if !acl.Default {
		return out
	}
	var implicit []string
	for id, sn := range s.subnets {
		if sn.VpcID != acl.VpcID {
			continue
		}
		listed := false
		for _, o := range s.networkACLs {
			if o.VpcID == acl.VpcID && slices.Contains(o.Subnets, id) {
				listed = true
				break
			}
		}
		if !listed {
			implicit = append(implicit, id)
		}
	}
	slices.Sort(implicit)
	return append(out, implicit...)
}

// xmlNetworkACL is acl as EC2 describes it: its rules, outbound then
// inbound, each by rule number and ending with the "*" rules, and an
// association per subnet it serves; c.s.mu is held.
func (c *call) xmlNetworkACL(acl NetworkACL) xmlNetworkACL {
	x := xmlNetworkACL{NetworkACLID: acl.ID, VpcID: acl.VpcID, Default: acl.Default, OwnerID: c.s.opts.AccountID}
	entries := slices.Clone(acl.Entries)
	ipv6 := slices.ContainsFunc(entries, func(e ACLEntry) bool { return netip.MustParsePrefix(e.CIDR).Addr().Is6() })
	for _, egress := range []bool{false, true} {
		entries = append(entries, ACLEntry{RuleNumber: lastRuleIPv4, Egress: egress, Protocol: AllProtocols, Deny: true, CIDR: "0.0.0.0/0"})
		if ipv6 {
			entries = append(entries, ACLEntry{RuleNumber: lastRuleIPv6, Egress: egress, Protocol: AllProtocols, Deny: true, CIDR: "::/0"})
		}
	}
	slices.SortFunc(entries, func(a, b ACLEntry) int {
		if a.Egress != b.Egress {
			if a.Egress {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.RuleNumber, b.RuleNumber)
	})
	for _, e := range entries {
		xe := xmlACLEntry{RuleNumber: e.RuleNumber, Protocol: e.Protocol, RuleAction: "allow", Egress: e.Egress}
		if e.Deny {
			xe.RuleAction = "deny"
		}
		if netip.MustParsePrefix(e.CIDR).Addr().Is4() {
			xe.CidrBlock = e.CIDR
		} else {
			xe.IPv6CidrBlock = e.CIDR
		}
		if e.ports() {
			xe.PortRange = &xmlPortRange{e.PortFrom, e.PortTo}
		}
		x.Entries = append(x.Entries, xe)
	}
	for _, sn := range c.s.aclSubnets(acl) {
		x.Associations = append(x.Associations, xmlACLAssociation{
			NetworkACLAssociationID: associationID("aclassoc", acl.ID, sn),
			NetworkACLID:            acl.ID,
			SubnetID:                sn,
		})
	}
	return x
}
