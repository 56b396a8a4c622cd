package ec2api

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	eniBroker1  = "eni-0e000000000000001"
	eniBroker2  = "eni-0e000000000000002"
	eniEndpoint = "eni-0e000000000000003"
	eniB        = "eni-0e000000000000004"
	sgBrokers   = "sg-0e000000000000001" // added, named "msk-brokers"
	sgClients   = "sg-0e000000000000002" // not added
)

// interfaces is network's subnets with network interfaces: two MSK
// brokers in A1 (with a secondary address) and A2, a VPC endpoint's in A3,
// and one without groups or description in B1; one group of the brokers
// is known to the server, the other is not.
func interfaces(t *testing.T) *Server {
	s := network(t)
	s.AddGroup(SecurityGroup{ID: sgBrokers, Name: "msk-brokers", VpcID: vpcA})
	s.AddNetworkInterface(NetworkInterface{ID: eniBroker1, SubnetID: subnetA1, PrivateIPs: []string{"10.0.1.10", "10.0.1.11"},
		Groups: []string{sgBrokers, sgClients}, Description: "MSK broker 1"})
	s.AddNetworkInterface(NetworkInterface{ID: eniBroker2, SubnetID: subnetA2, PrivateIPs: []string{"10.0.2.5"},
		Groups: []string{sgBrokers}, Description: "MSK broker 2"})
	s.AddNetworkInterface(NetworkInterface{ID: eniEndpoint, SubnetID: subnetA3, PrivateIPs: []string{"10.0.3.7"},
		Groups: []string{sgClients}, Description: "VPC Endpoint Interface " + vpce, InterfaceType: "vpc_endpoint"})
	s.AddNetworkInterface(NetworkInterface{ID: eniB, SubnetID: subnetB1, PrivateIPs: []string{"172.16.0.10"}})
	return s
}

func eniIDsOf(out *ec2.DescribeNetworkInterfacesOutput) []string {
	var ids []string
	for _, eni := range out.NetworkInterfaces {
		ids = append(ids, aws.ToString(eni.NetworkInterfaceId))
	}
	return ids
}

// addresses is how the tests write an interface's addresses: "10.0.1.10
// primary", "10.0.1.11".
func addresses(eni types.NetworkInterface) []string {
	var out []string
	for _, a := range eni.PrivateIpAddresses {
		s := aws.ToString(a.PrivateIpAddress)
		if aws.ToBool(a.Primary) {
			s += " primary"
		}
		out = append(out, s)
	}
	return out
}

// groups is how the tests write an interface's groups: "id name".
func groups(eni types.NetworkInterface) []string {
	var out []string
	for _, g := range eni.Groups {
		out = append(out, aws.ToString(g.GroupId)+" "+aws.ToString(g.GroupName))
	}
	return out
}

