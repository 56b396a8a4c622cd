package awsconf

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func env(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCONF")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

func TestLoad(t *testing.T) {
	env(t)
	t.Setenv("AWS_CA_BUNDLE", "")
	if _, err := Load(context.Background(), Settings{}); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Fatalf("without a region: %v", err)
	}
	cfg, err := Load(context.Background(), Settings{Region: "eu-west-1"})
	if err != nil || cfg.Region != "eu-west-1" {
		t.Fatalf("%v %q", err, cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDCONF" {
		t.Fatalf("credentials from the environment: %v %+v", err, creds)
	}
	if cfg.RetryMaxAttempts != 1 {
		t.Fatalf("SDK retries %d, want 1: the pipeline retries", cfg.RetryMaxAttempts)
	}
	t.Setenv("AWS_REGION", "us-west-2")
	if cfg, _ := Load(context.Background(), Settings{}); cfg.Region != "us-west-2" {
		t.Fatalf("region from the environment: %q", cfg.Region)
	}
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := Load(context.Background(), Settings{Region: "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Fatalf("unreadable bundle: %v", err)
	}
	if got := RegionOf("arn:aws:sqs:eu-central-1:123456789012:q"); got != "eu-central-1" {
		t.Fatalf("RegionOf %q", got)
	}
}
