package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Fetches are sized in compressed bytes from the in-flight bound, which
// counts record bytes: records that compress 10:1 get fetches a tenth the
// size, so the pipeline can hold the next fetch while it works on the
// last.
func TestFetchSizesFollowCompression(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name        string
		share       int64
		ratio       float64
		total, part int32
	}{
		{"uncompressed, 64 MiB over 8 partitions", 8 * mib, 1, 4 * mib, mib},
		{"10:1, 64 MiB over 8 partitions", 8 * mib, 10, 838860, 209715},
		{"10:1, 2 MiB over 8 partitions", mib / 4, 10, 256 << 10, 16 << 10},
		{"uncompressed, one partition, FetchMaxBytes caps", 64 * mib, 1, 4 * mib, mib},
	} {
		total, part := fetchSizes(c.share, c.ratio, 4*mib)
		if total != c.total || part != c.part {
			t.Errorf("%s: total %d, per partition %d; want %d, %d", c.name, total, part, c.total, c.part)
		}
	}
	var comp compression
	if r := comp.ratio(); r != 1 {
		t.Fatalf("ratio before any fetch: %v", r)
	}
	comp.OnFetchBatchRead(kgo.BrokerMetadata{}, "orders", 0, kgo.FetchBatchMetrics{CompressedBytes: 100, UncompressedBytes: 1000})
	comp.OnFetchBatchRead(kgo.BrokerMetadata{}, "orders", 1, kgo.FetchBatchMetrics{CompressedBytes: 300, UncompressedBytes: 1000})
	if r := comp.ratio(); r != 5 {
		t.Fatalf("ratio of 2000 bytes from 400: %v", r)
	}
}