func TestDescribeNetworkInterfaces(t *testing.T) {
	s := interfaces(t)
	rec := &recorder{}
	opts := client(s, akid, secret).Options()
	opts.HTTPClient = rec
	c := ec2.New(opts)
	ctx := context.Background()

	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniBroker1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkInterfaces) != 1 {
		t.Fatalf("%d interfaces, want 1", len(out.NetworkInterfaces))
	}
	if out.NextToken != nil {
		t.Errorf("NextToken %q, want none", *out.NextToken)
	}
	b1 := out.NetworkInterfaces[0]
	for _, f := range []struct{ name, got, want string }{
		{"NetworkInterfaceId", aws.ToString(b1.NetworkInterfaceId), eniBroker1},
		{"SubnetId", aws.ToString(b1.SubnetId), subnetA1},
		{"VpcId", aws.ToString(b1.VpcId), vpcA},
		{"AvailabilityZone", aws.ToString(b1.AvailabilityZone), "eu-west-1a"},
		{"Description", aws.ToString(b1.Description), "MSK broker 1"},
		{"OwnerId", aws.ToString(b1.OwnerId), "111122223333"},
		{"Status", string(b1.Status), string(types.NetworkInterfaceStatusInUse)},
		{"PrivateIpAddress", aws.ToString(b1.PrivateIpAddress), "10.0.1.10"},
		{"InterfaceType", string(b1.InterfaceType), string(types.NetworkInterfaceTypeInterface)},
		{"RequesterManaged", fmt.Sprint(b1.RequesterManaged != nil && !*b1.RequesterManaged), "true"},
		{"SourceDestCheck", fmt.Sprint(aws.ToBool(b1.SourceDestCheck)), "true"},
	} {
		if f.got != f.want {
			t.Errorf("%s %q, want %q", f.name, f.got, f.want)
		}
	}
	if got, want := addresses(b1), []string{"10.0.1.10 primary", "10.0.1.11"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PrivateIpAddresses %v, want %v", got, want)
	}
	// A group the server has is named by its name, another by its id.
	if got, want := groups(b1), []string{sgBrokers + " msk-brokers", sgClients + " " + sgClients}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Groups %v, want %v", got, want)
	}
	if len(b1.TagSet) != 0 {
		t.Errorf("TagSet %v, want none", b1.TagSet)
	}
	macRe := regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
	mac := aws.ToString(b1.MacAddress)
	if !macRe.MatchString(mac) {
		t.Errorf("MacAddress %q", mac)
	}
	// EC2's element names, matched exactly (the SDK ignores their case).
	for _, el := range []string{"<DescribeNetworkInterfacesResponse ", "<networkInterfaceSet><item><networkInterfaceId>" + eniBroker1 + "</networkInterfaceId>",
		"<subnetId>" + subnetA1 + "</subnetId>", "<vpcId>" + vpcA + "</vpcId>", "<availabilityZone>eu-west-1a</availabilityZone>",
		"<description>MSK broker 1</description>", "<ownerId>111122223333</ownerId>", "<requesterManaged>false</requesterManaged>",
		"<status>in-use</status>", "<macAddress>" + mac + "</macAddress>", "<privateIpAddress>10.0.1.10</privateIpAddress>",
		"<sourceDestCheck>true</sourceDestCheck>", "<groupSet><item><groupId>" + sgBrokers + "</groupId><groupName>msk-brokers</groupName></item>",
		"<tagSet></tagSet>", "<privateIpAddressesSet><item><privateIpAddress>10.0.1.10</privateIpAddress><primary>true</primary></item>" +
			"<item><privateIpAddress>10.0.1.11</privateIpAddress><primary>false</primary></item></privateIpAddressesSet>",
		"<interfaceType>interface</interfaceType>"} {
		if !strings.Contains(rec.last(), el) {
			t.Errorf("answer lacks %s:\n%s", el, rec.last())
		}
	}

	// Every interface, by id, each in its subnet's VPC and zone; MAC
	// addresses are the same from one call to the next, and differ from
	// one interface to another.
	out, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eniIDsOf(out), []string{eniBroker1, eniBroker2, eniEndpoint, eniB}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("all interfaces %v, want %v", got, want)
	}
	b2, endpointENI, other := out.NetworkInterfaces[1], out.NetworkInterfaces[2], out.NetworkInterfaces[3]
	if a := aws.ToString(out.NetworkInterfaces[0].MacAddress); a != mac {
		t.Errorf("%s MacAddress %s, then %s", eniBroker1, mac, a)
	}
	macs := map[string]bool{}
	for _, eni := range out.NetworkInterfaces {
		macs[aws.ToString(eni.MacAddress)] = true
	}
	if len(macs) != 4 {
		t.Errorf("MAC addresses %v, want 4 different ones", macs)
	}
	if aws.ToString(b2.AvailabilityZone) != "eu-west-1b" || aws.ToString(b2.SubnetId) != subnetA2 || aws.ToString(b2.VpcId) != vpcA {
		t.Errorf("%s in %s, %s, %s; want %s, %s, eu-west-1b", eniBroker2, aws.ToString(b2.SubnetId), aws.ToString(b2.VpcId),
			aws.ToString(b2.AvailabilityZone), subnetA2, vpcA)
	}
	if got, want := addresses(b2), []string{"10.0.2.5 primary"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s addresses %v, want %v", eniBroker2, got, want)
	}
	if endpointENI.InterfaceType != types.NetworkInterfaceTypeVpcEndpoint {
		t.Errorf("%s InterfaceType %q, want vpc_endpoint", eniEndpoint, endpointENI.InterfaceType)
	}
	if aws.ToString(other.VpcId) != vpcB || aws.ToString(other.AvailabilityZone) != "eu-west-1a" ||
		aws.ToString(other.Description) != "" || len(other.Groups) != 0 || aws.ToString(other.PrivateIpAddress) != "172.16.0.10" {
		t.Errorf("%s: VPC %s, zone %s, description %q, groups %v, address %s", eniB, aws.ToString(other.VpcId),
			aws.ToString(other.AvailabilityZone), aws.ToString(other.Description), groups(other), aws.ToString(other.PrivateIpAddress))
	}

	// Replacing an interface changes what is answered; the server keeps
	// its own copy of the addresses and groups.
	ips, sgs := []string{"172.16.9.9", "172.16.0.10"}, []string{sgBrokers}
	s.AddNetworkInterface(NetworkInterface{ID: eniB, SubnetID: subnetB1, PrivateIPs: ips, Groups: sgs})
	ips[0], sgs[0] = "172.16.9.8", sgClients
	out, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniB}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := addresses(out.NetworkInterfaces[0]), []string{"172.16.9.9 primary", "172.16.0.10"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replaced %s: addresses %v, want %v", eniB, got, want)
	}
	if got, want := groups(out.NetworkInterfaces[0]), []string{sgBrokers + " msk-brokers"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replaced %s: groups %v, want %v", eniB, got, want)
	}
	if n := s.Requests("DescribeNetworkInterfaces"); n != 3 {
		t.Errorf("Requests = %d, want 3", n)
	}
}

