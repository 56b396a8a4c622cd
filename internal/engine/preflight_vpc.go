package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/sources/kafka"
)

// ec2EndpointEnv names the environment variable that replaces the EC2
// endpoint the security group checks call (for emulators); the pipeline's
// endpoint_url settings belong to other services.
const ec2EndpointEnv = "PENSTOCK_EC2_ENDPOINT"

// resultAWSUnreachable is the processing result of a network that cannot
// reach the AWS endpoints the ESM calls.
const resultAWSUnreachable = "EVENT_SOURCE_CONNECTION_ERROR: the VPC cannot reach Lambda and STS (and Secrets Manager when authentication needs it)"

// checkSecurityGroup names the security group checks.
const checkSecurityGroup = "security group"

// ec2API is the part of the EC2 client the security group and subnet
// checks use.
type ec2API interface {
	DescribeSecurityGroups(context.Context, *awsec2.DescribeSecurityGroupsInput, ...func(*awsec2.Options)) (*awsec2.DescribeSecurityGroupsOutput, error)
	GetManagedPrefixListEntries(context.Context, *awsec2.GetManagedPrefixListEntriesInput, ...func(*awsec2.Options)) (*awsec2.GetManagedPrefixListEntriesOutput, error)
	DescribeSubnets(context.Context, *awsec2.DescribeSubnetsInput, ...func(*awsec2.Options)) (*awsec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(context.Context, *awsec2.DescribeRouteTablesInput, ...func(*awsec2.Options)) (*awsec2.DescribeRouteTablesOutput, error)
	DescribeNetworkAcls(context.Context, *awsec2.DescribeNetworkAclsInput, ...func(*awsec2.Options)) (*awsec2.DescribeNetworkAclsOutput, error)
	DescribeNetworkInterfaces(context.Context, *awsec2.DescribeNetworkInterfacesInput, ...func(*awsec2.Options)) (*awsec2.DescribeNetworkInterfacesOutput, error)
	DescribeVpcPeeringConnections(context.Context, *awsec2.DescribeVpcPeeringConnectionsInput, ...func(*awsec2.Options)) (*awsec2.DescribeVpcPeeringConnectionsOutput, error)
}

// vpcNet is how the security group checks learn addresses: host names
// resolved, and the local address Penstock sends from to reach an address.
// Tests replace it.
var vpcNet = struct {
	lookupHost func(ctx context.Context, host string) ([]string, error)
	sourceAddr func(dst netip.Addr) (netip.Addr, error)
}{
	lookupHost: net.DefaultResolver.LookupHost,
	sourceAddr: udpSourceAddr,
}

// udpSourceAddr asks the kernel which local address a datagram to dst
// would leave from; connecting a UDP socket sends nothing.
func udpSourceAddr(dst netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// vpcChecks verifies the security groups of source.kafka.vpc with EC2
// DescribeSecurityGroups, against the rules the ESM needs at minimum: the
// groups exist (in one VPC); outbound, TCP to each broker port (to the
// brokers' addresses, or to one of the groups, as when the cluster shares
// them) and TCP 443 for the AWS endpoints the ESM calls (STS, Lambda,
// Secrets Manager when authentication uses it), to all destinations or to
// addresses that hold those endpoints; inbound, TCP on each broker port
// from the groups themselves (or from an address range holding Penstock's
// address). A rule applies when its protocol is all traffic ("-1") or TCP
// with the port in its range; the rules of all the groups add up, as on a
// network interface that has them all. Prefix lists are read with
// GetManagedPrefixListEntries.
//
// brokers are the host:port pairs in use, after any MSK lookup. A rule
// that cannot be verified from the rules alone (a group other than the
// source's, whose members Penstock does not look up; an unreadable prefix
// list) gives SKIP, as do missing credentials or permissions and failed
// calls; FAIL means a group or a rule is missing. It returns nothing when
// the source has no vpc settings.
func vpcChecks(ctx context.Context, f *config.File, pc *config.Pipeline, brokers []string) []CheckResult {
	k := pc.Source.Kafka
	if k == nil || k.VPC == nil || len(k.VPC.SecurityGroups) == 0 {
		return nil
	}
	v := &vpcCheck{f: f, pc: pc, groups: k.VPC.SecurityGroups}
	all := strings.Join(v.groups, ",")

	var s awsconf.Settings
	switch {
	case k.MSK != nil:
		s = settings(k.MSK.AWS)
	case k.Auth != nil && k.Auth.Mechanism == config.MSKIAM:
		s = settings(k.Auth.AWS)
	}
	s.EndpointURL = os.Getenv(ec2EndpointEnv)
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		v.add(all, CheckSkip, "", "cannot verify the security groups: "+err.Error(),
			"give penstock check AWS credentials and a region allowed ec2:DescribeSecurityGroups to verify them")
		return v.out
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = cfg.Credentials.Retrieve(cctx)
	cancel()
	if err != nil {
		v.add(all, CheckSkip, "", "cannot verify the security groups: no AWS credentials: "+err.Error(),
			"give penstock check AWS credentials (environment, profile, web identity, container or instance role) allowed ec2:DescribeSecurityGroups")
		return v.out
	}
	v.region = cfg.Region
	v.api = awsec2.NewFromConfig(cfg, func(o *awsec2.Options) {
		o.BaseEndpoint = s.Endpoint()
		// One-shot calls, and EC2 throttles Describe calls per account.
		awsconf.OneShot(&o.Retryer, &o.RetryMaxAttempts)
	})
	// An EC2 API the network cannot reach must not hold the check up.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v.resolveBrokers(rctx, brokers)
	v.run(rctx, k)
	v.subnets(rctx, k)
	return v.out
}

// vpcCheck is one pipeline's security group checks in progress.
type vpcCheck struct {
	f      *config.File
	pc     *config.Pipeline
	api    ec2API
	region string
	groups []string // the source's groups, as listed
	have   []string // those that exist, in the same order
	out    []CheckResult

	found    []ec2types.SecurityGroup
	prefixes map[string][]netip.Prefix // prefix list id → entries
	plErrs   map[string]error          // prefix list id → why it could not be read
	sources  []netip.Addr              // Penstock's addresses toward the brokers

	ports      []int                    // the brokers' ports, in order of appearance
	addrs      map[int][]netip.Addr     // port → the addresses of its brokers
	unresolved map[int][]string         // port → the brokers whose names did not resolve
	endpoints  []endpointAddrs          // the AWS endpoints, resolved by the subnet checks
	enis       map[netip.Addr]brokerENI // see brokerENIs
	eniErr     error
	// subnetsRead are the subnets read by id (see subnetByID).
	subnetsRead map[string]ec2types.Subnet
	// peerings are the peering connections read by id (see peering); nil:
	// not readable.
	peerings map[string]*ec2types.VpcPeeringConnection
}

// endpointAddrs is an AWS endpoint name and its addresses (none: it did
// not resolve).
type endpointAddrs struct {
	name  string
	addrs []netip.Addr
}

func (v *vpcCheck) add(target, status, errCode, detail, fix string) {
	v.out = append(v.out, CheckResult{Pipeline: v.pc.Name, Check: checkSecurityGroup, Target: target, Status: status,
		Error: errCode, Detail: detail, Fix: fix})
}

// own reports whether id is one of the source's groups.
func (v *vpcCheck) own(id string) bool { return slices.Contains(v.groups, id) }

func (v *vpcCheck) run(ctx context.Context, k *config.Kafka) {
	if !v.describe(ctx) {
		return
	}
	for _, id := range v.groups {
		for _, g := range v.found {
			if aws.ToString(g.GroupId) == id && !slices.Contains(v.have, id) {
				v.have = append(v.have, id)
			}
		}
	}
	vpcs := map[string][]string{}
	var order []string
	for _, g := range v.found {
		id := aws.ToString(g.VpcId)
		if vpcs[id] == nil {
			order = append(order, id)
		}
		vpcs[id] = append(vpcs[id], aws.ToString(g.GroupId))
	}
	if len(order) > 1 {
		var parts []string
		for _, id := range order {
			parts = append(parts, strings.Join(vpcs[id], ", ")+" in "+id)
		}
		v.add(strings.Join(v.groups, ","), CheckFail, "ESM_CONFIG_NOT_VALID",
			"the security groups belong to different VPCs: "+strings.Join(parts, "; "),
			"list security groups of one VPC, the VPC of source.kafka.vpc.subnets")
	}

	for _, port := range v.ports {
		v.brokerEgress(ctx, port, v.addrs[port], v.unresolved[port])
		v.brokerIngress(ctx, port)
		v.clusterIngress(ctx, port)
	}
	v.httpsEgress(ctx, k)
}

// clusterIngress checks, for the brokers on port whose network interfaces
// are known (brokerENIs) and in groups other than the source's, that those
// groups accept TCP port from the source's groups or from Penstock's
// address: the cluster's side of the connection. The rules of an
// interface's groups add up.
func (v *vpcCheck) clusterIngress(ctx context.Context, port int) {
	enis, _ := v.brokerENIs(ctx)
	var brokers []netip.Addr
	var ids []string // the groups of those brokers that are not the source's
	for _, a := range v.addrs[port] {
		e, ok := enis[a]
		if !ok || slices.ContainsFunc(e.groups, v.own) {
			continue // unknown, or the source's own group (brokerIngress)
		}
		brokers = append(brokers, a)
		for _, g := range e.groups {
			if !slices.Contains(ids, g) {
				ids = append(ids, g)
			}
		}
	}
	if len(brokers) == 0 {
		return
	}
	target := fmt.Sprintf("%s inbound TCP %d", strings.Join(ids, ","), port)
	out, err := v.api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: ids})
	if err != nil {
		what := "cannot verify the brokers' security groups: EC2 DescribeSecurityGroups: " + err.Error()
		if apiErrorCode(err) == "UnauthorizedOperation" {
			what = "cannot verify the brokers' security groups: not allowed to call EC2 DescribeSecurityGroups: " + apiErrorMessage(err)
		}
		v.add(target, CheckSkip, "", what, "make sure "+strings.Join(ids, ", ")+" allow TCP "+strconv.Itoa(port)+" from "+v.groups[0])
		return
	}
	byID := map[string]ec2types.SecurityGroup{}
	for _, g := range out.SecurityGroups {
		byID[aws.ToString(g.GroupId)] = g
	}
	var ok, denied []string
	for _, a := range brokers {
		var found []ec2types.SecurityGroup
		for _, g := range enis[a].groups {
			if sg, in := byID[g]; in {
				found = append(found, sg)
			}
		}
		r := v.reachOf(ctx, found, port, false)
		by := slices.Clone(r.own)
		for _, s := range v.sources {
			if t := r.covering(s); t != "" {
				by = append(by, fmt.Sprintf("%s, which holds Penstock's address %s", t, s))
			}
		}
		if len(by) > 0 {
			ok = append(ok, fmt.Sprintf("%s by %s", a, strings.Join(uniq(by), "; ")))
		} else {
			denied = append(denied, fmt.Sprintf("%s (in %s)", a, strings.Join(enis[a].groups, ", ")))
		}
	}
	if len(denied) > 0 {
		from := v.groups[0]
		if len(v.sources) > 0 {
			from += " or from Penstock's address " + joinAddrs(v.sources)
		}
		v.add(target, CheckFail, kafka.ResultBrokerUnreachable,
			fmt.Sprintf("no inbound rule of the brokers' security groups allows TCP %d from %s: %s", port, from, strings.Join(denied, ", ")),
			fmt.Sprintf("add an inbound rule to %s allowing TCP %d from %s", strings.Join(ids, " or "), port, v.groups[0]))
		return
	}
	v.add(target, CheckOK, "", "the brokers accept TCP "+strconv.Itoa(port)+": "+strings.Join(ok, "; "), "")
}

