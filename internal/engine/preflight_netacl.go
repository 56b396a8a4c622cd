package engine

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/penstock-dev/penstock/sources/kafka"
)

// checkNACL names the network ACL checks.
const checkNACL = "network acl"

// Replies come back to the ephemeral port the connection left from.
// Network ACLs are stateless, so each reply needs an inbound rule of its
// own; the range is the one AWS documents for Lambda's and NAT gateways'
// connections.
const ephemeralLo, ephemeralHi = 1024, 65535

// aclDefaultRule and aclDefaultRuleIPv6 are the numbers EC2 gives the "*"
// rules that end every network ACL and deny what no numbered rule decided:
// 32767 for IPv4, 32768 for IPv6. Numbered rules go up to 32766.
const aclDefaultRule, aclDefaultRuleIPv6 = 32767, 32768

// networkACLs checks the network ACL of each subnet (all in the groups'
// VPC) against the traffic the event source makes: TCP to each broker's
// port and TCP 443 to the AWS endpoints, out, and their replies on the
// ephemeral ports, in. The subnets that hold brokers (listed or not: the
// brokers' network interfaces tell) must also let the event source's
// subnets in on the broker port and the replies out. Traffic between two
// addresses of one subnet does not cross its ACL. Rules are evaluated as
// EC2 does: in rule number order, the first rule whose protocol, ports and
// range match decides, and the "*" rule denies the rest.
func (v *vpcCheck) networkACLs(ctx context.Context, subnets []ec2types.Subnet) {
	var cidrs []netip.Prefix
	for _, sn := range subnets {
		if p, err := netip.ParsePrefix(aws.ToString(sn.CidrBlock)); err == nil {
			cidrs = append(cidrs, p)
		}
	}
	for _, sn := range subnets {
		id := aws.ToString(sn.SubnetId)
		a, ok := v.subnetACL(ctx, id)
		if !ok {
			continue
		}
		cidr, _ := netip.ParsePrefix(aws.ToString(sn.CidrBlock))
		v.naclBrokers(id, cidr, a)
		v.naclEndpoints(id, cidr, a)
		var ports []int
		for _, port := range v.ports {
			if slices.ContainsFunc(v.addrs[port], cidr.Contains) {
				ports = append(ports, port)
			}
		}
		others := slices.DeleteFunc(slices.Clone(cidrs), func(p netip.Prefix) bool { return p == cidr })
		v.naclBrokersIn(id, a, ports, others)
	}
	v.brokerSubnetACLs(ctx, cidrs)
}

// subnetACL reads the network ACL of subnet id; ok is false (and the
// reason reported) when it cannot.
func (v *vpcCheck) subnetACL(ctx context.Context, id string) (*acl, bool) {
	out, err := v.api.DescribeNetworkAcls(ctx, &awsec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{id}}}})
	if err != nil {
		v.skipNACLAPI(id+" network ACL", "DescribeNetworkAcls", err)
		return nil, false
	}
	if len(out.NetworkAcls) == 0 {
		v.addNACL(id+" network ACL", CheckSkip, "", "EC2 answers no network ACL associated with "+id,
			"check that "+id+" is associated with a network ACL (every subnet is, with its VPC's default one unless another is chosen)")
		return nil, false
	}
	return newACL(out.NetworkAcls[0]), true
}