func TestDescribeNetworkInterfacesFilters(t *testing.T) {
	s := interfaces(t)
	c := client(s, akid, secret)
	ctx := context.Background()

	testFilters(t, []filterCase{
		{"none", nil, nil, []string{eniBroker1, eniBroker2, eniEndpoint, eniB}},
		{"network-interface-id", nil, []types.Filter{filter("network-interface-id", eniB, eniBroker2)}, []string{eniBroker2, eniB}},
		{"network-interface-id wildcard", nil, []types.Filter{filter("network-interface-id", "eni-0e*0[12]")}, []string{eniBroker1, eniBroker2}},
		{"subnet-id", nil, []types.Filter{filter("subnet-id", subnetA2, subnetB1)}, []string{eniBroker2, eniB}},
		{"vpc-id", nil, []types.Filter{filter("vpc-id", vpcA)}, []string{eniBroker1, eniBroker2, eniEndpoint}},
		{"vpc-id B", nil, []types.Filter{filter("vpc-id", vpcB)}, []string{eniB}},
		// addresses.private-ip-address tests every address, private-ip-
		// address the primary one only.
		{"addresses.private-ip-address primary", nil, []types.Filter{filter("addresses.private-ip-address", "10.0.1.10")}, []string{eniBroker1}},
		{"addresses.private-ip-address secondary", nil, []types.Filter{filter("addresses.private-ip-address", "10.0.1.11")}, []string{eniBroker1}},
		{"addresses.private-ip-address ORed", nil, []types.Filter{filter("addresses.private-ip-address", "10.0.1.11", "172.16.0.10")}, []string{eniBroker1, eniB}},
		{"private-ip-address primary", nil, []types.Filter{filter("private-ip-address", "10.0.1.10")}, []string{eniBroker1}},
		{"private-ip-address secondary", nil, []types.Filter{filter("private-ip-address", "10.0.1.11")}, nil},
		{"private-ip-address wildcard", nil, []types.Filter{filter("private-ip-address", "10.0.*")}, []string{eniBroker1, eniBroker2, eniEndpoint}},
		{"group-id", nil, []types.Filter{filter("group-id", sgBrokers)}, []string{eniBroker1, eniBroker2}},
		{"group-id unknown group", nil, []types.Filter{filter("group-id", sgClients)}, []string{eniBroker1, eniEndpoint}},
		{"group-id none", nil, []types.Filter{filter("group-id", "sg-0f000000000000001")}, nil},
		{"description", nil, []types.Filter{filter("description", "MSK broker 2")}, []string{eniBroker2}},
		{"description wildcard", nil, []types.Filter{filter("description", "MSK broker *")}, []string{eniBroker1, eniBroker2}},
		{"description empty", nil, []types.Filter{filter("description", "")}, []string{eniB}},
		{"interface-type", nil, []types.Filter{filter("interface-type", "vpc_endpoint")}, []string{eniEndpoint}},
		{"interface-type default", nil, []types.Filter{filter("interface-type", "interface")}, []string{eniBroker1, eniBroker2, eniB}},
		// Filters are ANDed, and with the ids.
		{"vpc-id and group-id", nil, []types.Filter{filter("vpc-id", vpcA), filter("group-id", sgClients)}, []string{eniBroker1, eniEndpoint}},
		{"subnet-id and private-ip-address", nil, []types.Filter{filter("subnet-id", subnetA1), filter("private-ip-address", "10.0.2.5")}, nil},
		{"ids and interface-type", []string{eniEndpoint, eniBroker1}, []types.Filter{filter("interface-type", "interface")}, []string{eniBroker1}},
	}, func(ids []string, filters []types.Filter) ([]string, error) {
		out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids, Filters: filters})
		if err != nil {
			return nil, err
		}
		return eniIDsOf(out), nil
	})
}