// resolveBrokers resolves the brokers' addresses, by port in order of
// appearance, and Penstock's own addresses toward them.
func (v *vpcCheck) resolveBrokers(ctx context.Context, brokers []string) {
	v.addrs, v.unresolved = map[int][]netip.Addr{}, map[int][]string{}
	for _, b := range brokers {
		host, ps, err := net.SplitHostPort(b)
		port, perr := strconv.Atoi(ps)
		if err != nil || perr != nil {
			continue
		}
		if _, ok := v.addrs[port]; !ok {
			v.ports = append(v.ports, port)
			v.addrs[port] = nil
		}
		as, err := v.lookup(ctx, host)
		if err != nil {
			v.unresolved[port] = append(v.unresolved[port], host)
			continue
		}
		for _, a := range as {
			if !slices.Contains(v.addrs[port], a) {
				v.addrs[port] = append(v.addrs[port], a)
			}
			if src, err := vpcNet.sourceAddr(a); err == nil && !slices.Contains(v.sources, src) {
				v.sources = append(v.sources, src)
			}
		}
	}
}

// lookup resolves host (an IP address stays itself).
func (v *vpcCheck) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ss, err := vpcNet.lookupHost(lctx, host)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	return out, nil
}

// describe fetches the source's groups and reports, per group, whether it
// exists. It returns false when no group could be read.
func (v *vpcCheck) describe(ctx context.Context) bool {
	all := strings.Join(v.groups, ",")
	out, err := v.api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: v.groups})
	missing := map[string]error{}
	switch code := apiErrorCode(err); {
	case err == nil:
		v.found = out.SecurityGroups
	case code == "InvalidGroup.NotFound" || code == "InvalidGroupId.NotFound":
		// Find out which: one call per group.
		for _, id := range v.groups {
			one, err := v.api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
			switch c := apiErrorCode(err); {
			case err == nil:
				v.found = append(v.found, one.SecurityGroups...)
			case c == "InvalidGroup.NotFound" || c == "InvalidGroupId.NotFound":
				missing[id] = err
			default:
				v.skipAPI(id, err)
			}
		}
	default:
		v.skipAPI(all, err)
		return false
	}
	for _, id := range v.groups {
		if err := missing[id]; err != nil {
			v.add(id, CheckFail, "ESM_CONFIG_NOT_VALID", apiErrorCode(err)+": "+apiErrorMessage(err),
				fmt.Sprintf("%s does not exist in %s for these credentials' account: fix the id in source.kafka.vpc.security_groups%s, or check with the cluster account's credentials and region",
					id, v.region, v.whereIn("security_groups", v.groups, id)))
		}
		for _, g := range v.found {
			if aws.ToString(g.GroupId) == id {
				v.add(id, CheckOK, "", fmt.Sprintf("exists in %s: %d inbound and %d outbound rules",
					aws.ToString(g.VpcId), len(g.IpPermissions), len(g.IpPermissionsEgress)), "")
			}
		}
	}
	return len(v.found) > 0
}

