// Package interop starts independent implementations of the AWS services
// Penstock's targets write to, for tests that check Penstock against
// something other than its own local endpoints:
//
//   - VersityGW: the versitygw S3 gateway with its POSIX backend;
//   - Fauxqs: the fauxqs SNS/SQS emulator (run by Node.js 22).
//
// .ci/interop-install installs both under .cache/interop/ and records them
// in .cache/interop/env; failing that, they are looked for on PATH. Each
// server runs as a child process in its own process group, bound to
// 127.0.0.1, and is killed when the test ends.
//
// When a server is not installed the test is skipped with a message
// saying so, or fails when the environment variable PENSTOCK_INTEROP is
// "require" (as CI sets it once the installer has run).
package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running interop server and what a client needs to reach it.
type Server struct {
	// Endpoint is the base URL, "http://127.0.0.1:PORT", for the SDK
	// client's BaseEndpoint (S3 clients must use path style).
	Endpoint string
	// Region is the region the server expects requests to be signed for.
	Region string
	// AccessKeyID and SecretAccessKey are credentials it accepts.
	AccessKeyID     string
	SecretAccessKey string
}

// RequireEnv is the environment variable that turns a missing interop
// server from a skipped test into a failed one, when set to "require".
const RequireEnv = "PENSTOCK_INTEROP"

// Region is the region the interop servers are started for.
const Region = "eu-west-1"

// startTimeout bounds how long a server may take to answer after it is
// started.
const startTimeout = 30 * time.Second

// unavailable skips t, loudly, or fails it under PENSTOCK_INTEROP=require.
func unavailable(t testing.TB, what, reason string) {
	t.Helper()
	msg := fmt.Sprintf("INTEROP NOT RUN: %s %s (run .ci/interop-install); the local-endpoint tests still cover this", what, reason)
	if os.Getenv(RequireEnv) == "require" {
		t.Fatalf("%s [%s=require]", msg, RequireEnv)
	}
	t.Skip(msg)
}

// installation is what .ci/interop-install recorded.
type installation struct {
	root    string            // repository root; "" when not found
	envFile string            // path of the env file
	vars    map[string]string // its KEY=VALUE lines
	err     error             // reading it failed (other than not existing)
}

var (
	installOnce sync.Once
	installed   installation
)

// loadInstallation finds the repository root above the working directory
// (the directory whose go.mod declares Penstock's module) and reads
// .cache/interop/env there.
func loadInstallation() installation {
	installOnce.Do(func() {
		installed.vars = map[string]string{}
		wd, err := os.Getwd()
		if err != nil {
			installed.err = err
			return
		}
		for dir := wd; ; dir = filepath.Dir(dir) {
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
				bytes.Contains(b, []byte("module github.com/penstock-dev/penstock\n")) {
				installed.root = dir
				break
			}
			if filepath.Dir(dir) == dir {
				return
			}
		}
		installed.envFile = filepath.Join(installed.root, ".cache", "interop", "env")
		b, err := os.ReadFile(installed.envFile)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				installed.err = err
			}
			return
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if k, v, ok := strings.Cut(line, "="); ok {
				installed.vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	})
	return installed
}