func TestDescribeNetworkInterfacesErrors(t *testing.T) {
	s := interfaces(t)
	c := client(s, akid, secret)
	ctx := context.Background()
	const unknown, unknown2 = "eni-0f000000000000001", "eni-0f000000000000002"

	_, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniBroker1, unknown}})
	wantErrorMessage(t, "unknown interface", err, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '"+unknown+"' does not exist")
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{unknown, unknown2}})
	wantErrorMessage(t, "unknown interfaces", err, "InvalidNetworkInterfaceID.NotFound", "The networkInterface IDs '"+unknown+", "+unknown2+"' do not exist")
	for _, id := range []string{"eni-x", subnetA1, "eni-0E000000000000001"} {
		_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniBroker1, id}})
		wantError(t, fmt.Sprintf("malformed id %s", id), err, "InvalidNetworkInterfaceId.Malformed", id)
	}
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("mac-address", "02:00:00:00:00:00")}})
	wantError(t, "unsupported filter", err, "InvalidParameterValue", "mac-address")
	for _, n := range []int32{4, 1001} {
		_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(n)})
		wantError(t, fmt.Sprintf("MaxResults %d", n), err, "InvalidParameterValue", "between 5 and 1000")
	}
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NetworkInterfaceIds: []string{eniBroker1}})
	wantError(t, "MaxResults with ids", err, "InvalidParameterCombination")
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{DryRun: aws.Bool(true)})
	wantError(t, "dry run", err, "DryRunOperation")
}

func TestDescribeNetworkInterfacesDenied(t *testing.T) {
	s := interfaces(t)
	c := client(s, akid, secret)
	testDeny(t, s, c, "DescribeNetworkInterfaces", "DescribeSubnets")
}

func TestDescribeNetworkInterfacesPages(t *testing.T) {
	s := network(t)
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("eni-%017x", 12-i)
		ids = append(ids, id)
		eni := NetworkInterface{ID: id, SubnetID: subnetA1, PrivateIPs: []string{fmt.Sprintf("10.0.1.%d", 10+i)}}
		if i == 0 {
			eni.InterfaceType = "lambda"
		}
		s.AddNetworkInterface(eni)
	}
	sort.Strings(ids)
	c := client(s, akid, secret)

	pages, got := allPages(t, ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)}), eniIDsOf)
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, got, ids)
	}
	// The one lambda interface is the last by id.
	pages, got = allPages(t, ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5),
		Filters: []types.Filter{filter("interface-type", "interface")}}), eniIDsOf)
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(ids[:11]) {
		t.Errorf("interface-type=interface: %d pages of %v, want 3 pages of %v", pages, got, ids[:11])
	}
	pages, got = allPages(t, ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(12)}), eniIDsOf)
	if pages != 1 || fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("MaxResults 12: %d pages of %v, want 1 page of %v", pages, got, ids)
	}
	_, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: aws.String("13")})
	wantError(t, "token past the end", err, "InvalidPaginationToken")
}