// skipAPI reports a call that failed for reasons other than the groups.
func (v *vpcCheck) skipAPI(target string, err error) {
	if apiErrorCode(err) == "UnauthorizedOperation" {
		v.add(target, CheckSkip, "", "cannot verify the security groups: not allowed to call EC2 DescribeSecurityGroups: "+apiErrorMessage(err),
			"grant ec2:DescribeSecurityGroups (and ec2:GetManagedPrefixListEntries when rules use prefix lists) to the identity penstock check runs as")
		return
	}
	v.add(target, CheckSkip, "", "cannot verify the security groups: EC2 DescribeSecurityGroups: "+err.Error(),
		ec2Fix(err))
}

// ec2Fix says what to do about an EC2 call of the checks that failed for
// a reason other than a missing permission.
func ec2Fix(err error) string {
	if apiErrorCode(err) == "RequestLimitExceeded" {
		return "EC2 throttled the account's calls, three attempts in a row: run penstock check again later"
	}
	return "check the AWS credentials and region, and that the EC2 API (" + ec2EndpointEnv + " when set) is reachable"
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func apiErrorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return err.Error()
}

// allowsTCP reports whether p covers TCP port: all traffic, or TCP with
// the port in its range.
func allowsTCP(p ec2types.IpPermission, port int) bool {
	switch strings.ToLower(aws.ToString(p.IpProtocol)) {
	case "-1", "all":
		return true
	case "tcp", "6":
		if p.FromPort == nil || p.ToPort == nil {
			return true
		}
		from, to := int(*p.FromPort), int(*p.ToPort)
		return from == -1 && to == -1 || from <= port && port <= to
	}
	return false
}

