// Package ec2api is a local Amazon EC2 endpoint for tests: security groups,
// managed prefix lists, subnets, route tables, network ACLs and network
// interfaces held in memory, served on
// 127.0.0.1 in the wire
// protocol the aws-sdk-go-v2 ec2 client speaks (EC2 Query: POST / with a
// form-encoded body Action=...&Version=2016-11-15, lists flattened as
// GroupId.1, Filter.1.Value.1, XML responses), with every request's SigV4
// signature verified, so that the real client parses its answers into the
// same typed results and errors as AWS's.
//
// It implements DescribeSecurityGroups (by GroupId.N, GroupName.N and the
// filters group-id, group-name and vpc-id, with MaxResults and NextToken)
// and GetManagedPrefixListEntries, the two calls needed to evaluate a
// group's rules. Rules are answered as EC2 answers them: protocol "-1"
// (all traffic) without ports, referenced groups as UserIdGroupPairs,
// IPv4 and IPv6 ranges and prefix list ids.
//
// It implements DescribeSubnets (by SubnetId.N and the filters subnet-id
// and vpc-id) and DescribeRouteTables (by RouteTableId.N and the filters
// route-table-id, vpc-id, association.subnet-id and association.main), the
// calls needed to follow a subnet's traffic to its route table, both with
// MaxResults and NextToken. A subnet is answered available, with the
// address count its CIDR leaves after EC2's five reserved addresses. A
// route table is answered with its routes (active; origin
// CreateRouteTable for the local route, CreateRoute for the others) and
// its associations: the main one (main true, no subnet) when it is its
// VPC's main table, then one per explicitly associated subnet, with ids
// (rtbassoc-...) that stay the same for a table and subnet.
//
// It implements DescribeNetworkAcls (by NetworkAclId.N and the filters
// network-acl-id, vpc-id, default, association.subnet-id and
// association.network-acl-id, with MaxResults and NextToken). An ACL is
// answered with its entries, outbound then inbound, each by rule number,
// ending with EC2's "*" rules (32767 deny 0.0.0.0/0, and 32768 deny ::/0
// when it has IPv6 entries), and with its associations: every subnet of a
// VPC that no ACL lists is associated with the VPC's default ACL, as in
// EC2, where each subnet has exactly one network ACL.
//
// It implements DescribeNetworkInterfaces (by NetworkInterfaceId.N and the
// filters network-interface-id, subnet-id, vpc-id, description, group-id,
// interface-type, addresses.private-ip-address (any of an interface's
// addresses) and private-ip-address (its primary one), with MaxResults
// and NextToken). An interface is answered in use, in its subnet's VPC
// and availability zone, with its private IPv4 addresses (the first one
// primary) and its security groups, named as the server's groups are (by
// id for a group it lacks), but without attachment, public address or
// IPv6 address.
//
// It implements DescribeVpcPeeringConnections (by VpcPeeringConnectionId.N
// and the filters vpc-peering-connection-id, status-code,
// requester-vpc-info.vpc-id and .cidr-block, accepter-vpc-info.vpc-id,
// .cidr-block and .owner-id, with MaxResults and NextToken). A connection
// is answered with both sides in the server's region, each with its one
// IPv4 block, and its status code with EC2's message.
//
// Errors are sent as EC2 sends them: <Response><Errors><Error><Code>..
// </Code><Message>..</Message></Error></Errors><RequestID>..</RequestID>
// </Response> with a 4xx status. The SDK has no types for EC2's errors: it
// returns a smithy.GenericAPIError whose ErrorCode is the code
// (InvalidGroup.NotFound, InvalidGroupId.Malformed,
// InvalidPrefixListID.NotFound, InvalidSubnetID.NotFound,
// InvalidRouteTableID.NotFound, UnauthorizedOperation, DryRunOperation,
// AuthFailure, ...). Deny makes an action answer UnauthorizedOperation, as
// a caller without the IAM permission is answered; Throttle makes the next
// requests answer RequestLimitExceeded, as EC2 throttles callers.
//
// Signatures are checked with awstest.Endpoint.Verify. A request that
// fails is answered with EC2's code for it: AuthFailure for an unknown key,
// a wrong scope or a wrong signature, RequestExpired for a skewed clock,
// MissingAuthenticationToken and IncompleteSignature for a missing or
// malformed Authorization header. (awstest.Guard is not put in front: its
// error dialects do not include EC2's document, which the SDK needs to
// read the code.)
//
// Not implemented: every other EC2 action (answered InvalidAction), the
// other filters of the Describe actions (answered InvalidParameterValue),
// tags, security group rule ids, prefix list versions, VPCs themselves
// (a VPC is only the id its resources name), IPv6 subnets, route
// propagation, blackhole routes, and gateway (edge) route table
// associations.
package ec2api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// APIVersion is the only Version the endpoint accepts, the one the SDK
// sends.
const APIVersion = "2016-11-15"

