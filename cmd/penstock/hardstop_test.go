package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
)

const partitions = 8

// (c) A hard stop (the process killed mid-stream) loses nothing, and what it
// delivers again is bounded by the batches each partition had in flight:
// the one in delivery plus those delivered whose commit was still pending
// (pipeline.Options.MaxUncommittedBatches, 4 by default).
func TestHardKillLosesNothing(t *testing.T) {
	const total = 100_000
	const held = 10_000 // produced only after the kill
	c := kafkatest.Start(t, partitions, "orders")
	prod := c.Producer(t)
	produce := kafkatest.Numbered("orders", partitions, 0, total, 300)
	kafkatest.ProduceSync(t, prod, produce[:40_000])
	out := filepath.Join(t.TempDir(), "out.jsonl")
	cfg := writeConfig(t, c.Addrs[0], "orders", "g-kill", out)

	first := exec.Command(binary, "run", cfg, "--progress", "0")
	first.Stderr = os.Stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// From its first delivery on, records keep arriving while the first
	// process runs (1,000 every 20 ms), so that it is killed mid-stream
	// however fast it is; the last ones are produced only after the kill,
	// so the kill always comes before the end.
	waitFor(t, 60*time.Second, "the first process to deliver", func() bool { return countLines(out) > 0 })
	killed, produced := make(chan struct{}), make(chan error, 1)
	go func() {
		for at := 40_000; at < total-held; at += 1_000 {
			if err := prod.ProduceSync(context.Background(), produce[at:at+1_000]...).FirstErr(); err != nil {
				produced <- err
				return
			}
			select {
			case <-killed:
			case <-time.After(20 * time.Millisecond):
			}
		}
		<-killed
		produced <- prod.ProduceSync(context.Background(), produce[total-held:]...).FirstErr()
	}()
	waitFor(t, 60*time.Second, "the first process to deliver 30,000 records", func() bool { return countLines(out) >= 30_000 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := countLines(out)
	close(killed)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if atKill > total-held {
		t.Fatalf("the first process delivered %d records, more than the %d produced before the kill", atKill, total-held)
	}

	second := exec.Command(binary, "run", cfg, "--progress", "0")
	second.Stderr = os.Stderr
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	defer second.Process.Kill()
	waitFor(t, 90*time.Second, "every record to be delivered after the restart", func() bool {
		return countDistinct(t, out) >= total
	})
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("graceful stop of the second process: %v", err)
	}

	if data, err := os.ReadFile(out); err != nil || len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("after a graceful stop the output does not end with a complete line (%v)", err)
	}
	recs := readOut(t, out)
	dups := map[int32]int{}
	seen := map[int32]map[int64]bool{}
	next := map[int32]int64{}
	for _, r := range recs {
		if seen[r.Partition] == nil {
			seen[r.Partition] = map[int64]bool{}
		}
		if seen[r.Partition][r.Offset] {
			dups[r.Partition]++
			continue
		}
		seen[r.Partition][r.Offset] = true
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: first delivery of offset %d, expected %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
	}
	for p := range int32(partitions) {
		if next[p] != total/partitions {
			t.Errorf("partition %d: delivered offsets [0,%d), want [0,%d)", p, next[p], total/partitions)
		}
	}
	bound := (pipeline.DefaultOptions("").MaxUncommittedBatches + 1) * 100
	for p, n := range dups {
		if n > bound {
			t.Errorf("partition %d: %d records delivered twice, more than the %d in flight at the kill", p, n, bound)
		}
	}
	t.Logf("killed after %d lines; duplicates per partition after restart: %v (bound %d)", atKill, dups, bound)
}

func countDistinct(t *testing.T, path string) int {
	seen := map[[2]int64]bool{}
	for _, r := range readOut(t, path) {
		seen[[2]int64{int64(r.Partition), r.Offset}] = true
	}
	return len(seen)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// `penstock dev` starts an embedded broker on the printed address; a record
// produced there by an independent client (kcat where installed) appears at
// the target, and the demo producer's records flow within seconds.
func TestDevModeEmbeddedBroker(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.jsonl")
	cfg := writeConfig(t, "localhost:9092", "orders", "penstock-orders", out)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(binary, "dev", cfg, "--addr", addr, "--rate", "200")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var transcript []string
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("penstock dev exited; output:\n%s", strings.Join(transcript, "\n"))
			}
			transcript = append(transcript, l)
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("no output from penstock dev; so far:\n%s", strings.Join(transcript, "\n"))
		}
		return ""
	}
	if l := next(); !strings.Contains(l, "embedded Kafka broker listening on "+addr) {
		t.Fatalf("first line %q does not print the broker address %s", l, addr)
	}
	waitFor(t, 10*time.Second, "demo records at the target", func() bool { return countLines(out) > 0 })
	t.Logf("first demo records delivered %v after start", time.Since(start).Round(time.Millisecond))

	marker := `{"hello":"from an outside client","n":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `}`
	if path, err := exec.LookPath("kcat"); err == nil {
		kc := exec.Command(path, "-P", "-b", addr, "-t", "orders", "-k", "outside")
		kc.Stdin = strings.NewReader(marker + "\n")
		if b, err := kc.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v\n%s", err, b)
		}
	} else {
		t.Log("NOTE: kcat is not installed (apt-get install kcat); producing the outside record with franz-go instead")
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "orders", Key: []byte("outside"), Value: []byte(marker)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "the outside record at the target", func() bool {
		for _, r := range readOut(t, out) {
			if string(r.Value) == marker {
				return true
			}
		}
		return false
	})

	// A progress line per second, then a clean stop that reports commits.
	sawProgress := false
	for !sawProgress {
		sawProgress = strings.Contains(next(), "delivered")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sawCommitted := false
	for l := range lines {
		transcript = append(transcript, l)
		if strings.HasPrefix(l, "committed orders: orders-") {
			sawCommitted = true
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("penstock dev did not exit cleanly: %v\n%s", err, strings.Join(transcript, "\n"))
	}
	if !sawCommitted {
		t.Fatalf("no commit report after Ctrl-C:\n%s", strings.Join(transcript, "\n"))
	}
}