// ruleText says what a rule lets through, for details: "sg-a: TCP
// 9092-9098", "sg-a: all traffic".
func ruleText(group string, p ec2types.IpPermission) string {
	switch proto := strings.ToLower(aws.ToString(p.IpProtocol)); {
	case proto == "-1" || proto == "all":
		return group + ": all traffic"
	case p.FromPort == nil || p.ToPort == nil || *p.FromPort == -1:
		return group + ": TCP all ports"
	case *p.FromPort == *p.ToPort:
		return fmt.Sprintf("%s: TCP %d", group, *p.FromPort)
	default:
		return fmt.Sprintf("%s: TCP %d-%d", group, *p.FromPort, *p.ToPort)
	}
}

// peerRange is an address range a rule applies to, and how it reads.
type peerRange struct {
	prefix netip.Prefix
	text   string // "sg-a: TCP 9096 to 10.0.0.0/16"
}

// reach is what the rules that allow one TCP port in one direction let
// through.
type reach struct {
	ranges   []peerRange       // CIDRs and prefix list entries
	own      []string          // rules naming one of the source's groups
	others   []string          // rules naming other groups (members unknown)
	unknown  []string          // rules with prefix lists that could not be read
	groups   []string          // every group named, in order
	otherIDs []string          // the groups named that are not the source's
	plIDs    []string          // the prefix lists that could not be read
	byGroup  map[string]string // group named → the first rule naming it
}