// The IAM actions Deny takes.
const (
	ActionDescribeSecurityGroups      = "ec2:DescribeSecurityGroups"
	ActionGetManagedPrefixListEntries = "ec2:GetManagedPrefixListEntries"
	ActionDescribeSubnets             = "ec2:DescribeSubnets"
	ActionDescribeRouteTables         = "ec2:DescribeRouteTables"
)

// defaultVpcID is the VPC of a group, subnet or route table that names
// none.
const defaultVpcID = "vpc-0a1b2c3d"

// Protocol values of a Permission, as EC2 reports them.
const (
	// AllProtocols is "-1": all traffic, every protocol and port.
	AllProtocols = "-1"
	ProtocolTCP  = "tcp"
	ProtocolUDP  = "udp"
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for; empty means
	// us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// AccountID owns the groups (their OwnerId and ARN); empty means
	// 123456789012.
	AccountID string
	// Principal is the caller's ARN, named in UnauthorizedOperation
	// messages; empty means arn:aws:iam::ACCOUNT:user/penstock.
	Principal string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
}

// SecurityGroup is a security group the endpoint serves.
type SecurityGroup struct {
	// ID is the group id, sg- followed by 8 or 17 hexadecimal digits.
	ID string
	// Name and Description default to the ID.
	Name        string
	Description string
	// VpcID is the group's VPC; empty means vpc-0a1b2c3d (defaultVpcID).
	VpcID string
	// Ingress and Egress are the inbound and outbound rules.
	Ingress []Permission
	Egress  []Permission
}

// Permission is one rule of a group (EC2's IpPermission): a protocol and
// port range, and the peers it applies to.
type Permission struct {
	// Protocol is AllProtocols ("-1"), "tcp", "udp", "icmp", "icmpv6" or
	// a protocol number.
	Protocol string
	// FromPort and ToPort bound the port range (ICMP type and code for
	// ICMP); they are not sent for AllProtocols.
	FromPort, ToPort int
	// CIDRs and IPv6CIDRs are address ranges (IpRanges, Ipv6Ranges).
	CIDRs     []string
	IPv6CIDRs []string
	// PrefixLists are managed prefix list ids (pl-...).
	PrefixLists []string
	// Groups are referenced security group ids (UserIdGroupPairs), owned
	// by the endpoint's account.
	Groups []string
}

// TCP returns a rule for TCP ports from to to, applying to nothing yet.
func TCP(from, to int) Permission {
	return Permission{Protocol: ProtocolTCP, FromPort: from, ToPort: to}
}

// AllTraffic returns a rule for every protocol and port, applying to
// nothing yet.
func AllTraffic() Permission { return Permission{Protocol: AllProtocols} }

// ToCIDRs returns p applying to IPv4 and IPv6 ranges too, told apart by
// their form.
func (p Permission) ToCIDRs(cidrs ...string) Permission {
	for _, c := range cidrs {
		if pfx, err := parsePrefix(c); err == nil && pfx.Addr().Is6() {
			p.IPv6CIDRs = append(p.IPv6CIDRs, c)
		} else {
			p.CIDRs = append(p.CIDRs, c)
		}
	}
	return p
}

// ToGroups returns p applying to the security groups ids too.
func (p Permission) ToGroups(ids ...string) Permission {
	p.Groups = append(p.Groups, ids...)
	return p
}

// ToPrefixLists returns p applying to the managed prefix lists ids too.
func (p Permission) ToPrefixLists(ids ...string) Permission {
	p.PrefixLists = append(p.PrefixLists, ids...)
	return p
}

// DefaultEgress is the outbound rule EC2 gives a new group: all traffic
// to 0.0.0.0/0.
func DefaultEgress() Permission { return AllTraffic().ToCIDRs("0.0.0.0/0") }