// recorded returns the path the env file gives for key, made absolute
// against the repository root, when it names an existing file.
func recorded(key string) (string, bool) {
	in := loadInstallation()
	p := in.vars[key]
	if p == "" {
		return "", false
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(in.root, p)
	}
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// VersityGW starts the versitygw S3 gateway with its POSIX backend on a
// temporary directory, bound to 127.0.0.1, with a fresh root access key
// and secret for Region, and returns once it answers. It is killed at the
// end of the test; its output is logged when the test failed.
func VersityGW(t testing.TB) *Server {
	t.Helper()
	bin, ok := recorded("VERSITYGW")
	if !ok {
		p, err := exec.LookPath("versitygw")
		if err != nil {
			unavailable(t, "versitygw", "is not installed (not in .cache/interop/env, not on PATH)")
			return nil
		}
		bin = p
	}
	data := t.TempDir()
	root, sidecar := filepath.Join(data, "root"), filepath.Join(data, "meta")
	for _, d := range []string{root, sidecar} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := &Server{Region: Region, AccessKeyID: "PENSTOCKINTEROP", SecretAccessKey: randomSecret()}
	var lastErr error
	// A port picked free can be taken before the gateway binds it; try a
	// few times.
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		srv.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
		// Metadata goes to a sidecar directory, so the temporary directory
		// need not support extended attributes.
		p, err := startProcess(t, "versitygw", bin, []string{
			"--port", "127.0.0.1:" + strconv.Itoa(port),
			"--access", srv.AccessKeyID, "--secret", srv.SecretAccessKey,
			"--region", srv.Region, "--quiet",
			"posix", "--sidecar", sidecar, root,
		}, "")
		if err != nil {
			t.Fatalf("interop: starting versitygw (%s): %v", bin, err)
		}
		if lastErr = p.waitHTTP(srv.Endpoint); lastErr == nil {
			return srv
		}
		p.stop()
		if !strings.Contains(p.output(), "address already in use") {
			break
		}
	}
	t.Fatalf("interop: versitygw (%s) did not start: %v", bin, lastErr)
	return nil
}