// reach collects, over the rules of all the source's groups (ingress or
// egress), those allowing TCP port.
func (v *vpcCheck) reach(ctx context.Context, port int, egress bool) reach {
	return v.reachOf(ctx, v.found, port, egress)
}

// reachOf is reach over the rules of groups (the source's, or others:
// the brokers', the VPC endpoints'); rules naming the source's groups
// count as own.
func (v *vpcCheck) reachOf(ctx context.Context, groups []ec2types.SecurityGroup, port int, egress bool) reach {
	dir := " from "
	if egress {
		dir = " to "
	}
	var r reach
	for _, g := range groups {
		id := aws.ToString(g.GroupId)
		perms := g.IpPermissions
		if egress {
			perms = g.IpPermissionsEgress
		}
		for _, p := range perms {
			if !allowsTCP(p, port) {
				continue
			}
			rt := ruleText(id, p) + dir
			for _, x := range p.IpRanges {
				if pfx, err := netip.ParsePrefix(aws.ToString(x.CidrIp)); err == nil {
					r.ranges = append(r.ranges, peerRange{pfx, rt + pfx.String()})
				}
			}
			for _, x := range p.Ipv6Ranges {
				if pfx, err := netip.ParsePrefix(aws.ToString(x.CidrIpv6)); err == nil {
					r.ranges = append(r.ranges, peerRange{pfx, rt + pfx.String()})
				}
			}
			for _, x := range p.PrefixListIds {
				pl := aws.ToString(x.PrefixListId)
				entries, err := v.prefixList(ctx, pl)
				if err != nil {
					r.unknown = append(r.unknown, rt+pl+" ("+err.Error()+")")
					if !slices.Contains(r.plIDs, pl) {
						r.plIDs = append(r.plIDs, pl)
					}
					continue
				}
				for _, e := range entries {
					r.ranges = append(r.ranges, peerRange{e, rt + pl + " (" + e.String() + ")"})
				}
			}
			for _, x := range p.UserIdGroupPairs {
				ref := aws.ToString(x.GroupId)
				if ref == "" {
					continue
				}
				text := rt + ref
				if ref == id {
					text += " (itself)"
				}
				if !slices.Contains(r.groups, ref) {
					r.groups = append(r.groups, ref)
					if r.byGroup == nil {
						r.byGroup = map[string]string{}
					}
					r.byGroup[ref] = text
				}
				if v.own(ref) {
					r.own = append(r.own, text)
				} else {
					r.others = append(r.others, text)
					if !slices.Contains(r.otherIDs, ref) {
						r.otherIDs = append(r.otherIDs, ref)
					}
				}
			}
		}
	}
	return r
}

// split returns, for addrs, the rules that cover each covered address
// and the addresses no rule covers.
func (r reach) split(addrs []netip.Addr) (by []string, uncovered []netip.Addr) {
	for _, a := range addrs {
		if t := r.covering(a); t != "" {
			by = append(by, t)
		} else {
			uncovered = append(uncovered, a)
		}
	}
	return by, uncovered
}

// covering returns the range text allowing a, or "".
func (r reach) covering(a netip.Addr) string {
	for _, pr := range r.ranges {
		if pr.prefix.Contains(a) {
			return pr.text
		}
	}
	return ""
}

// brokerENI is what the network interface holding a broker's address says.
type brokerENI struct {
	subnet string
	groups []string
}

// brokerENIs returns the network interfaces that hold the brokers' private
// addresses (DescribeNetworkInterfaces), looked up once, by address; an
// address no interface holds is absent. err is the call's error, when it
// failed.
func (v *vpcCheck) brokerENIs(ctx context.Context) (map[netip.Addr]brokerENI, error) {
	if v.enis != nil || v.eniErr != nil {
		return v.enis, v.eniErr
	}
	v.enis = map[netip.Addr]brokerENI{}
	var private []string
	for _, port := range v.ports {
		for _, a := range v.addrs[port] {
			if a.IsPrivate() && !slices.Contains(private, a.String()) {
				private = append(private, a.String())
			}
		}
	}
	if len(private) == 0 {
		return v.enis, nil
	}
	out, err := v.api.DescribeNetworkInterfaces(ctx, &awsec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("addresses.private-ip-address"), Values: private}}})
	if err != nil {
		v.enis, v.eniErr = nil, err
		return nil, err
	}
	for _, eni := range out.NetworkInterfaces {
		e := brokerENI{subnet: aws.ToString(eni.SubnetId)}
		for _, g := range eni.Groups {
			e.groups = append(e.groups, aws.ToString(g.GroupId))
		}
		for _, pa := range eni.PrivateIpAddresses {
			if a, err := netip.ParseAddr(aws.ToString(pa.PrivateIpAddress)); err == nil && slices.Contains(private, a.String()) {
				v.enis[a] = e
			}
		}
	}
	return v.enis, nil
}