// Server is a running local EC2 endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu                sync.Mutex
	groups            map[string]SecurityGroup     // by id
	prefixLists       map[string][]string          // id → CIDRs
	subnets           map[string]Subnet            // by id
	routeTables       map[string]RouteTable        // by id
	networkACLs       map[string]NetworkACL        // by id
	networkInterfaces map[string]NetworkInterface  // by id
	peerings          map[string]PeeringConnection // by id
	denied            map[string]bool
	requests          map[string]int
	throttle          int // requests still to answer RequestLimitExceeded
}

var (
	groupIDRe      = idRe("sg")
	prefixListIDRe = idRe("pl")
)

// idRe matches the ids of a kind of resource: one of the prefixes
// ("igw|vgw"), a dash, and 8 or 17 hexadecimal digits.
func idRe(prefixes string) *regexp.Regexp {
	return regexp.MustCompile(`^(` + prefixes + `)-([0-9a-f]{8}|[0-9a-f]{17})$`)
}

// Start listens on a random port of 127.0.0.1 and serves the EC2 API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "ec2api", Service: "ec2", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Principal == "" {
		opts.Principal = "arn:aws:iam::" + opts.AccountID + ":user/penstock"
	}
	s := &Server{
		Endpoint:          e,
		opts:              opts,
		groups:            map[string]SecurityGroup{},
		prefixLists:       map[string][]string{},
		subnets:           map[string]Subnet{},
		routeTables:       map[string]RouteTable{},
		networkACLs:       map[string]NetworkACL{},
		networkInterfaces: map[string]NetworkInterface{},
		peerings:          map[string]PeeringConnection{},
		denied:            map[string]bool{},
		requests:          map[string]int{},
	}
	// serve verifies signatures itself, so no API handler goes behind the
	// Guard.
	if err := s.Serve(nil, http.HandlerFunc(s.serve), nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Region returns the region the endpoint serves.
func (s *Server) Region() string { return s.opts.Region }

// arn is the ARN of the endpoint account's EC2 resource id, of the type
// resource ("subnet", ...).
func (s *Server) arn(resource, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", s.opts.Region, s.opts.AccountID, resource, id)
}

// AddGroup registers (or replaces) a security group. It panics when the
// group's id or a rule's CIDR or referenced id is malformed: it is for
// setting up tests.
func (s *Server) AddGroup(g SecurityGroup) {
	if !groupIDRe.MatchString(g.ID) {
		panic(fmt.Sprintf("ec2api: AddGroup: %q is not a security group id", g.ID))
	}
	for _, p := range append(append([]Permission{}, g.Ingress...), g.Egress...) {
		for _, c := range append(append([]string{}, p.CIDRs...), p.IPv6CIDRs...) {
			if _, err := parsePrefix(c); err != nil {
				panic(fmt.Sprintf("ec2api: AddGroup %s: %v", g.ID, err))
			}
		}
		for _, id := range p.Groups {
			if !groupIDRe.MatchString(id) {
				panic(fmt.Sprintf("ec2api: AddGroup %s: %q is not a security group id", g.ID, id))
			}
		}
		for _, id := range p.PrefixLists {
			if !prefixListIDRe.MatchString(id) {
				panic(fmt.Sprintf("ec2api: AddGroup %s: %q is not a prefix list id", g.ID, id))
			}
		}
	}
	if g.Name == "" {
		g.Name = g.ID
	}
	if g.Description == "" {
		g.Description = g.ID
	}
	if g.VpcID == "" {
		g.VpcID = defaultVpcID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[g.ID] = g
}

// AddPrefixList registers (or replaces) the managed prefix list id with
// its CIDR entries. It panics on a malformed id or CIDR.
func (s *Server) AddPrefixList(id string, cidrs ...string) {
	if !prefixListIDRe.MatchString(id) {
		panic(fmt.Sprintf("ec2api: AddPrefixList: %q is not a prefix list id", id))
	}
	for _, c := range cidrs {
		if _, err := parsePrefix(c); err != nil {
			panic(fmt.Sprintf("ec2api: AddPrefixList %s: %v", id, err))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefixLists[id] = append([]string(nil), cidrs...)
}

// Deny refuses the IAM actions (ActionDescribeSecurityGroups, ...) to the
// caller, as a missing permission would: they answer
// UnauthorizedOperation. An action may be named without its "ec2:"
// (Deny("DescribeSubnets")). No actions means every action.
func (s *Server) Deny(actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(actions) == 0 {
		actions = []string{"*"}
	}
	for _, a := range actions {
		if a != "*" && !strings.Contains(a, ":") {
			a = "ec2:" + a
		}
		s.denied[a] = true
	}
}

// Throttle makes the next n requests that pass signature verification
// answer RequestLimitExceeded (HTTP 503), as EC2 answers callers over its
// request rate; they count in Requests.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Allow lifts every Deny.
func (s *Server) Allow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.denied)
}

// Requests returns how many requests for action op (e.g.
// "DescribeSecurityGroups") passed signature verification, whatever their
// outcome.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		writeError(w, id, newError(http.StatusBadRequest, "MalformedQueryString", "Could not read the request body: %v", err))
		return
	}
	if err := s.Verify(r, body); err != nil {
		writeError(w, id, signatureError(err))
		return
	}
	s.serveAPI(w, r, id, body)
}

