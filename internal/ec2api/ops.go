package ec2api

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/penstock-dev/penstock/internal/awstest"
)

// The XML shapes of the answers, named as EC2 names their elements.

type xmlGroup struct {
	OwnerID             string          `xml:"ownerId"`
	GroupID             string          `xml:"groupId"`
	GroupName           string          `xml:"groupName"`
	GroupDescription    string          `xml:"groupDescription"`
	VpcID               string          `xml:"vpcId"`
	SecurityGroupArn    string          `xml:"securityGroupArn"`
	IPPermissions       []xmlPermission `xml:"ipPermissions>item"`
	IPPermissionsEgress []xmlPermission `xml:"ipPermissionsEgress>item"`
}

type xmlPermission struct {
	IPProtocol    string       `xml:"ipProtocol"`
	FromPort      *int         `xml:"fromPort,omitempty"`
	ToPort        *int         `xml:"toPort,omitempty"`
	Groups        []xmlPair    `xml:"groups>item"`
	IPRanges      []xmlRange   `xml:"ipRanges>item"`
	IPv6Ranges    []xmlRange6  `xml:"ipv6Ranges>item"`
	PrefixListIDs []xmlPrefixL `xml:"prefixListIds>item"`
}

type xmlPair struct {
	UserID  string `xml:"userId"`
	GroupID string `xml:"groupId"`
	VpcID   string `xml:"vpcId,omitempty"`
}

type xmlRange struct {
	CidrIP string `xml:"cidrIp"`
}

type xmlRange6 struct {
	CidrIPv6 string `xml:"cidrIpv6"`
}

type xmlPrefixL struct {
	PrefixListID string `xml:"prefixListId"`
}

// The results marshal as <result>fields</result>; writeResult puts the
// fields into the response element.

type describeSecurityGroupsResult struct {
	XMLName   xml.Name   `xml:"result"`
	Groups    []xmlGroup `xml:"securityGroupInfo>item"`
	NextToken string     `xml:"nextToken,omitempty"`
}

type xmlEntry struct {
	Cidr string `xml:"cidr"`
}

type getManagedPrefixListEntriesResult struct {
	XMLName   xml.Name   `xml:"result"`
	Entries   []xmlEntry `xml:"entrySet>item"`
	NextToken string     `xml:"nextToken,omitempty"`
}

