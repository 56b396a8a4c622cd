package ec2api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
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
	ids := list(c.form, "GroupId")
	names := list(c.form, "GroupName")
	filters, aerr := parseFilters(c.form, "group-id", "group-name", "vpc-id")
	if aerr != nil {
		return nil, aerr
	}
	max, token, aerr := paging(c.form, len(ids)+len(names) > 0, "groupIds")
	if aerr != nil {
		return nil, aerr
	}
	for _, id := range ids {
		if !groupIDRe.MatchString(id) {
			return nil, newError(http.StatusBadRequest, "InvalidGroupId.Malformed", "Invalid id: %q (expecting \"sg-...\")", id)
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	var picked []SecurityGroup
	if len(ids)+len(names) == 0 {
		for _, g := range c.s.groups {
			picked = append(picked, g)
		}
	} else {
		seen := map[string]bool{}
		var missing []string
		for _, id := range ids {
			g, ok := c.s.groups[id]
			if !ok {
				missing = append(missing, id)
				continue
			}
			if !seen[id] {
				seen[id] = true
				picked = append(picked, g)
			}
		}
		for _, name := range names {
			found := false
			for _, g := range c.s.groups {
				if g.Name == name {
					found = true
					if !seen[g.ID] {
						seen[g.ID] = true
						picked = append(picked, g)
					}
				}
			}
			if !found {
				missing = append(missing, name)
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			return nil, newError(http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '%s' does not exist", missing[0])
		default:
			return nil, newError(http.StatusBadRequest, "InvalidGroup.NotFound", "The security groups '%s' do not exist", strings.Join(missing, ", "))
		}
	}
	var out []xmlGroup
	for _, g := range picked {
		if filters.match("group-id", g.ID) && filters.match("group-name", g.Name) && filters.match("vpc-id", g.VpcID) {
			out = append(out, c.xmlGroup(g))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GroupID < out[j].GroupID })
	res := &describeSecurityGroupsResult{}
	res.Groups, res.NextToken, aerr = page(out, max, token)
	return res, aerr
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
		SecurityGroupArn:    fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", c.s.opts.Region, c.s.opts.AccountID, g.ID),
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
	max, token, aerr := paging(c.form, false, "")
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

// match reports whether v passes the filter called name: no filter, or
// one of its values, which may hold the wildcards * and ?.
func (f filters) match(name, v string) bool {
	vals, ok := f[name]
	if !ok {
		return true
	}
	for _, pat := range vals {
		if ok, _ := path.Match(pat, v); ok {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// paging reads MaxResults (5 to 1000; 0 means all) and NextToken.
// MaxResults cannot be combined with explicit ids (named by idsParam).
func paging(form map[string][]string, hasIDs bool, idsParam string) (max, start int, aerr *apiError) {
	if v, ok := form["MaxResults"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 5 || n > 1000 {
			return 0, 0, newError(http.StatusBadRequest, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v[0])
		}
		if hasIDs {
			return 0, 0, newError(http.StatusBadRequest, "InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", idsParam)
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

// parsePrefix parses an IPv4 or IPv6 CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block", s)
	}
	return p, nil
}

// apiError is an error answer.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

const xmlns = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

// writeError answers with EC2's error document: <Response><Errors><Error>
// <Code>..</Code><Message>..</Message></Error></Errors><RequestID>..
// </RequestID></Response>.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
		escape(e.code), escape(e.msg), id)
	write(w, e.status, body)
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
