package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/secrets"
	"github.com/penstock-dev/penstock/internal/tlsconf"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// resolver resolves the secret references of every pipeline of the
// process; Secrets Manager clients are made on first use, per region (and
// endpoint).
var resolver = secrets.NewResolver(func(ctx context.Context, region string) (secrets.SecretsManagerAPI, error) {
	return &smClients{region: region}, nil
})

// smClients is a Secrets Manager client for one region that follows the
// endpoint override, so a changed PENSTOCK_SECRETSMANAGER_ENDPOINT takes
// effect.
type smClients struct {
	region string
	mu     sync.Mutex
	by     map[string]*awssm.Client
}

func (c *smClients) GetSecretValue(ctx context.Context, in *awssm.GetSecretValueInput, opts ...func(*awssm.Options)) (*awssm.GetSecretValueOutput, error) {
	ep := secretsEndpoint()
	c.mu.Lock()
	cl := c.by[ep]
	if cl == nil {
		cfg, err := awsconf.Load(ctx, awsconf.Settings{Region: c.region, EndpointURL: ep})
		if err != nil {
			c.mu.Unlock()
			return nil, err
		}
		cl = awssm.NewFromConfig(cfg, func(o *awssm.Options) {
			if ep != "" {
				o.BaseEndpoint = &ep
			}
		})
		if c.by == nil {
			c.by = map[string]*awssm.Client{}
		}
		c.by[ep] = cl
	}
	c.mu.Unlock()
	return cl.GetSecretValue(ctx, in, opts...)
}

// secretsEndpoint is the Secrets Manager endpoint override, from
// PENSTOCK_SECRETSMANAGER_ENDPOINT (for emulators); empty means AWS's.
func secretsEndpoint() string { return os.Getenv("PENSTOCK_SECRETSMANAGER_ENDPOINT") }

// ref parses a reference checked at load, resolving a relative file path
// against the config file's directory.
func ref(f *config.File, s string) secrets.Ref {
	r, err := secrets.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("reference checked at load does not parse: %v", err))
	}
	return r.RelativeTo(filepath.Dir(f.Path))
}

// saslSecret is Lambda's SASL secret shape.
type saslSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// tlsSecret is Lambda's client certificate (or root CA) secret shape.
type tlsSecret struct {
	Certificate        string `json:"certificate"`
	PrivateKey         string `json:"privateKey"`
	PrivateKeyPassword string `json:"privateKeyPassword"`
}

// kafkaAccess returns the TLS configuration and franz-go options of a
// Kafka source's access mode. Credentials are read through the resolver
// when a connection is made, so rotated secrets are picked up without a
// restart.
func kafkaAccess(ctx context.Context, f *config.File, pc *config.Pipeline) (*tls.Config, []kgo.Opt, error) {
	tlsCfg, opts, _, err := kafkaAccessRefs(ctx, f, pc)
	return tlsCfg, opts, err
}

// invalidator forgets the cached values of a source's credentials.
func invalidator(f *config.File, pc *config.Pipeline) func() {
	a := pc.Source.Kafka.Auth
	if a == nil {
		return nil
	}
	var refs []string
	for _, r := range []string{a.Secret, a.Username, a.Password, a.Certificate, a.PrivateKey, a.PrivateKeyPassword} {
		if r != "" {
			refs = append(refs, r)
		}
	}
	return func() {
		for _, r := range refs {
			resolver.Invalidate(ref(f, r))
		}
	}
}