// describeSecurityGroups answers the groups named by GroupId.N and
// GroupName.N (all of them when neither is given) that pass the filters,
// sorted by id.
func (c *call) describeSecurityGroups() (any, *apiError) {
	ids := list(c.form, groupIDs.param)
	names := list(c.form, "GroupName")
	f, aerr := parseFilters(c.form, slices.Collect(maps.Keys(groupFilters))...)
	if aerr != nil {
		return nil, aerr
	}
	max, token, aerr := paging(c.form, 5, 1000)
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := c.form["MaxResults"]; ok && len(ids)+len(names) > 0 {
		return nil, newError(http.StatusBadRequest, "InvalidParameterCombination", "The parameter groupIds cannot be used with the parameter maxResults")
	}
	if aerr := groupIDs.check(ids); aerr != nil {
		return nil, aerr
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	picked := c.s.groups
	if len(ids)+len(names) > 0 {
		var missing []string
		picked, missing = lookup(c.s.groups, ids)
		for _, name := range names {
			found := false
			for _, g := range c.s.groups {
				if g.Name == name {
					found = true
					picked[g.ID] = g
				}
			}
			if !found {
				missing = append(missing, name)
			}
		}
		if aerr := groupIDs.notFound(missing); aerr != nil {
			return nil, aerr
		}
	}
	res := &describeSecurityGroupsResult{}
	res.Groups, res.NextToken, aerr = answer(picked, matcher(f, groupFilters), c.xmlGroup, max, token)
	return res, aerr
}

// groupFilters are the DescribeSecurityGroups filters, by name: the
// values of the group's attribute each tests.
var groupFilters = map[string]func(SecurityGroup) []string{
	"group-id":   func(g SecurityGroup) []string { return []string{g.ID} },
	"group-name": func(g SecurityGroup) []string { return []string{g.Name} },
	"vpc-id":     func(g SecurityGroup) []string { return []string{g.VpcID} },
}

// xmlGroup is g as EC2 describes it; c.s.mu is held.
func (c *call) xmlGroup(g SecurityGroup) xmlGroup {
	perms := func(ps []Permission) []xmlPermission {
		var out []xmlPermission
		for _, p := range ps {
			x := xmlPermission{IPProtocol: p.Protocol}
			if p.Protocol != AllProtocols {
				from, to := p.FromPort, p.ToPort
				x.FromPort, x.ToPort = &from, &to
			}
			for _, id := range p.Groups {
				pair := xmlPair{UserID: c.s.opts.AccountID, GroupID: id}
				if rg, ok := c.s.groups[id]; ok {
					pair.VpcID = rg.VpcID
				}
				x.Groups = append(x.Groups, pair)
			}
			for _, r := range p.CIDRs {
				x.IPRanges = append(x.IPRanges, xmlRange{r})
			}
			for _, r := range p.IPv6CIDRs {
				x.IPv6Ranges = append(x.IPv6Ranges, xmlRange6{r})
			}
			for _, id := range p.PrefixLists {
				x.PrefixListIDs = append(x.PrefixListIDs, xmlPrefixL{id})
			}
			out = append(out, x)
		}
		return out
	}
	return xmlGroup{
		OwnerID:             c.s.opts.AccountID,
		GroupID:             g.ID,
		GroupName:           g.Name,
		GroupDescription:    g.Description,
		VpcID:               g.VpcID,
		SecurityGroupArn:    c.s.arn("security-group", g.ID),
		IPPermissions:       perms(g.Ingress),
		IPPermissionsEgress: perms(g.Egress),
	}
}

// getManagedPrefixListEntries answers the CIDRs of the prefix list
// PrefixListId.
func (c *call) getManagedPrefixListEntries() (any, *apiError) {
	id := c.form.Get("PrefixListId")
	switch {
	case id == "":
		return nil, newError(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter PrefixListId")
	case !prefixListIDRe.MatchString(id):
		return nil, newError(http.StatusBadRequest, "InvalidPrefixListId.Malformed", "Invalid id: %q (expecting \"pl-...\")", id)
	}
	max, token, aerr := paging(c.form, 1, 100)
	if aerr != nil {
		return nil, aerr
	}
	c.s.mu.Lock()
	cidrs, ok := c.s.prefixLists[id]
	c.s.mu.Unlock()
	if !ok {
		return nil, newError(http.StatusBadRequest, "InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
	}
	entries := make([]xmlEntry, len(cidrs))
	for i, cidr := range cidrs {
		entries[i] = xmlEntry{cidr}
	}
	res := &getManagedPrefixListEntriesResult{}
	res.Entries, res.NextToken, aerr = page(entries, max, token)
	return res, aerr
}

// filters are the Filter.N.Name / Filter.N.Value.M parameters.
type filters map[string][]string

func parseFilters(form map[string][]string, known ...string) (filters, *apiError) {
	f := filters{}
	for i := 1; ; i++ {
		prefix := "Filter." + strconv.Itoa(i)
		name, ok := form[prefix+".Name"]
		if !ok {
			break
		}
		if !contains(known, name[0]) {
			return nil, newError(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", name[0])
		}
		f[name[0]] = append(f[name[0]], list(form, prefix+".Value")...)
	}
	return f, nil
}

// match reports whether an item whose attribute called name has the
// values vs (several for a list attribute, such as a route table's
// associated subnets; none for one it lacks) passes the filter called
// name: there is no such filter, or one of vs matches one of its values,
// which may hold the wildcards * and ?.
func (f filters) match(name string, vs ...string) bool {
	pats, ok := f[name]
	if !ok {
		return true
	}
	for _, v := range vs {
		for _, pat := range pats {
			if ok, _ := path.Match(pat, v); ok {
				return true
			}
		}
	}
	return false
}

// matcher returns whether an item passes every filter of f; attrs are
// the filters the action knows, by name: the values of the attribute each
// tests.
func matcher[T any](f filters, attrs map[string]func(T) []string) func(T) bool {
	return func(it T) bool {
		for name := range f {
			if !f.match(name, attrs[name](it)...) {
				return false
			}
		}
		return true
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// paging reads MaxResults (lo to hi, the action's bounds; 0 means all)
// and NextToken.
func paging(form map[string][]string, lo, hi int) (max, start int, aerr *apiError) {
	if v, ok := form["MaxResults"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < lo || n > hi {
			return 0, 0, newError(http.StatusBadRequest, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d.", v[0], lo, hi)
		}
		max = n
	}
	if v, ok := form["NextToken"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return 0, 0, newError(http.StatusBadRequest, "InvalidPaginationToken", "Invalid pagination token: %s", v[0])
		}
		start = n
	}
	return max, start, nil
}

// page cuts items to the page that starts at start and holds at most max
// (0: all), and returns the next page's token ("" after the last).
func page[T any](items []T, max, start int) ([]T, string, *apiError) {
	if start > len(items) {
		return nil, "", newError(http.StatusBadRequest, "InvalidPaginationToken", "Invalid pagination token: %d", start)
	}
	items = items[start:]
	if max == 0 || len(items) <= max {
		return items, "", nil
	}
	return items[:max], strconv.Itoa(start + max), nil
}

// answer returns, in id order, the items that pass keep as EC2 describes
// them (conv), cut to the page that starts at start and holds at most max.
func answer[T, X any](items map[string]T, keep func(T) bool, conv func(T) X, max, start int) ([]X, string, *apiError) {
	var out []X
	for _, id := range slices.Sorted(maps.Keys(items)) {
		if it := items[id]; keep(it) {
			out = append(out, conv(it))
		}
	}
	return page(out, max, start)
}

// idKind is a kind of resource id, how a Describe action takes a list of
// them, and how EC2 refuses one.
type idKind struct {
	param     string // "SubnetId" for SubnetId.1, SubnetId.2, ...
	re        *regexp.Regexp
	prefix    string // "subnet" for ids "subnet-..."
	malformed string // the error code for a malformed id
	unknown   string // the error code for unknown ids
	one, many string // how the NotFound message names one unknown id, and several
}

var (
	groupIDs      = idKind{"GroupId", groupIDRe, "sg", "InvalidGroupId.Malformed", "InvalidGroup.NotFound", "security group", "security groups"}
	subnetIDs     = idKind{"SubnetId", subnetIDRe, "subnet", "InvalidSubnetID.Malformed", "InvalidSubnetID.NotFound", "subnet ID", "subnet IDs"}
	routeTableIDs = idKind{"RouteTableId", routeTableIDRe, "rtb", "InvalidRouteTableId.Malformed", "InvalidRouteTableID.NotFound", "routeTable ID", "routeTable IDs"}
)

// check answers the Malformed error for the first of ids that is not of
// the kind.
func (k idKind) check(ids []string) *apiError {
	for _, id := range ids {
		if !k.re.MatchString(id) {
			return newError(http.StatusBadRequest, k.malformed, "Invalid id: %q (expecting \"%s-...\")", id, k.prefix)
		}
	}
	return nil
}

// notFound answers the NotFound error naming the missing ids; nil when
// none is missing.
func (k idKind) notFound(missing []string) *apiError {
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return newError(http.StatusBadRequest, k.unknown, "The %s '%s' does not exist", k.one, missing[0])
	default:
		return newError(http.StatusBadRequest, k.unknown, "The %s '%s' do not exist", k.many, strings.Join(missing, ", "))
	}
}

// lookup returns the items of all named by ids, and the ids all lacks.
func lookup[T any](all map[string]T, ids []string) (found map[string]T, missing []string) {
	found = map[string]T{}
	for _, id := range ids {
		if it, ok := all[id]; ok {
			found[id] = it
		} else if !contains(missing, id) {
			missing = append(missing, id)
		}
	}
	return found, missing
}

// describe answers a Describe action on the items of kind k that all
// holds: those named by the k.param.N parameters (every item when none is
// named) that pass the Filter.N parameters, which may test the attributes
// attrs names, in id order and as EC2 describes them (conv), a page of 5
// to hi (MaxResults) at a time. c.s.mu is held while they are picked and
// converted.
func describe[T, X any](c *call, k idKind, all map[string]T, attrs map[string]func(T) []string, hi int, conv func(T) X) ([]X, string, *apiError) {
	ids := list(c.form, k.param)
	f, aerr := parseFilters(c.form, slices.Collect(maps.Keys(attrs))...)
	if aerr != nil {
		return nil, "", aerr
	}
	max, start, aerr := paging(c.form, 5, hi)
	if aerr != nil {
		return nil, "", aerr
	}
	if aerr := k.check(ids); aerr != nil {
		return nil, "", aerr
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	picked := all
	if len(ids) > 0 {
		var missing []string
		picked, missing = lookup(all, ids)
		if aerr := k.notFound(missing); aerr != nil {
			return nil, "", aerr
		}
	}
	return answer(picked, matcher(f, attrs), conv, max, start)
}

// parsePrefix parses an IPv4 or IPv6 CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block", s)
	}
	return p, nil
}

// apiError is an error answer.
type apiError = awstest.APIError

var newError = awstest.NewAPIError

const xmlns = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

// writeError answers with EC2's error document: <Response><Errors><Error>
// <Code>..</Code><Message>..</Message></Error></Errors><RequestID>..
// </RequestID></Response>.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
		escape(e.Code), escape(e.Message), id)
	write(w, e.Status, body)
}

// writeResult answers 200 with <ActionResponse xmlns=...><requestId>..
// </requestId>...</ActionResponse>, the fields of result (marshalled as
// <result>...</result>) inside.
func writeResult(w http.ResponseWriter, id, action string, result any) {
	inner, err := xml.Marshal(result)
	if err != nil {
		writeError(w, id, newError(http.StatusInternalServerError, "InternalError", "marshalling the response: %v", err))
		return
	}
	s := strings.TrimSuffix(strings.TrimPrefix(string(inner), "<result>"), "</result>")
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>`,
		action, xmlns, id, s, action)
	write(w, http.StatusOK, body)
}

func write(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