// brokerSubnetACLs checks the network ACLs of the subnets that hold
// brokers outside the listed subnets (cidrs), found by the brokers'
// private addresses on the VPC's network interfaces.
func (v *vpcCheck) brokerSubnetACLs(ctx context.Context, cidrs []netip.Prefix) {
	var outside []netip.Addr
	for _, port := range v.ports {
		for _, b := range v.addrs[port] {
			if b.IsPrivate() && !slices.ContainsFunc(cidrs, func(p netip.Prefix) bool { return p.Contains(b) }) &&
				!slices.Contains(outside, b) {
				outside = append(outside, b)
			}
		}
	}
	if len(outside) == 0 || len(cidrs) == 0 {
		return
	}
	enis, err := v.brokerENIs(ctx)
	if err != nil {
		v.skipNACLAPI("brokers' subnets network ACL", "DescribeNetworkInterfaces", err)
		return
	}
	bySubnet := map[string][]netip.Addr{} // subnet → the brokers' addresses in it
	var order []string
	for _, b := range outside {
		e, ok := enis[b]
		if !ok {
			continue
		}
		if bySubnet[e.subnet] == nil {
			order = append(order, e.subnet)
		}
		bySubnet[e.subnet] = append(bySubnet[e.subnet], b)
	}
	for _, id := range order {
		a, ok := v.subnetACL(ctx, id)
		if !ok {
			continue
		}
		var ports []int
		for _, port := range v.ports {
			if slices.ContainsFunc(v.addrs[port], func(b netip.Addr) bool { return slices.Contains(bySubnet[id], b) }) {
				ports = append(ports, port)
			}
		}
		v.naclBrokersIn(id, a, ports, cidrs)
	}
	for _, b := range outside {
		if _, ok := enis[b]; !ok {
			v.addNACL(b.String()+" network ACL", CheckSkip, "", "no network interface these credentials can see holds the broker address "+b.String()+
				" (another account or VPC): the network ACL of its subnet is not checked",
				"make sure that ACL lets "+joinPrefixes(cidrs)+" in on the broker port and the replies out (TCP "+portRange{ephemeralLo, ephemeralHi}.String()+")")
		}
	}
}

// joinPrefixes is ", "-separated ps.
func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// naclBrokers checks the event source's connections from the subnet to
// the brokers outside it.
func (v *vpcCheck) naclBrokers(id string, cidr netip.Prefix, a *acl) {
	target := id + " network ACL, brokers"
	d := denials{a: a}
	var ok []string
	for _, port := range v.ports {
		var to []netip.Addr
		for _, b := range v.addrs[port] {
			if cidr.Contains(b) {
				continue // within the subnet: no ACL between them
			}
			to = append(to, b)
			d.conn(true, netip.PrefixFrom(b, b.BitLen()), port, "broker")
		}
		if len(to) > 0 {
			ok = append(ok, fmt.Sprintf("TCP %d to %s", port, joinAddrs(to)))
		}
	}
	switch {
	case d.report(v, target, kafka.ResultBrokerUnreachable):
	case len(ok) > 0:
		v.addNACL(target, CheckOK, "", fmt.Sprintf("%s allows %s out, and the replies in (TCP %d-%d)",
			a.id, strings.Join(ok, ", "), ephemeralLo, ephemeralHi), "")
	}
}

// naclEndpoints checks the event source's connections from the subnet to
// the AWS endpoints (TCP 443), at the addresses they resolve to here.
func (v *vpcCheck) naclEndpoints(id string, cidr netip.Prefix, a *acl) {
	target := id + " network ACL, AWS APIs"
	d := denials{a: a}
	var ok, unresolved []string
	for _, e := range v.endpoints {
		if len(e.addrs) == 0 {
			unresolved = append(unresolved, e.name)
			continue
		}
		for _, ad := range e.addrs {
			if cidr.Contains(ad) {
				continue
			}
			d.conn(true, netip.PrefixFrom(ad, ad.BitLen()), 443, e.name)
		}
		ok = append(ok, e.name+" ("+joinAddrs(e.addrs)+")")
	}
	switch {
	case d.report(v, target, resultAWSUnreachable):
	case len(ok) == 0:
		v.addNACL(target, CheckSkip, "", "cannot verify: "+strings.Join(unresolved, ", ")+" did not resolve here",
			"run penstock check where the event source's subnets resolve the AWS endpoints (inside the VPC)")
	default:
		detail := fmt.Sprintf("%s allows TCP 443 out to %s, and the replies in (TCP %d-%d)", a.id, strings.Join(ok, ", "), ephemeralLo, ephemeralHi)
		if len(unresolved) > 0 {
			detail += "; " + strings.Join(unresolved, ", ") + " did not resolve here and was not checked"
		}
		v.addNACL(target, CheckOK, "", detail, "")
	}
}

