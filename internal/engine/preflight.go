package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/sources/kafka"
)

// Check outcomes.
const (
	CheckOK   = "OK"
	CheckFail = "FAIL"
	CheckSkip = "SKIP"
)

// CheckResult is one line of a preflight check.
type CheckResult struct {
	Pipeline string `json:"pipeline"`
	Check    string `json:"check"`
	Target   string `json:"target"`
	Status   string `json:"status"`
	// Error is the ESM's error code and message where one applies.
	Error string `json:"error,omitempty"`
	// Detail says what was found; Fix what to do about a failure.
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Preflight checks that pipeline pc can reach, authenticate to and consume
// from its cluster: per broker DNS, TCP, TLS and authentication; then the
// topic's existence and partitions, and the authorization consuming needs
// (describing the topic, reading the group's offsets). Secret values never
// appear in the results.
func Preflight(ctx context.Context, f *config.File, pc *config.Pipeline, ov Overrides) []CheckResult {
	k := pc.Source.Kafka
	var out []CheckResult
	add := func(check, target, status, errCode, detail, fix string) {
		out = append(out, CheckResult{Pipeline: pc.Name, Check: check, Target: target, Status: status, Error: errCode, Detail: detail, Fix: fix})
	}
	brokers := k.BootstrapServers
	if len(ov.BootstrapServers) > 0 {
		brokers = ov.BootstrapServers
	} else if k.MSK != nil {
		bs, err := mskBrokers(ctx, f, pc)
		if err != nil {
			add("msk", k.MSK.ClusterARN, CheckFail, "ESM_CONFIG_NOT_VALID", err.Error(), "check the cluster ARN, its listeners and kafka:GetBootstrapBrokers permission")
			return out
		}
		add("msk", k.MSK.ClusterARN, CheckOK, "", "bootstrap brokers "+strings.Join(bs, ","), "")
		brokers = bs
	}
	tlsCfg, opts, err := kafkaAccess(ctx, f, pc)
	if err != nil {
		code, detail, fix := "ESM_CONFIG_NOT_VALID", err.Error(), "fix the secret or reference named above"
		if authn := "EVENT_SOURCE_AUTHN_ERROR"; strings.Contains(detail, authn+": ") {
			code, detail = authn, strings.Replace(detail, authn+": ", "", 1)
			fix = "use the certificate chain (client, intermediates, root, in that order) and the private key issued with it, and the key's password if it is encrypted"
		}
		add("credentials", pc.Name, CheckFail, code, detail, fix)
		return out
	}
	reachable := 0
	for _, b := range brokers {
		host, port, _ := net.SplitHostPort(b)
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(dctx, host)
		cancel()
		if err != nil {
			add("dns", b, CheckFail, "ESM_CONFIG_NOT_VALID", err.Error(), "check the host name in bootstrap_servers and the DNS of the network Penstock runs in")
			continue
		}
		add("dns", b, CheckOK, "", fmt.Sprint(addrs), "")
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 5*time.Second)
		if err != nil {
			add("tcp", b, CheckFail, kafka.ResultBrokerUnreachable, err.Error(),
				"check that the broker listens on port "+port+" and that firewalls / security groups allow Penstock to reach it")
			continue
		}
		if tlsCfg == nil {
			conn.Close()
			add("tcp", b, CheckOK, "", "connected", "")
			reachable++
			continue
		}
		add("tcp", b, CheckOK, "", "connected", "")
		cfg := tlsCfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		err = tc.Handshake()
		if err == nil {
			// A broker that requires a client certificate may only say so
			// on the first read after the handshake.
			tc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			var one [1]byte
			if _, rerr := tc.Read(one[:]); rerr != nil && !isTimeout(rerr) && kafka.Classify(rerr) != "" {
				err = rerr
			}
		}
		if err != nil {
			tc.Close()
			r := kafka.Classify(err)
			fix := "check tls.root_ca (the brokers' CA) and tls.server_name"
			var he x509.HostnameError
			var ci x509.CertificateInvalidError
			switch {
			case r == kafka.ResultClientRejected:
				fix = "the broker requires a client certificate it trusts: set auth.mechanism CLIENT_CERTIFICATE_TLS_AUTH with a certificate its CA signed"
			case errors.As(err, &he):
				fix = "the broker's certificate is not for " + host + ": connect with a name it lists (" + certNames(he.Certificate) + "), or set tls.server_name to one"
			case errors.As(err, &ci) && ci.Reason == x509.Expired:
				fix = "the broker's certificate has expired or is not valid yet: renew it (or check this machine's clock)"
			}
			add("tls", b, CheckFail, r, err.Error(), fix)
			continue
		}
		st := tc.ConnectionState()
		tc.Close()
		leaf := st.PeerCertificates[0]
		left := time.Until(leaf.NotAfter)
		detail := fmt.Sprintf("%s, certificate %q valid until %s (%d days)", tls.VersionName(st.Version), leaf.Subject.CommonName,
			leaf.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))
		status, fix := CheckOK, ""
		if left < 14*24*time.Hour {
			status, fix = CheckFail, "the broker's certificate expires in less than 14 days: renew it"
		}
		add("tls", b, status, "", detail, fix)
		reachable++
	}
	out = append(out, vpcChecks(ctx, f, pc, brokers)...)
	if reachable == 0 {
		add("kafka", pc.Name, CheckSkip, "", "no broker reachable", "")
		return out
	}
	copts := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID("penstock-check"),
		kgo.DialTimeout(5 * time.Second), kgo.RetryTimeout(5 * time.Second), kgo.RequestRetries(1)}, opts...)
	if tlsCfg != nil {
		copts = append(copts, kgo.DialTLSConfig(tlsCfg))
	}
	var saslFailed atomic.Bool
	copts = append(copts, kgo.WithHooks(checkHook{&saslFailed}))
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		add("kafka", pc.Name, CheckFail, "ESM_CONFIG_NOT_VALID", err.Error(), "")
		return out
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	md, err := adm.Metadata(cctx, k.Topic)
	if err != nil {
		r := kafka.Classify(err)
		if saslFailed.Load() {
			r = kafka.ResultSASLFailed
		}
		target := "SASL " + string(authMechanism(k))
		fix := "check the username and password (or the secret) and that the user exists on the cluster for this mechanism"
		if r != kafka.ResultSASLFailed {
			target, fix = pc.Name, "see the error"
		}
		add("authentication", target, CheckFail, r, err.Error(), fix)
		return out
	}
	if k.Auth != nil {
		add("authentication", "SASL "+string(authMechanism(k)), CheckOK, "", "authenticated", "")
	}
	td, ok := md.Topics[k.Topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		add("topic", k.Topic, CheckFail, "ESM_CONFIG_NOT_VALID", "the topic does not exist", "create the topic, or fix source.kafka.topic")
	case errors.Is(td.Err, kerr.TopicAuthorizationFailed):
		add("topic", k.Topic, CheckFail, kafka.ResultNotAuthorized, td.Err.Error(),
			"grant the principal Describe and Read on topic "+k.Topic)
	case td.Err != nil:
		add("topic", k.Topic, CheckFail, "", td.Err.Error(), "")
	default:
		add("topic", k.Topic, CheckOK, "", plural(len(td.Partitions), "partition"), "")
		add(topicRead(cctx, cl, td))
	}
	add(clusterDescribeConfigs(cctx, adm, k))
	offs, err := adm.FetchOffsets(cctx, k.ConsumerGroupID)
	switch {
	case errors.Is(err, kerr.GroupAuthorizationFailed) || errors.Is(offs.Error(), kerr.GroupAuthorizationFailed):
		add("group", k.ConsumerGroupID, CheckFail, kafka.ResultNotAuthorized, "not authorized to describe the group or read its offsets",
			"grant the principal Describe and Read on group "+k.ConsumerGroupID)
		return out
	case errors.Is(err, kerr.GroupIDNotFound) || errors.Is(offs.Error(), kerr.GroupIDNotFound):
		add("group", k.ConsumerGroupID, CheckOK, "", "no committed offsets yet: starting_position applies", "")
	case err != nil:
		add("group", k.ConsumerGroupID, CheckFail, kafka.Classify(err), err.Error(), "")
		return out
	case offs.Error() != nil:
		add("group", k.ConsumerGroupID, CheckFail, kafka.Classify(offs.Error()), offs.Error().Error(), "")
		return out
	default:
		add("group", k.ConsumerGroupID, CheckOK, "", "committed offsets readable", "")
	}
	add(groupRead(cctx, cl, k.ConsumerGroupID))
	return out
}

