package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/penstock-dev/penstock/pipeline/config"
)

// checkSubnet names the subnet checks.
const checkSubnet = "subnet"

// subnets checks the source's subnets: each must exist in the VPC of the
// security groups, and its route table must lead to the AWS APIs the event
// source calls. The event source's network interfaces have private
// addresses only, so the APIs are reached through a NAT gateway (or
// another router: a transit gateway, a NAT instance) on the default route,
// or through VPC endpoints with private DNS, which the VPC's local route
// serves; an internet gateway alone does not do.
func (v *vpcCheck) subnets(ctx context.Context, k *config.Kafka) {
	ids := k.VPC.Subnets
	found, ok := v.describeSubnets(ctx, ids)
	if !ok {
		return
	}
	vpc := ""
	if len(v.found) > 0 {
		vpc = aws.ToString(v.found[0].VpcId)
	}
	names := awsEndpoints(v.region, k)
	private, resolved := v.privateEndpoints(ctx, names)
	var good []ec2types.Subnet // in the groups' VPC
	for _, id := range ids {
		sn, ok := found[id]
		if !ok {
			continue
		}
		if vpc != "" && aws.ToString(sn.VpcId) != vpc {
			v.addSubnet(id, CheckFail, "ESM_CONFIG_NOT_VALID",
				fmt.Sprintf("%s is in %s, the security groups in %s", id, aws.ToString(sn.VpcId), vpc),
				"list subnets of the security groups' VPC ("+vpc+") in source.kafka.vpc.subnets"+v.whereIn("subnets", ids, id))
			continue
		}
		v.addSubnet(id, CheckOK, "", fmt.Sprintf("exists in %s, %s, %s", aws.ToString(sn.VpcId),
			aws.ToString(sn.AvailabilityZone), aws.ToString(sn.CidrBlock)), "")
		rt, how, err := v.routeTable(ctx, sn)
		v.route(sn, rt, how, err, names, private, resolved)
		if err == nil && rt != nil {
			v.brokerRoutes(ctx, sn, rt, how)
		}
		good = append(good, sn)
	}
	v.networkACLs(ctx, good)
}

// describeSubnets fetches the listed subnets and fails the ones that do
// not exist. ok is false when none could be read.
func (v *vpcCheck) describeSubnets(ctx context.Context, ids []string) (map[string]ec2types.Subnet, bool) {
	found := map[string]ec2types.Subnet{}
	keep := func(out *awsec2.DescribeSubnetsOutput) {
		for _, sn := range out.Subnets {
			found[aws.ToString(sn.SubnetId)] = sn
		}
	}
	out, err := v.api.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{SubnetIds: ids})
	switch {
	case err == nil:
		keep(out)
	case apiErrorCode(err) == "InvalidSubnetID.NotFound":
		// Find out which: one call per subnet.
		for _, id := range ids {
			one, err := v.api.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{SubnetIds: []string{id}})
			switch {
			case err == nil:
				keep(one)
			case apiErrorCode(err) == "InvalidSubnetID.NotFound":
				v.addSubnet(id, CheckFail, "ESM_CONFIG_NOT_VALID", apiErrorCode(err)+": "+apiErrorMessage(err),
					fmt.Sprintf("%s does not exist in %s for these credentials' account: fix the id in source.kafka.vpc.subnets%s, or check with the cluster account's credentials and region",
						id, v.region, v.whereIn("subnets", ids, id)))
			default:
				v.skipSubnetAPI(id, "DescribeSubnets", err)
			}
		}
	default:
		v.skipSubnetAPI(strings.Join(ids, ","), "DescribeSubnets", err)
		return nil, false
	}
	return found, len(found) > 0
}

// privateEndpoints reports whether every AWS endpoint name resolves, where
// Penstock runs, to private addresses only: VPC endpoints with private DNS.
// resolved says what they resolved to, for the report.
// The addresses are kept for the network ACL checks (v.endpoints).
func (v *vpcCheck) privateEndpoints(ctx context.Context, names []string) (bool, []string) {
	var resolved []string
	private := true
	for _, name := range names {
		as, err := v.lookup(ctx, name)
		if err != nil {
			resolved = append(resolved, name+" (not resolved)")
			v.endpoints = append(v.endpoints, endpointAddrs{name: name})
			private = false
			continue
		}
		for _, a := range as {
			private = private && a.IsPrivate()
		}
		resolved = append(resolved, name+" ("+joinAddrs(as)+")")
		v.endpoints = append(v.endpoints, endpointAddrs{name, as})
	}
	return private, resolved
}