// naclBrokersIn checks, for a subnet whose brokers listen on ports, that
// its ACL lets the event source's subnets (others; its network interfaces
// may be in any of them) in on those ports, and the replies out.
func (v *vpcCheck) naclBrokersIn(id string, a *acl, ports []int, others []netip.Prefix) {
	if len(ports) == 0 || len(others) == 0 {
		return
	}
	target := id + " network ACL, brokers in it"
	d := denials{a: a}
	for _, port := range ports {
		for _, o := range others {
			d.conn(false, o, port, "")
		}
	}
	if d.report(v, target, kafka.ResultBrokerUnreachable) {
		return
	}
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	v.addNACL(target, CheckOK, "", fmt.Sprintf("%s allows TCP %s in from %s (the event source's subnets), and the replies out (TCP %d-%d)",
		a.id, strings.Join(ps, ", "), joinPrefixes(others), ephemeralLo, ephemeralHi), "")
}

func (v *vpcCheck) addNACL(target, status, errCode, detail, fix string) {
	v.out = append(v.out, CheckResult{Pipeline: v.pc.Name, Check: checkNACL, Target: target, Status: status,
		Error: errCode, Detail: detail, Fix: fix})
}

// skipNACLAPI reports an EC2 call (op) of the network ACL checks that
// failed.
func (v *vpcCheck) skipNACLAPI(target, op string, err error) {
	if apiErrorCode(err) == "UnauthorizedOperation" {
		v.addNACL(target, CheckSkip, "", "cannot verify the network ACL: not allowed to call EC2 "+op+": "+apiErrorMessage(err),
			"grant ec2:DescribeNetworkAcls and ec2:DescribeNetworkInterfaces to the identity penstock check runs as")
		return
	}
	v.addNACL(target, CheckSkip, "", "cannot verify the network ACL: EC2 "+op+": "+err.Error(),
		ec2Fix(err))
}

// acl is a network ACL's rules that can apply to TCP, by direction, in
// rule number order.
type acl struct {
	id            string
	egress, ingrs []aclRule
}

// aclRule is one rule that can apply to TCP.
type aclRule struct {
	number int
	allow  bool
	prefix netip.Prefix
	ports  portRange
}

// portRange is the ports lo to hi, inclusive.
type portRange struct{ lo, hi int }

func (r portRange) String() string {
	if r.lo == r.hi {
		return strconv.Itoa(r.lo)
	}
	return fmt.Sprintf("%d-%d", r.lo, r.hi)
}

func newACL(n ec2types.NetworkAcl) *acl {
	a := &acl{id: aws.ToString(n.NetworkAclId)}
	for _, e := range n.Entries {
		r := aclRule{number: int(aws.ToInt32(e.RuleNumber)), allow: e.RuleAction == ec2types.RuleActionAllow, ports: portRange{0, 65535}}
		switch strings.ToLower(aws.ToString(e.Protocol)) {
		case "-1", "all":
		case "6", "tcp":
			if pr := e.PortRange; pr != nil && pr.From != nil && pr.To != nil {
				r.ports = portRange{int(*pr.From), int(*pr.To)}
			}
		default:
			continue // another protocol: never TCP
		}
		var err error
		if r.prefix, err = netip.ParsePrefix(cmp.Or(aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock))); err != nil {
			continue
		}
		r.prefix = r.prefix.Masked()
		if aws.ToBool(e.Egress) {
			a.egress = append(a.egress, r)
		} else {
			a.ingrs = append(a.ingrs, r)
		}
	}
	byNumber := func(x, y aclRule) int { return x.number - y.number }
	slices.SortStableFunc(a.egress, byNumber)
	slices.SortStableFunc(a.ingrs, byNumber)
	return a
}

// denials collects what one ACL denies of the traffic one line checks,
// and the rules that would let it through.
type denials struct {
	a               *acl
	problems, fixes []string
}

// conn checks a TCP connection on port with remote and its replies on the
// ephemeral ports: opened from the subnet when out (the event source
// connecting), into it otherwise (brokers accepting). what names remote in
// details ("" for none).
func (d *denials) conn(out bool, remote netip.Prefix, port int, what string) {
	dir, back := "to", "from"
	if !out {
		dir, back = back, dir
	}
	d.require(out, remote, portRange{port, port}, dir, what)
	d.require(!out, remote, portRange{ephemeralLo, ephemeralHi}, back, what)
}