// Fauxqs starts the fauxqs SNS/SQS emulator, bound to 127.0.0.1 on a port
// it picks, for Region, and returns once it answers. fauxqs does not check
// signatures: any credentials are accepted (it reads the region from the
// signature's scope). Queue URLs name the endpoint. It is killed at the
// end of the test; its output is logged when the test failed.
func Fauxqs(t testing.TB) *Server {
	t.Helper()
	pkg, node, reason := findFauxqs()
	if reason != "" {
		unavailable(t, "fauxqs", reason)
		return nil
	}
	launcher := filepath.Join(t.TempDir(), "fauxqs-launcher.mjs")
	if err := os.WriteFile(launcher, []byte(fauxqsLauncher), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := startProcess(t, "fauxqs", node, []string{"--no-warnings", launcher, pkg, Region}, listeningPrefix)
	if err != nil {
		t.Fatalf("interop: starting fauxqs (%s with %s): %v", pkg, node, err)
	}
	addr, err := p.waitListening()
	if err == nil {
		err = p.waitHTTP(addr)
	}
	if err != nil {
		t.Fatalf("interop: fauxqs (%s with %s) did not start: %v", pkg, node, err)
	}
	return &Server{Endpoint: addr, Region: Region, AccessKeyID: "PENSTOCKINTEROP", SecretAccessKey: "fauxqs-does-not-check"}
}

// nodeMin is the oldest Node.js fauxqs runs on (it needs node:sqlite).
var nodeMin = [3]int{22, 5, 0}

// findFauxqs returns the fauxqs package directory and a node binary new
// enough to run it, or why there are none.
func findFauxqs() (pkg, node, reason string) {
	pkg, okPkg := recorded("FAUXQS")
	node, okNode := recorded("FAUXQS_NODE")
	if !okPkg {
		// An npm-installed "fauxqs" on PATH links to PKG/dist/cli.js.
		p, err := exec.LookPath("fauxqs")
		if err != nil {
			return "", "", "is not installed (not in .cache/interop/env, not on PATH)"
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			pkg = filepath.Dir(filepath.Dir(real))
		}
		if _, err := os.Stat(filepath.Join(pkg, "dist", "app.js")); err != nil {
			return "", "", fmt.Sprintf("on PATH (%s) is not an npm installation of the fauxqs package", p)
		}
	}
	if !okNode {
		p, err := exec.LookPath("node")
		if err != nil {
			return "", "", "cannot run: no Node.js (fauxqs needs Node.js 22.5 or later)"
		}
		node = p
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", "", fmt.Sprintf("cannot run: %s --version: %v", node, err)
	}
	v := strings.TrimSpace(string(out))
	if !versionAtLeast(v, nodeMin) {
		return "", "", fmt.Sprintf("cannot run: %s is Node.js %s, fauxqs needs 22.5 or later", node, v)
	}
	return pkg, node, ""
}

// versionAtLeast reports whether "vX.Y.Z" is at least min.
func versionAtLeast(v string, min [3]int) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	for i := range 3 {
		n := 0
		if i < len(parts) {
			n, _ = strconv.Atoi(strings.TrimFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}

// listeningPrefix starts the line the launcher prints with its address.
const listeningPrefix = "FAUXQS_LISTENING "

// fauxqsLauncher runs fauxqs's Fastify application (the package's
// exported buildApp) on 127.0.0.1 and a port the system picks; the
// package's own CLI binds every interface. Queue URLs are made to name the
// address requests come to instead of sqs.REGION.localhost.
const fauxqsLauncher = `// Started by Penstock's internal/interop.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, region] = process.argv.slice(2);
const dist = (f) => pathToFileURL(path.join(pkgDir, "dist", f)).href;
const { buildApp } = await import(dist("app.js"));
const stores = {};
try {
  const { SqsStore } = await import(dist("sqs/sqsStore.js"));
  stores.sqsStore = new SqsStore();
  stores.sqsStore.host = "";
} catch {
  // Another layout: keep fauxqs's default queue URLs.
}
const app = buildApp({ logger: false, defaultRegion: region, stores });
const address = await app.listen({ port: 0, host: "127.0.0.1" });
process.stdout.write("` + listeningPrefix + `" + address + "\n");
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => app.close().finally(() => process.exit(0)));
}
`

func randomSecret() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// process is a started server.
type process struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	waited error

	mu     sync.Mutex
	out    bytes.Buffer // the last maxOutput bytes of stdout and stderr
	listen chan string  // the line after listenPrefix, once
	once   sync.Once
}

const maxOutput = 64 << 10

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Write(b)
	if over := p.out.Len() - maxOutput; over > 0 {
		p.out.Next(over)
	}
	return len(b), nil
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startProcess starts bin in its own process group, with the
// environment's settings for the servers removed, and has it killed when
// the test ends. When listenPrefix is set, the stdout line starting with it
// is passed to waitListening.
func startProcess(t testing.TB, name, bin string, args []string, listenPrefix string) (*process, error) {
	p := &process{name: name, done: make(chan struct{}), listen: make(chan string, 1)}
	cmd := exec.Command(bin, args...)
	cmd.Env = serverEnv()
	cmd.Dir = t.TempDir()
	cmd.Stderr = p
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	ownProcessGroup(cmd)
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.Write([]byte(line + "\n"))
			if listenPrefix != "" && strings.HasPrefix(line, listenPrefix) {
				p.once.Do(func() { p.listen <- strings.TrimSpace(strings.TrimPrefix(line, listenPrefix)) })
			}
		}
		io.Copy(p, stdout)
	}()
	go func() {
		<-copied
		p.waited = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output())
		}
	})
	return p, nil
}

// serverEnv is the test's environment without the variables that
// configure versitygw or fauxqs or inject options into node.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VGW_") || strings.HasPrefix(k, "ROOT_ACCESS_KEY") || strings.HasPrefix(k, "ROOT_SECRET") ||
			strings.HasPrefix(k, "FAUXQS_") || k == "NODE_OPTIONS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// stop kills the process group and waits for the process to exit.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	killProcessGroup(p.cmd)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// waitListening returns the address the process announced.
func (p *process) waitListening() (string, error) {
	select {
	case a := <-p.listen:
		return a, nil
	case <-p.done:
		return "", fmt.Errorf("exited (%v) before listening; output:\n%s", p.waited, p.output())
	case <-time.After(startTimeout):
		return "", fmt.Errorf("did not say where it listens within %s; output:\n%s", startTimeout, p.output())
	}
}

// waitHTTP waits until endpoint answers HTTP (with any status).
func (p *process) waitHTTP(endpoint string) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/", nil)
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited (%v); output:\n%s", p.waited, p.output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer at %s within %s (%v); output:\n%s", endpoint, startTimeout, err, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