// prefixList returns the entries of a managed prefix list, read once.
func (v *vpcCheck) prefixList(ctx context.Context, id string) ([]netip.Prefix, error) {
	if e, ok := v.prefixes[id]; ok {
		return e, nil
	}
	if err, ok := v.plErrs[id]; ok {
		return nil, err
	}
	if v.prefixes == nil {
		v.prefixes, v.plErrs = map[string][]netip.Prefix{}, map[string]error{}
	}
	var out []netip.Prefix
	p := awsec2.NewGetManagedPrefixListEntriesPaginator(v.api, &awsec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if c := apiErrorCode(err); c != "" {
				err = errors.New(c)
			}
			v.plErrs[id] = err
			return nil, err
		}
		for _, e := range page.Entries {
			if pfx, err := netip.ParsePrefix(aws.ToString(e.Cidr)); err == nil {
				out = append(out, pfx)
			}
		}
	}
	v.prefixes[id] = out
	return out, nil
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// brokerEgress checks that the groups let Penstock connect to the brokers
// on port.
func (v *vpcCheck) brokerEgress(ctx context.Context, port int, addrs []netip.Addr, unresolved []string) {
	target := fmt.Sprintf("%s outbound TCP %d", strings.Join(v.have, ","), port)
	r := v.reach(ctx, port, true)
	var missing []string
	by, uncovered := r.split(addrs)
	// Rules naming groups cover the brokers whose network interfaces are
	// in one of them; brokers without a known interface stay unknown.
	var unknown []netip.Addr
	if len(uncovered) > 0 && len(r.groups) > 0 {
		enis, _ := v.brokerENIs(ctx) // without them, group rules stay unverified
		var still []netip.Addr
		for _, a := range uncovered {
			e, known := enis[a]
			i := slices.IndexFunc(r.groups, func(g string) bool { return slices.Contains(e.groups, g) })
			switch {
			case !known:
				unknown = append(unknown, a)
				still = append(still, a)
			case i >= 0:
				by = append(by, fmt.Sprintf("%s, which holds the network interface of %s", r.byGroup[r.groups[i]], a))
			default:
				still = append(still, a)
			}
		}
		uncovered = still
	}
	brokersText := joinAddrs(addrs)
	if len(unresolved) > 0 {
		missing = append(missing, "the addresses of "+strings.Join(unresolved, ", ")+" (not resolved)")
	}
	if len(uncovered) > 0 {
		missing = append(missing, joinAddrs(uncovered))
	}
	first := v.have[0]
	switch {
	case len(addrs) > 0 && len(missing) == 0:
		v.add(target, CheckOK, "", fmt.Sprintf("brokers %s allowed by %s", brokersText, strings.Join(uniq(by), "; ")), "")
	case len(r.own) > 0 && len(unknown) == len(uncovered):
		v.add(target, CheckOK, "", "allowed by "+strings.Join(r.own, "; ")+
			": the brokers must be in that group, as in the ESM's documented setup", "")
	case (len(r.others) > 0 || len(r.unknown) > 0) && len(unknown) == len(uncovered):
		v.add(target, CheckSkip, "", fmt.Sprintf("no rule allows TCP %d to %s by address; allowed only by %s, which Penstock cannot match to the brokers",
			port, strings.Join(missing, " and "), strings.Join(append(r.others, r.unknown...), "; ")),
			r.unverifiableFix("the brokers are")+fmt.Sprintf("add an outbound rule to %s allowing TCP %d to the cluster's security group or CIDR", first, port))
	default:
		detail := fmt.Sprintf("no outbound rule of %s allows TCP %d to the brokers", strings.Join(v.have, ", "), port)
		if len(missing) > 0 {
			detail += " (" + strings.Join(missing, " and ") + ")"
		}
		v.add(target, CheckFail, kafka.ResultBrokerUnreachable, detail,
			fmt.Sprintf("add an outbound rule to %s allowing TCP %d to the cluster's security group (%s itself when the cluster shares it) or CIDR", first, port, first))
	}
}