func TestAddNetworkInterfacePanics(t *testing.T) {
	s := interfaces(t)
	const subnetUnknown = "subnet-0f000000000000001"
	in := func(subnet string, ips ...string) NetworkInterface {
		return NetworkInterface{ID: eniB, SubnetID: subnet, PrivateIPs: ips}
	}
	for _, c := range []struct {
		name string
		eni  NetworkInterface
		want string
	}{
		{"interface id", NetworkInterface{ID: "eni-1", SubnetID: subnetA1, PrivateIPs: []string{"10.0.1.50"}}, `"eni-1" is not a network interface id`},
		{"no interface id", NetworkInterface{SubnetID: subnetA1, PrivateIPs: []string{"10.0.1.50"}}, `"" is not a network interface id`},
		{"subnet as interface id", NetworkInterface{ID: subnetA1, SubnetID: subnetA1, PrivateIPs: []string{"10.0.1.50"}}, "is not a network interface id"},
		{"subnet id", in("subnet-1", "10.0.1.50"), `"subnet-1" is not a subnet id`},
		{"no subnet", in("", "10.0.1.50"), `"" is not a subnet id`},
		{"unknown subnet", in(subnetUnknown, "10.0.1.50"), "subnet " + subnetUnknown + " was not added"},
		{"group id", NetworkInterface{ID: eniB, SubnetID: subnetB1, PrivateIPs: []string{"172.16.0.10"}, Groups: []string{"sg-1"}}, `"sg-1" is not a security group id`},
		{"group twice", NetworkInterface{ID: eniB, SubnetID: subnetB1, PrivateIPs: []string{"172.16.0.10"}, Groups: []string{sgBrokers, sgClients, sgBrokers}}, "security group " + sgBrokers + " is listed twice"},
		{"no address", in(subnetB1), "no private IP address"},
		{"not an address", in(subnetB1, "172.16.0"), `"172.16.0" is not an IPv4 address`},
		{"CIDR", in(subnetB1, "172.16.0.0/24"), `"172.16.0.0/24" is not an IPv4 address`},
		{"IPv6", in(subnetB1, "2001:db8::1"), `"2001:db8::1" is not an IPv4 address`},
		{"IPv4-mapped IPv6", in(subnetB1, "::ffff:172.16.0.11"), `"::ffff:172.16.0.11" is not an IPv4 address`},
		{"empty address", in(subnetB1, "172.16.0.11", ""), `"" is not an IPv4 address`},
		{"outside the subnet", in(subnetA2, "10.0.2.16"), "address 10.0.2.16 is not in " + subnetA2 + "'s block 10.0.2.0/28"},
		{"secondary outside the subnet", in(subnetA1, "10.0.1.50", "10.0.2.50"), "address 10.0.2.50 is not in " + subnetA1},
		{"address twice", in(subnetB1, "172.16.0.11", "172.16.0.12", "172.16.0.11"), "address 172.16.0.11 is listed twice"},
		{"another's primary address", in(subnetA2, "10.0.2.5"), "address 10.0.2.5 is already " + eniBroker2 + "'s, in " + vpcA},
		{"another's secondary address", in(subnetA1, "10.0.1.12", "10.0.1.11"), "address 10.0.1.11 is already " + eniBroker1 + "'s, in " + vpcA},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Errorf("panic %v, want one saying %q", r, c.want)
				}
			}()
			s.AddNetworkInterface(c.eni)
		})
	}
	// None of the refused interfaces was kept: eniB is as interfaces
	// added it.
	cl := client(s, akid, secret)
	ctx := context.Background()
	out, err := cl.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eniIDsOf(out), []string{eniBroker1, eniBroker2, eniEndpoint, eniB}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("interfaces after the refused ones %v, want %v", got, want)
	}
	if got := addresses(out.NetworkInterfaces[3]); fmt.Sprint(got) != "[172.16.0.10 primary]" {
		t.Errorf("%s after the refused replacements: addresses %v", eniB, got)
	}
	// Valid edges: an interface replaced with its own addresses, in
	// another order; another VPC's address.
	s.AddNetworkInterface(NetworkInterface{ID: eniBroker1, SubnetID: subnetA1, PrivateIPs: []string{"10.0.1.11", "10.0.1.10"}})
	const subnetB2 = "subnet-0b000000000000002"
	s.AddSubnet(Subnet{ID: subnetB2, VpcID: vpcB, CIDR: "10.0.1.0/24"})
	s.AddNetworkInterface(NetworkInterface{ID: eniB, SubnetID: subnetB2, PrivateIPs: []string{"10.0.1.10", "10.0.1.11"}})
	out, err = cl.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("addresses.private-ip-address", "10.0.1.10")}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eniIDsOf(out), []string{eniBroker1, eniB}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("interfaces with 10.0.1.10 %v, want %v (one in each VPC)", got, want)
	}
}