// route checks where the route table of sn (rt, how and err from
// routeTable) sends traffic to the AWS APIs.
func (v *vpcCheck) route(sn ec2types.Subnet, rt *ec2types.RouteTable, how string, err error, names []string, private bool, resolved []string) {
	id := aws.ToString(sn.SubnetId)
	target := id + " route to AWS APIs"
	if err != nil {
		v.skipSubnetAPI(target, "DescribeRouteTables", err)
		return
	}
	if rt == nil {
		v.addSubnet(target, CheckFail, resultAWSUnreachable, "no route table serves "+id+" (no explicit association and no main route table in "+aws.ToString(sn.VpcId)+")",
			"associate "+id+" with a route table whose 0.0.0.0/0 route leads to a NAT gateway")
		return
	}
	rtID := aws.ToString(rt.RouteTableId)
	endpoints := "VPC endpoints (private DNS enabled) of " + strings.Join(names, ", ")
	if private {
		v.addSubnet(target, CheckOK, "", fmt.Sprintf("%s resolve to private addresses (VPC endpoints), served by the local route of %s (%s)",
			strings.Join(resolved, ", "), rtID, how), "")
		return
	}
	var def *ec2types.Route
	for i := range rt.Routes {
		if aws.ToString(rt.Routes[i].DestinationCidrBlock) == "0.0.0.0/0" {
			def = &rt.Routes[i]
		}
	}
	natFix := fmt.Sprintf("route 0.0.0.0/0 of %s to a NAT gateway (in a public subnet), or create %s", rtID, endpoints)
	switch {
	case def == nil:
		v.addSubnet(target, CheckFail, resultAWSUnreachable,
			fmt.Sprintf("%s (%s) has no default route (0.0.0.0/0), and %s resolve to public addresses", rtID, how, strings.Join(resolved, ", ")), natFix)
	case def.NatGatewayId != nil:
		v.addSubnet(target, CheckOK, "", fmt.Sprintf("0.0.0.0/0 through the NAT gateway %s (%s, %s)", aws.ToString(def.NatGatewayId), rtID, how), "")
	case def.TransitGatewayId != nil, def.NetworkInterfaceId != nil, def.InstanceId != nil:
		// A NAT instance's route names the instance and its interface.
		via := cmp.Or(aws.ToString(def.InstanceId), aws.ToString(def.TransitGatewayId), aws.ToString(def.NetworkInterfaceId))
		v.addSubnet(target, CheckOK, "", fmt.Sprintf("0.0.0.0/0 through %s (%s, %s), which must lead on to the internet through NAT", via, rtID, how), "")
	case strings.HasPrefix(aws.ToString(def.GatewayId), "igw-"):
		v.addSubnet(target, CheckFail, resultAWSUnreachable,
			fmt.Sprintf("%s (%s) sends 0.0.0.0/0 to the internet gateway %s, which the event source's network interfaces cannot use: they have no public addresses",
				rtID, how, aws.ToString(def.GatewayId)), natFix)
	default:
		via := cmp.Or(aws.ToString(def.GatewayId), aws.ToString(def.VpcPeeringConnectionId))
		v.addSubnet(target, CheckSkip, "", fmt.Sprintf("%s (%s) sends 0.0.0.0/0 to %s, which Penstock cannot follow", rtID, how, via),
			"make sure "+via+" leads to the AWS APIs, or "+natFix)
	}
}

// routeTable returns the route table that serves sn: the one explicitly
// associated with it, else the main route table of its VPC (nil when there
// is neither), and which of the two it is.
func (v *vpcCheck) routeTable(ctx context.Context, sn ec2types.Subnet) (*ec2types.RouteTable, string, error) {
	filter := func(name, value string) ec2types.Filter {
		return ec2types.Filter{Name: aws.String(name), Values: []string{value}}
	}
	out, err := v.api.DescribeRouteTables(ctx, &awsec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{filter("association.subnet-id", aws.ToString(sn.SubnetId))}})
	if err != nil {
		return nil, "", err
	}
	if len(out.RouteTables) > 0 {
		return &out.RouteTables[0], "associated with " + aws.ToString(sn.SubnetId), nil
	}
	out, err = v.api.DescribeRouteTables(ctx, &awsec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{filter("vpc-id", aws.ToString(sn.VpcId)), filter("association.main", "true")}})
	if err != nil || len(out.RouteTables) == 0 {
		return nil, "", err
	}
	return &out.RouteTables[0], "the main route table of " + aws.ToString(sn.VpcId), nil
}

func (v *vpcCheck) addSubnet(target, status, errCode, detail, fix string) {
	v.out = append(v.out, CheckResult{Pipeline: v.pc.Name, Check: checkSubnet, Target: target, Status: status,
		Error: errCode, Detail: detail, Fix: fix})
}

// skipSubnetAPI reports an EC2 call about subnets that failed for reasons
// other than the subnets.
func (v *vpcCheck) skipSubnetAPI(target, op string, err error) {
	const grant = "grant ec2:DescribeSubnets and ec2:DescribeRouteTables to the identity penstock check runs as"
	if apiErrorCode(err) == "UnauthorizedOperation" {
		v.addSubnet(target, CheckSkip, "", "cannot verify the subnets: not allowed to call EC2 "+op+": "+apiErrorMessage(err), grant)
		return
	}
	v.addSubnet(target, CheckSkip, "", "cannot verify the subnets: EC2 "+op+": "+err.Error(),
		ec2Fix(err))
}

// whereIn is " (FILE:LINE)" for id in source.kafka.vpc.FIELD, or "".
func (v *vpcCheck) whereIn(field string, list []string, id string) string {
	i := slices.Index(list, id)
	if v.f == nil || i < 0 {
		return ""
	}
	p := v.f.Pos(fmt.Sprintf("%s.source.kafka.vpc.%s[%d]", pipelinePath(v.f, v.pc), field, i))
	if p.Line == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", v.f.Path, p.Line)
}