// brokerIngress checks that the groups accept connections on the broker
// port from themselves, as the ESM's documented setup requires of the
// groups it shares with the cluster.
func (v *vpcCheck) brokerIngress(ctx context.Context, port int) {
	target := fmt.Sprintf("%s inbound TCP %d", strings.Join(v.have, ","), port)
	r := v.reach(ctx, port, false)
	var by []string
	for _, s := range v.sources {
		if t := r.covering(s); t != "" {
			by = append(by, fmt.Sprintf("%s, which holds Penstock's address %s", t, s))
		}
	}
	first := v.have[0]
	switch {
	case len(r.own) > 0:
		v.add(target, CheckOK, "", "allowed by "+strings.Join(r.own, "; "), "")
	case len(v.sources) > 0 && len(by) == len(v.sources):
		v.add(target, CheckOK, "", "allowed by "+strings.Join(by, "; "), "")
	case len(r.others) > 0 || len(r.unknown) > 0 || (len(r.ranges) > 0 && len(v.sources) == 0):
		rules := append(append([]string{}, r.others...), r.unknown...)
		for _, pr := range r.ranges {
			rules = append(rules, pr.text)
		}
		v.add(target, CheckSkip, "", fmt.Sprintf("no rule allows TCP %d from the event source's security groups; allowed only by %s, which Penstock cannot match to its own address",
			port, strings.Join(uniq(rules), "; ")),
			r.unverifiableFix("Penstock is")+fmt.Sprintf("add an inbound rule to %s allowing TCP %d from %s itself (a self-referencing rule)", first, port, first))
	default:
		detail := fmt.Sprintf("no inbound rule of %s allows TCP %d from %s", strings.Join(v.have, ", "), port, strings.Join(v.have, ", "))
		if len(v.sources) > 0 {
			detail += " or from Penstock's address " + joinAddrs(v.sources)
		}
		v.add(target, CheckFail, kafka.ResultBrokerUnreachable, detail,
			fmt.Sprintf("add an inbound rule to %s allowing TCP %d from %s itself (a self-referencing rule)", first, port, first))
	}
}

