package msk

import (
	"strings"
	"testing"
)

func TestParseClusterARN(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ClusterARN
		cluster string
		err     string
	}{
		{name: "cluster", in: "arn:aws:kafka:us-east-1:111122223333:cluster/my-cluster/fc2f5bdf-fd1b-45ad-85dd-15b4a5a6247e-2",
			want: ClusterARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", ClusterAccount: "111122223333",
				Name: "my-cluster", UUID: "fc2f5bdf-fd1b-45ad-85dd-15b4a5a6247e-2"},
			cluster: "arn:aws:kafka:us-east-1:111122223333:cluster/my-cluster/fc2f5bdf-fd1b-45ad-85dd-15b4a5a6247e-2"},
		{name: "vpc-connection", in: "arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/my-cluster-name/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7",
			want: ClusterARN{Partition: "aws", Region: "us-east-1", Account: "111122223333", ClusterAccount: "444455556666",
				Name: "my-cluster-name", UUID: "51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7", VPCConnection: true},
			cluster: "arn:aws:kafka:us-east-1:444455556666:cluster/my-cluster-name/51jn98b4-0a61-46cc-b0a6-61g9a3d797d5-7"},
		{name: "china partition", in: "arn:aws-cn:kafka:cn-north-1:111122223333:cluster/c/u",
			want:    ClusterARN{Partition: "aws-cn", Region: "cn-north-1", Account: "111122223333", ClusterAccount: "111122223333", Name: "c", UUID: "u"},
			cluster: "arn:aws-cn:kafka:cn-north-1:111122223333:cluster/c/u"},
		{name: "not an arn", in: "b-1.example:9092", err: "not an ARN"},
		{name: "other service", in: "arn:aws:sqs:us-east-1:111122223333:cluster/c/u", err: `service is "sqs"`},
		{name: "no region", in: "arn:aws:kafka::111122223333:cluster/c/u", err: "no region"},
		{name: "bad account", in: "arn:aws:kafka:us-east-1:1234:cluster/c/u", err: "not 12 digits"},
		{name: "missing uuid", in: "arn:aws:kafka:us-east-1:111122223333:cluster/c", err: "cluster/NAME/UUID"},
		{name: "extra segment", in: "arn:aws:kafka:us-east-1:111122223333:cluster/c/u/x", err: "cluster/NAME/UUID"},
		{name: "empty name", in: "arn:aws:kafka:us-east-1:111122223333:cluster//u", err: "empty cluster name"},
		{name: "vpc bad account", in: "arn:aws:kafka:us-east-1:111122223333:vpc-connection/x/c/u", err: "cluster account"},
		{name: "vpc missing part", in: "arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/c", err: "vpc-connection/CLUSTER_ACCOUNT/NAME/UUID"},
		{name: "topic resource", in: "arn:aws:kafka:us-east-1:111122223333:topic/c/u/t", err: `"topic" is neither`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterARN(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ARN = tt.in
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.Cluster() != tt.cluster {
				t.Errorf("Cluster() = %q, want %q", got.Cluster(), tt.cluster)
			}
		})
	}
}

func FuzzParseClusterARN(f *testing.F) {
	f.Add("arn:aws:kafka:us-east-1:111122223333:cluster/c/u")
	f.Add("arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/c/u")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseClusterARN(s)
		if err != nil {
			return
		}
		b, err := ParseClusterARN(a.Cluster())
		if err != nil || b.VPCConnection || b.Name != a.Name || b.UUID != a.UUID || b.Account != a.ClusterAccount {
			t.Fatalf("Cluster() of %q = %q does not parse back: %+v, %v", s, a.Cluster(), b, err)
		}
	})
}
