// Package msk connects Penstock to Amazon MSK clusters as Lambda's event
// source mapping does: it parses an EventSourceArn (a cluster ARN or a
// cross-account vpc-connection ARN), resolves it to bootstrap brokers with
// the MSK API by the access the pipeline is configured with, and provides
// the AWS_MSK_IAM SASL mechanism for IAM access.
package msk

import (
	"fmt"
	"strings"
)

// ClusterARN is a parsed MSK event source ARN: either a cluster,
// arn:PARTITION:kafka:REGION:ACCOUNT:cluster/NAME/UUID, or a multi-VPC
// private connection to a cluster of another account,
// arn:PARTITION:kafka:REGION:ACCOUNT:vpc-connection/CLUSTER_ACCOUNT/NAME/UUID.
type ClusterARN struct {
	// ARN is the ARN as given.
	ARN string
	// Partition is "aws", "aws-cn", "aws-us-gov", ...
	Partition string
	// Region is the region of the cluster.
	Region string
	// Account is the account of the ARN: the cluster's owner for a
	// cluster ARN, the connecting account for a vpc-connection.
	Account string
	// ClusterAccount is the account that owns the cluster; it differs
	// from Account only for a vpc-connection.
	ClusterAccount string
	// Name and UUID identify the cluster.
	Name string
	UUID string
	// VPCConnection marks a vpc-connection ARN.
	VPCConnection bool
}

// ParseClusterARN parses an MSK cluster or vpc-connection ARN, and says
// what is wrong with one it cannot accept.
func ParseClusterARN(s string) (ClusterARN, error) {
	bad := func(format string, args ...any) (ClusterARN, error) {
		return ClusterARN{}, fmt.Errorf("MSK cluster ARN %q: %s; expected arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID "+
			"or arn:aws:kafka:REGION:ACCOUNT:vpc-connection/CLUSTER_ACCOUNT/NAME/UUID", s, fmt.Sprintf(format, args...))
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return bad("not an ARN")
	}
	a := ClusterARN{ARN: s, Partition: parts[1], Region: parts[3], Account: parts[4]}
	switch {
	case a.Partition == "":
		return bad("no partition")
	case parts[2] != "kafka":
		return bad("service is %q, not kafka", parts[2])
	case a.Region == "":
		return bad("no region")
	case !isAccount(a.Account):
		return bad("account %q is not 12 digits", a.Account)
	}
	typ, rest, _ := strings.Cut(parts[5], "/")
	fields := strings.Split(rest, "/")
	switch typ {
	case "cluster":
		if len(fields) != 2 {
			return bad("a cluster resource is cluster/NAME/UUID")
		}
		a.ClusterAccount, a.Name, a.UUID = a.Account, fields[0], fields[1]
	case "vpc-connection":
		if len(fields) != 3 {
			return bad("a vpc-connection resource is vpc-connection/CLUSTER_ACCOUNT/NAME/UUID")
		}
		if !isAccount(fields[0]) {
			return bad("cluster account %q is not 12 digits", fields[0])
		}
		a.ClusterAccount, a.Name, a.UUID, a.VPCConnection = fields[0], fields[1], fields[2], true
	default:
		return bad("resource type %q is neither cluster nor vpc-connection", typ)
	}
	if a.Name == "" || a.UUID == "" {
		return bad("empty cluster name or UUID")
	}
	return a, nil
}

// Cluster returns the ARN of the cluster itself, which the MSK API
// operations take: the ARN as given for a cluster, and for a
// vpc-connection the cluster of CLUSTER_ACCOUNT it connects to.
func (a ClusterARN) Cluster() string {
	if !a.VPCConnection {
		return a.ARN
	}
	return "arn:" + a.Partition + ":kafka:" + a.Region + ":" + a.ClusterAccount + ":cluster/" + a.Name + "/" + a.UUID
}

// String returns the ARN as given.
func (a ClusterARN) String() string { return a.ARN }

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
