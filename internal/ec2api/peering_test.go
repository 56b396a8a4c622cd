package ec2api

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	pcxActive  = "pcx-0d000000000000001"
	pcxPending = "pcx-0d000000000000002"
	vpcPeer    = "vpc-0d000000000000001"
	vpcOther   = "vpc-0d000000000000002"
)

// peerings is network's VPC A peered with two VPCs: an active connection
// in the account, and one another account has yet to accept.
func peerings(t *testing.T) *Server {
	s := network(t)
	s.AddPeeringConnection(PeeringConnection{ID: pcxActive, RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16",
		AccepterVpcID: vpcPeer, AccepterCIDR: "172.31.0.0/16"})
	s.AddPeeringConnection(PeeringConnection{ID: pcxPending, Status: "pending-acceptance", RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16",
		AccepterVpcID: vpcOther, AccepterCIDR: "192.168.0.0/16", AccepterOwnerID: "444455556666"})
	return s
}

func TestDescribeVpcPeeringConnections(t *testing.T) {
	s := peerings(t)
	c := client(s, akid, secret)
	ctx := context.Background()

	out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{pcxPending, pcxActive}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.VpcPeeringConnections) != 2 {
		t.Fatalf("%d connections, want 2", len(out.VpcPeeringConnections))
	}
	active, pending := out.VpcPeeringConnections[0], out.VpcPeeringConnections[1] // by id
	if aws.ToString(active.VpcPeeringConnectionId) != pcxActive || active.Status == nil ||
		active.Status.Code != types.VpcPeeringConnectionStateReasonCodeActive || aws.ToString(active.Status.Message) != "Active" {
		t.Errorf("active: %s %+v", aws.ToString(active.VpcPeeringConnectionId), active.Status)
	}
	side := func(name string, info *types.VpcPeeringConnectionVpcInfo, vpc, cidr, owner string) {
		t.Helper()
		if info == nil || aws.ToString(info.VpcId) != vpc || aws.ToString(info.CidrBlock) != cidr || aws.ToString(info.OwnerId) != owner ||
			aws.ToString(info.Region) != region || len(info.CidrBlockSet) != 1 || aws.ToString(info.CidrBlockSet[0].CidrBlock) != cidr {
			t.Errorf("%s: %+v", name, info)
		}
	}
	side("requester", active.RequesterVpcInfo, vpcA, "10.0.0.0/16", "111122223333")
	side("accepter", active.AccepterVpcInfo, vpcPeer, "172.31.0.0/16", "111122223333")
	if pending.Status == nil || pending.Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance ||
		aws.ToString(pending.Status.Message) != "Pending Acceptance by 444455556666" {
		t.Errorf("pending: %+v", pending.Status)
	}
	side("pending accepter", pending.AccepterVpcInfo, vpcOther, "192.168.0.0/16", "444455556666")

	// Filters.
	testFilters(t, []filterCase{
		{"status-code", nil, []types.Filter{filter("status-code", "pending-acceptance", "rejected")}, []string{pcxPending}},
		{"both sides' VPCs", nil, []types.Filter{filter("accepter-vpc-info.vpc-id", vpcPeer), filter("requester-vpc-info.vpc-id", vpcA)}, []string{pcxActive}},
	}, func(ids []string, filters []types.Filter) ([]string, error) {
		out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: ids, Filters: filters})
		if err != nil {
			return nil, err
		}
		var got []string
		for _, p := range out.VpcPeeringConnections {
			got = append(got, aws.ToString(p.VpcPeeringConnectionId))
		}
		return got, nil
	})

	// Errors.
	_, err = c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{"pcx-0d0000000000000ff"}})
	wantErrorMessage(t, "unknown id", err, "InvalidVpcPeeringConnectionID.NotFound", "The vpcPeeringConnection ID 'pcx-0d0000000000000ff' does not exist")
	_, err = c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{"vpc-0d000000000000001"}})
	wantError(t, "malformed id", err, "InvalidVpcPeeringConnectionId.Malformed")
	_, err = c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{Filters: []types.Filter{filter("vpc-id", vpcA)}})
	wantError(t, "unknown filter", err, "InvalidParameterValue", "vpc-id")

	testDeny(t, s, c, "DescribeVpcPeeringConnections", "DescribeRouteTables")
}

func TestAddPeeringConnectionPanics(t *testing.T) {
	s := start(t)
	for _, p := range []PeeringConnection{
		{ID: "pcx-1", RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16", AccepterVpcID: vpcPeer, AccepterCIDR: "172.31.0.0/16"},
		{ID: pcxActive, Status: "accepted", RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16", AccepterVpcID: vpcPeer, AccepterCIDR: "172.31.0.0/16"},
		{ID: pcxActive, RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16", AccepterVpcID: vpcA, AccepterCIDR: "172.31.0.0/16"},
		{ID: pcxActive, RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.0/16", AccepterVpcID: vpcPeer, AccepterCIDR: "10.0.128.0/17"},
		{ID: pcxActive, RequesterVpcID: vpcA, RequesterCIDR: "10.0.0.1/16", AccepterVpcID: vpcPeer, AccepterCIDR: "172.31.0.0/16"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddPeeringConnection(%+v) did not panic", p)
				}
			}()
			s.AddPeeringConnection(p)
		}()
	}
}