// topicRead checks Read on the topic with a fetch of at most one byte
// from the first partition's leader: the broker checks authorization
// before anything else, so any other answer (even an offset out of range)
// means Read is granted. Nothing is consumed or committed.
func topicRead(ctx context.Context, cl *kgo.Client, td kadm.TopicDetail) (check, target, status, errCode, detail, fix string) {
	check, target = "topic read", td.Topic
	var p kadm.PartitionDetail
	found := false
	for _, pd := range td.Partitions {
		if !found || pd.Partition < p.Partition {
			p, found = pd, true
		}
	}
	if !found || p.Leader < 0 {
		return check, target, CheckSkip, "", "no partition leader to fetch from", ""
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MaxBytes = 1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = td.Topic, td.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.Partition, 0, 1
	rp.LogStartOffset, rp.CurrentLeaderEpoch = -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := cl.Broker(int(p.Leader)).Request(ctx, req)
	if err != nil {
		return check, target, CheckFail, kafka.Classify(err), err.Error(), ""
	}
	fr := resp.(*kmsg.FetchResponse)
	code := fr.ErrorCode
	for _, t := range fr.Topics {
		for _, fp := range t.Partitions {
			if fp.ErrorCode != 0 {
				code = fp.ErrorCode
			}
		}
	}
	if err := kerr.ErrorForCode(code); errors.Is(err, kerr.TopicAuthorizationFailed) {
		return check, target, CheckFail, kafka.ResultNotAuthorized, "not authorized to read the topic's records",
			"grant the principal Read on topic " + td.Topic
	}
	return check, target, CheckOK, "", "records readable", ""
}

// clusterDescribeConfigs checks what the event source mapping requires of
// the cluster itself: DescribeConfigs (on MSK with IAM,
// kafka-cluster:DescribeClusterDynamicConfiguration).
func clusterDescribeConfigs(ctx context.Context, adm *kadm.Client, k *config.Kafka) (check, target, status, errCode, detail, fix string) {
	check, target = "cluster", "DescribeConfigs"
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	if err == nil {
		for _, rc := range rcs {
			if rc.Err != nil {
				err = rc.Err
				break
			}
		}
	}
	switch {
	case err == nil:
		return check, target, CheckOK, "", "cluster configuration readable", ""
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		fix = "grant the principal DescribeConfigs on the cluster (ACL resource type CLUSTER)"
		if authMechanism(k) == config.MSKIAM {
			fix = "allow kafka-cluster:DescribeClusterDynamicConfiguration on the cluster in the IAM policy"
		}
		return check, target, CheckFail, kafka.ResultNotAuthorized, "not authorized to describe the cluster's configuration, which the event source mapping requires", fix
	default:
		return check, target, CheckFail, kafka.Classify(err), err.Error(), ""
	}
}

// groupRead checks Read on the consumer group, which joining it needs,
// without joining: a heartbeat as an unknown member is refused before the
// broker looks at the member when Read is missing, and otherwise answered
// with an error about the member. The group is not touched.
func groupRead(ctx context.Context, cl *kgo.Client, group string) (check, target, status, errCode, detail, fix string) {
	check, target = "group read", group
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID = group, -1, "penstock-check"
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return check, target, CheckFail, kafka.Classify(err), err.Error(), ""
	}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		return check, target, CheckFail, kafka.ResultNotAuthorized, "not authorized to join the group",
			"grant the principal Read on group " + group
	case errors.Is(err, kerr.GroupIDNotFound):
		return check, target, CheckSkip, "", "the group does not exist yet: Read is checked when the pipeline joins it", ""
	default:
		return check, target, CheckOK, "", "the group can be joined", ""
	}
}

// plural is "1 partition", "3 partitions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// certNames lists the names and addresses a certificate is for.
func certNames(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func authMechanism(k *config.Kafka) config.Mechanism {
	if k.Auth == nil {
		return ""
	}
	return k.Auth.Mechanism
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkHook records a failed SASL authentication, which some brokers
// signal by closing the connection.
type checkHook struct{ failed *atomic.Bool }

func (h checkHook) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 36 && err != nil {
		h.failed.Store(true)
	}
}