// signatureError is EC2's answer to a request whose signature did not
// verify; the verifier's reason follows EC2's message in parentheses.
func signatureError(err error) *apiError {
	kind := awstest.KindSignature
	var ve *awstest.VerifyError
	if errors.As(err, &ve) {
		kind = ve.Kind
	}
	var e *apiError
	switch kind {
	case awstest.KindMissing:
		e = newError(http.StatusUnauthorized, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case awstest.KindMalformed:
		e = newError(http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to AWS standards.")
	case awstest.KindSkew:
		e = newError(http.StatusBadRequest, "RequestExpired", "Request has expired.")
	default:
		e = newError(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	}
	e.Message += " (" + err.Error() + ")"
	return e
}

// call is one request being served.
type call struct {
	s    *Server
	op   string
	form url.Values
}

type handlerFunc func(c *call) (any, *apiError)

var handlers = map[string]struct {
	action string
	h      handlerFunc
}{
	"DescribeSecurityGroups":        {ActionDescribeSecurityGroups, (*call).describeSecurityGroups},
	"GetManagedPrefixListEntries":   {ActionGetManagedPrefixListEntries, (*call).getManagedPrefixListEntries},
	"DescribeSubnets":               {ActionDescribeSubnets, (*call).describeSubnets},
	"DescribeRouteTables":           {ActionDescribeRouteTables, (*call).describeRouteTables},
	"DescribeNetworkAcls":           {ActionDescribeNetworkAcls, (*call).describeNetworkAcls},
	"DescribeNetworkInterfaces":     {ActionDescribeNetworkInterfaces, (*call).describeNetworkInterfaces},
	"DescribeVpcPeeringConnections": {ActionDescribeVpcPeeringConnections, (*call).describeVpcPeeringConnections},
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if r.Method != http.MethodPost {
		writeError(w, id, newError(http.StatusBadRequest, "InvalidAction", "This endpoint takes POST requests with a form-encoded body."))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, id, newError(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: %v", err))
		return
	}
	for k, vs := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = vs
		}
	}
	op := form.Get("Action")
	if op == "" {
		writeError(w, id, newError(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action"))
		return
	}
	h, ok := handlers[op]
	if !ok {
		writeError(w, id, newError(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", op))
		return
	}
	if v := form.Get("Version"); v != APIVersion {
		writeError(w, id, newError(http.StatusBadRequest, "InvalidParameterValue", "Version %q is not supported; use %s.", v, APIVersion))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	denied := s.denied["*"] || s.denied[h.action]
	throttled := s.throttle > 0
	if throttled {
		s.throttle--
	}
	s.mu.Unlock()
	s.Log.Debug("ec2api: request", "op", op, "denied", denied, "throttled", throttled)
	switch {
	case throttled:
		writeError(w, id, newError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."))
		return
	case denied:
		writeError(w, id, newError(http.StatusForbidden, "UnauthorizedOperation",
			"You are not authorized to perform this operation. User: %s is not authorized to perform: %s because no identity-based policy allows the %s action",
			s.opts.Principal, h.action, h.action))
		return
	case form.Get("DryRun") == "true":
		writeError(w, id, newError(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
		return
	}
	res, aerr := h.h(&call{s: s, op: op, form: form})
	if aerr != nil {
		writeError(w, id, aerr)
		return
	}
	writeResult(w, id, op, res)
}

// list returns the values of a flattened list parameter (name.1,
// name.2, ...), in index order.
func list(form url.Values, name string) []string {
	type item struct {
		i int
		v string
	}
	var items []item
	for k, vs := range form {
		var i int
		if n, err := fmt.Sscanf(k, name+".%d", &i); err != nil || n != 1 || k != fmt.Sprintf("%s.%d", name, i) {
			continue
		}
		items = append(items, item{i, vs[0]})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}