// unverifiableFix is the start of the fix for rules that name peers
// Penstock cannot match: "make sure WHO in sg-x; grant
// ec2:GetManagedPrefixListEntries to read pl-y; or " (who ends with its
// verb: "the brokers are").
func (r reach) unverifiableFix(who string) string {
	var parts []string
	if groups := r.otherIDs; len(groups) > 0 {
		parts = append(parts, "make sure "+who+" in "+strings.Join(groups, " or "))
	}
	if len(r.plIDs) > 0 {
		parts = append(parts, "grant ec2:GetManagedPrefixListEntries to read "+strings.Join(r.plIDs, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "; or "
}

// awsEndpoints are the host names of the AWS APIs the ESM calls from the
// VPC: STS and Lambda always, Secrets Manager when the source reads a
// secret from it.
func awsEndpoints(region string, k *config.Kafka) []string {
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	services := []string{"sts", "lambda"}
	refs := []string{k.TLS.RootCA}
	if a := k.Auth; a != nil {
		refs = append(refs, a.Secret, a.Username, a.Password, a.Certificate, a.PrivateKey, a.PrivateKeyPassword)
	}
	for _, r := range refs {
		if strings.HasPrefix(strings.TrimPrefix(r, "${"), "secretsmanager:") {
			services = append(services, "secretsmanager")
			break
		}
	}
	out := make([]string, len(services))
	for i, s := range services {
		out[i] = s + "." + region + "." + suffix
	}
	return out
}

// httpsEgress checks that the groups let the ESM reach the AWS endpoints
// it calls on TCP 443: to all destinations (through a NAT gateway), or to
// address ranges that hold the endpoints' addresses (VPC endpoints with
// private DNS, as resolved where Penstock runs).
func (v *vpcCheck) httpsEgress(ctx context.Context, k *config.Kafka) {
	target := strings.Join(v.have, ",") + " outbound TCP 443"
	r := v.reach(ctx, 443, true)
	any4 := netip.MustParsePrefix("0.0.0.0/0")
	for _, pr := range r.ranges {
		if pr.prefix == any4 {
			v.add(target, CheckOK, "", "allowed to all destinations by "+pr.text, "")
			return
		}
	}
	names := awsEndpoints(v.region, k)
	first := v.have[0]
	var by, missing []string
	for _, name := range names {
		as, err := v.lookup(ctx, name)
		if err != nil {
			missing = append(missing, name+" (not resolved: "+err.Error()+")")
			continue
		}
		texts, out := r.split(as)
		if len(out) > 0 {
			missing = append(missing, name+" ("+joinAddrs(out)+")")
			continue
		}
		by = append(by, fmt.Sprintf("%s (%s) by %s", name, joinAddrs(as), strings.Join(uniq(texts), ", ")))
	}
	fix := fmt.Sprintf("add an outbound rule to %s allowing TCP 443 to 0.0.0.0/0 (with a NAT gateway), or to the VPC endpoints (private DNS enabled) of %s",
		first, strings.Join(names, ", "))
	switch {
	case len(missing) == 0:
		v.add(target, CheckOK, "", "allowed to "+strings.Join(by, "; "), "")
	case len(r.own)+len(r.others)+len(r.unknown) > 0:
		rules := append(append(append([]string{}, r.own...), r.others...), r.unknown...)
		endpointsIn := r
		endpointsIn.otherIDs = r.groups // the source's own groups may hold the endpoints too
		v.add(target, CheckSkip, "", fmt.Sprintf("TCP 443 to %s is allowed only by %s, which Penstock cannot match to the endpoints' addresses",
			strings.Join(missing, ", "), strings.Join(rules, "; ")),
			endpointsIn.unverifiableFix("the VPC endpoints of "+strings.Join(names, ", ")+" are")+fix)
		v.endpointGroupsIngress(ctx, r.groups)
	default:
		detail := fmt.Sprintf("no outbound rule of %s allows TCP 443 to %s", strings.Join(v.have, ", "), strings.Join(missing, ", "))
		v.add(target, CheckFail, resultAWSUnreachable, detail, fix)
	}
}

// endpointGroupsIngress checks that the groups outbound TCP 443 names
// (the VPC endpoints' groups) accept TCP 443 from the source's groups.
func (v *vpcCheck) endpointGroupsIngress(ctx context.Context, ids []string) {
	byID := map[string]ec2types.SecurityGroup{}
	for _, g := range v.found {
		byID[aws.ToString(g.GroupId)] = g
	}
	var fetch []string
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			fetch = append(fetch, id)
		}
	}
	for _, id := range fetch {
		out, err := v.api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		switch c := apiErrorCode(err); {
		case err == nil:
			for _, g := range out.SecurityGroups {
				byID[aws.ToString(g.GroupId)] = g
			}
		case c == "InvalidGroup.NotFound" || c == "InvalidGroupId.NotFound":
			v.add(id+" inbound TCP 443", CheckFail, resultAWSUnreachable,
				"an outbound TCP 443 rule of "+strings.Join(v.have, ", ")+" names "+id+", which does not exist: "+apiErrorMessage(err),
				"point the outbound TCP 443 rule of "+v.have[0]+" at the VPC endpoints' security group")
		default:
			v.skipAPI(id+" inbound TCP 443", err)
		}
	}
	for _, id := range ids {
		g, ok := byID[id]
		if !ok {
			continue
		}
		target := id + " inbound TCP 443"
		r := v.reachOf(ctx, []ec2types.SecurityGroup{g}, 443, false)
		var from []string
		for _, pr := range r.ranges {
			for _, s := range v.sources {
				if pr.prefix.Contains(s) {
					from = append(from, fmt.Sprintf("%s, which holds Penstock's address %s", pr.text, s))
				}
			}
		}
		fix := fmt.Sprintf("add an inbound rule to %s (the VPC endpoints' group) allowing TCP 443 from %s", id, v.have[0])
		switch {
		case len(r.own) > 0:
			v.add(target, CheckOK, "", "allowed by "+strings.Join(r.own, "; "), "")
		case len(from) > 0:
			v.add(target, CheckOK, "", "allowed by "+strings.Join(from, "; "), "")
		case len(r.others)+len(r.unknown) > 0:
			v.add(target, CheckSkip, "", "TCP 443 is allowed only by "+strings.Join(append(r.others, r.unknown...), "; ")+
				", which Penstock cannot match to the event source's groups", r.unverifiableFix("Penstock is")+fix)
		default:
			v.add(target, CheckFail, resultAWSUnreachable,
				fmt.Sprintf("no inbound rule of %s allows TCP 443 from %s", id, strings.Join(v.have, ", ")), fix)
		}
	}
}