// report adds the FAIL line of the denials, with errCode, and reports
// whether there were any.
func (d *denials) report(v *vpcCheck, target, errCode string) bool {
	if len(d.problems) == 0 {
		return false
	}
	v.addNACL(target, CheckFail, errCode, d.a.id+": "+strings.Join(d.problems, "; "),
		"add to "+d.a.id+" "+strings.Join(uniq(d.fixes), "; ")+" (network ACLs are stateless: replies need rules of their own)")
	return true
}

// require checks that the ACL lets TCP traffic through on ports, out to
// (egress) or in from every address of remote, and records what it denies
// with the rule that would fix it; dir ("to" or "from") and what word
// them.
func (d *denials) require(egress bool, remote netip.Prefix, ports portRange, dir, what string) {
	a := d.a
	rules, way := a.ingrs, "inbound"
	if egress {
		rules, way = a.egress, "outbound"
	}
	dn, denied := aclDenies(rules, remote, []portRange{ports})
	if !denied {
		return
	}
	var ps []string
	for _, p := range dn.ports {
		ps = append(ps, p.String())
	}
	who := dn.remote.String()
	if dn.remote.IsSingleIP() {
		who = dn.remote.Addr().String()
	}
	subject := fmt.Sprintf("%s TCP %s %s %s", way, strings.Join(ps, ", "), dir, who)
	if what != "" {
		subject += " (" + what + ")"
	}
	fix := fmt.Sprintf("an %s rule allowing TCP %s %s %s", way, ports, dir, remote)
	if dn.rule == 0 || dn.rule == aclDefaultRule || dn.rule == aclDefaultRuleIPv6 {
		d.problems = append(d.problems, "no rule allows "+subject+" (the * rule denies it)")
		d.fixes = append(d.fixes, fix)
		return
	}
	d.problems = append(d.problems, fmt.Sprintf("rule %d denies %s", dn.rule, subject))
	d.fixes = append(d.fixes, fmt.Sprintf("%s, numbered below %d", fix, dn.rule))
}

// aclDenial is the first traffic a direction's rules deny: the rule (0:
// no rule decided it), the ports and the remote addresses.
type aclDenial struct {
	rule   int
	ports  []portRange
	remote netip.Prefix
}

// aclDenies reports the first TCP traffic on ports (sorted, disjoint)
// with the addresses of remote that rules (one direction, in order) do not
// allow. A rule whose range holds remote decides the ports it covers for
// all of remote; a rule whose range lies inside remote decides for part of
// it only, so remote's two halves are followed on from that rule apart.
func aclDenies(rules []aclRule, remote netip.Prefix, ports []portRange) (aclDenial, bool) {
	for i, r := range rules {
		if len(ports) == 0 {
			return aclDenial{}, false
		}
		if !r.prefix.Overlaps(remote) {
			continue
		}
		if r.prefix.Bits() > remote.Bits() {
			lo, hi := halves(remote)
			if d, denied := aclDenies(rules[i:], lo, ports); denied {
				return d, true
			}
			return aclDenies(rules[i:], hi, ports)
		}
		in, rest := cut(ports, r.ports)
		if len(in) == 0 {
			continue
		}
		if !r.allow {
			return aclDenial{rule: r.number, ports: in, remote: remote}, true
		}
		ports = rest
	}
	if len(ports) > 0 {
		return aclDenial{ports: ports, remote: remote}, true
	}
	return aclDenial{}, false
}

// cut splits ports into the parts inside r and the rest.
func cut(ports []portRange, r portRange) (in, rest []portRange) {
	for _, p := range ports {
		lo, hi := max(p.lo, r.lo), min(p.hi, r.hi)
		if lo > hi {
			rest = append(rest, p)
			continue
		}
		in = append(in, portRange{lo, hi})
		if p.lo < lo {
			rest = append(rest, portRange{p.lo, lo - 1})
		}
		if hi < p.hi {
			rest = append(rest, portRange{hi + 1, p.hi})
		}
	}
	return in, rest
}

// halves splits p (not a single address) into its two halves.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	lo := netip.PrefixFrom(p.Addr(), bits).Masked()
	b := lo.Addr().AsSlice()
	b[(bits-1)/8] |= 0x80 >> ((bits - 1) % 8)
	a, _ := netip.AddrFromSlice(b)
	return lo, netip.PrefixFrom(a, bits)
}