func kafkaAccessRefs(ctx context.Context, f *config.File, pc *config.Pipeline) (*tls.Config, []kgo.Opt, func(), error) {
	k := pc.Source.Kafka
	path := pipelinePath(f, pc) + ".source.kafka"
	var opts []kgo.Opt
	var tlsCfg *tls.Config
	if k.TLS.Enabled {
		o := tlsconf.Options{ServerName: k.TLS.ServerName, InsecureSkipVerify: k.TLS.InsecureSkipVerify}
		if k.TLS.RootCA != "" {
			v, err := resolver.Value(ctx, ref(f, k.TLS.RootCA))
			if err != nil {
				return nil, nil, nil, f.Errorf(path+".tls.root_ca", "%v", err)
			}
			var s tlsSecret
			if json.Unmarshal(v, &s) == nil && s.Certificate != "" {
				v = []byte(s.Certificate)
			}
			o.RootCAPEM = v
		}
		cfg, err := tlsconf.Config(o)
		if err != nil {
			return nil, nil, nil, f.Errorf(path+".tls", "%v", err)
		}
		tlsCfg = cfg
	}
	a := k.Auth
	if a == nil {
		return tlsCfg, nil, nil, nil
	}
	switch a.Mechanism {
	case config.BasicAuth, config.ScramSHA256, config.ScramSHA512:
		creds := &saslCreds{f: f, a: a}
		if _, _, err := creds.get(ctx); err != nil { // fail early with the config's line
			return nil, nil, nil, f.Errorf(path+".auth", "%v", err)
		}
		var m sasl.Mechanism
		switch a.Mechanism {
		case config.BasicAuth:
			m = plain.Plain(func(ctx context.Context) (plain.Auth, error) {
				u, p, err := creds.get(ctx)
				return plain.Auth{User: u, Pass: p}, err
			})
		case config.ScramSHA256:
			m = scram.Sha256(func(ctx context.Context) (scram.Auth, error) {
				u, p, err := creds.get(ctx)
				return scram.Auth{User: u, Pass: p}, err
			})
		default:
			m = scram.Sha512(func(ctx context.Context) (scram.Auth, error) {
				u, p, err := creds.get(ctx)
				return scram.Auth{User: u, Pass: p}, err
			})
		}
		opts = append(opts, kgo.SASL(m))
	case config.ClientCertificate:
		cc := &clientCert{f: f, a: a}
		if _, err := cc.get(ctx); err != nil {
			var te *tlsconf.Error
			if errors.As(err, &te) {
				return nil, nil, nil, f.Errorf(path+".auth", "EVENT_SOURCE_AUTHN_ERROR: Provided certificate or private key is invalid: %v", err)
			}
			return nil, nil, nil, f.Errorf(path+".auth", "%v", err)
		}
		tlsCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cc.get(context.Background())
		}
	case config.MSKIAM:
		opt, err := iamOpt(ctx, f, pc)
		if err != nil {
			return nil, nil, nil, err
		}
		opts = append(opts, opt)
	}
	return tlsCfg, opts, invalidator(f, pc), nil
}

// saslCreds reads SASL credentials through the resolver (which caches
// them and fetches them again after its refresh interval).
type saslCreds struct {
	f *config.File
	a *config.Auth
}

func (c *saslCreds) get(ctx context.Context) (user, pass string, err error) {
	if c.a.Secret != "" {
		var s saslSecret
		if err := resolver.JSON(ctx, ref(c.f, c.a.Secret), &s); err != nil {
			return "", "", err
		}
		if s.Username == "" || s.Password == "" {
			return "", "", fmt.Errorf("secret %s: needs \"username\" and \"password\"", c.a.Secret)
		}
		return s.Username, s.Password, nil
	}
	u, err := resolver.Value(ctx, ref(c.f, c.a.Username))
	if err != nil {
		return "", "", err
	}
	p, err := resolver.Value(ctx, ref(c.f, c.a.Password))
	if err != nil {
		return "", "", err
	}
	return string(u), string(p), nil
}

// clientCert loads the client certificate through the resolver, at most
// once a minute.
type clientCert struct {
	f    *config.File
	a    *config.Auth
	mu   sync.Mutex
	cert *tls.Certificate
	at   time.Time
}

func (c *clientCert) get(ctx context.Context) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil && time.Since(c.at) < time.Minute {
		return c.cert, nil
	}
	var s tlsSecret
	if c.a.Secret != "" {
		if err := resolver.JSON(ctx, ref(c.f, c.a.Secret), &s); err != nil {
			return nil, err
		}
	} else {
		v, err := resolver.Value(ctx, ref(c.f, c.a.Certificate))
		if err != nil {
			return nil, err
		}
		s.Certificate = string(v)
		if v, err = resolver.Value(ctx, ref(c.f, c.a.PrivateKey)); err != nil {
			return nil, err
		}
		s.PrivateKey = string(v)
		if c.a.PrivateKeyPassword != "" {
			if v, err = resolver.Value(ctx, ref(c.f, c.a.PrivateKeyPassword)); err != nil {
				return nil, err
			}
			s.PrivateKeyPassword = string(v)
		}
	}
	cert, err := tlsconf.ClientCert([]byte(s.Certificate), []byte(s.PrivateKey), s.PrivateKeyPassword)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil // keep the working certificate; the error shows at the next start
		}
		return nil, err
	}
	c.cert, c.at = &cert, time.Now()
	return c.cert, nil
}
