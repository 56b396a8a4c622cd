package secretsapi

import (
	"strconv"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// epoch is a timestamp as the AWS JSON protocols send it: seconds since
// the Unix epoch, with milliseconds.
type epoch time.Time

// MarshalJSON writes the seconds as a JSON number.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// accessDenied is the error for a denied action, worded as IAM words it.
func (c *call) accessDenied(action, resource string) *apiError {
	return newError("AccessDeniedException",
		"User: arn:aws:iam::%s:user/local is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		c.s.opts.AccountID, action, resource, action)
}

type getSecretValueInput struct {
	SecretID     *string `json:"SecretId"`
	VersionID    *string `json:"VersionId"`
	VersionStage *string `json:"VersionStage"`
}

type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   *epoch   `json:"CreatedDate,omitempty"`
}

func (c *call) getSecretValue(body []byte) (any, *apiError) {
	var in getSecretValueInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	id := deref(in.SecretID)
	if e := c.fault(id); e != nil {
		return nil, e
	}
	if in.SecretID == nil {
		return nil, missing("secretId")
	}
	if id == "" || len(id) > 2048 {
		return nil, validation("secretId", "Member must have length between 1 and 2048")
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, name := s.lookup(id)
	if s.isDenied(name, ActionGetSecretValue) {
		return nil, c.accessDenied(ActionGetSecretValue, id)
	}
	if sec == nil {
		return nil, secretNotFound()
	}
	var v *version
	switch {
	case in.VersionID != nil:
		v = sec.versions[*in.VersionID]
		if v == nil {
			return nil, newError("ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for VersionId: %s", *in.VersionID)
		}
		if in.VersionStage != nil && sec.stages[*in.VersionStage] != v.id {
			return nil, invalidRequest("You provided a VersionStage that is not associated to the provided VersionId.")
		}
	default:
		stage := StageCurrent
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		v = sec.versions[sec.stages[stage]]
		if v == nil {
			return nil, newError("ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	if s.isDenied(sec.name, ActionKMSDecrypt) {
		return nil, newError("DecryptionFailure", "%s", decryptionFailureMessage)
	}
	now := s.opts.Now().UTC()
	sec.accessed = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return &getSecretValueOutput{
		ARN:           sec.arn,
		Name:          sec.name,
		VersionID:     v.id,
		SecretString:  v.str,
		SecretBinary:  v.bin,
		VersionStages: sec.stagesOf(v.id),
		CreatedDate:   epochPtr(v.created),
	}, nil
}

type createSecretInput struct {
	Name               *string `json:"Name"`
	ClientRequestToken *string `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	SecretBinary       []byte  `json:"SecretBinary"`
	Tags               []tag   `json:"Tags"`
}

type createSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

func (c *call) createSecret(body []byte) (any, *apiError) {
	var in createSecretInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	name := deref(in.Name)
	if e := c.fault(name); e != nil {
		return nil, e
	}
	if e := checkName(name); e != nil {
		return nil, e
	}
	if e := checkValue(in.SecretString, in.SecretBinary); e != nil {
		return nil, e
	}
	token, e := checkToken(in.ClientRequestToken)
	if e != nil {
		return nil, e
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isDenied(name, ActionCreateSecret) {
		return nil, c.accessDenied(ActionCreateSecret, s.arnPrefix()+name)
	}
	if sec := s.secrets[name]; sec != nil {
		// A retry of the request that created it succeeds again.
		if v := sec.versions[token]; v != nil && v.sameValue(in.SecretString, in.SecretBinary) {
			return &createSecretOutput{ARN: sec.arn, Name: sec.name, VersionID: v.id}, nil
		}
		return nil, newError("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
	}
	now := s.opts.Now()
	sec := s.newSecret(name, now)
	sec.description = deref(in.Description)
	sec.kmsKeyID = deref(in.KmsKeyID)
	sec.tags = in.Tags
	out := &createSecretOutput{ARN: sec.arn, Name: sec.name}
	if in.SecretString != nil || in.SecretBinary != nil {
		sec.addVersion(token, in.SecretString, in.SecretBinary, nil, now)
		out.VersionID = token
	}
	return out, nil
}

type putSecretValueInput struct {
	SecretID           *string  `json:"SecretId"`
	ClientRequestToken *string  `json:"ClientRequestToken"`
	SecretString       *string  `json:"SecretString"`
	SecretBinary       []byte   `json:"SecretBinary"`
	VersionStages      []string `json:"VersionStages"`
}

type putSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (c *call) putSecretValue(body []byte) (any, *apiError) {
	var in putSecretValueInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	id := deref(in.SecretID)
	if e := c.fault(id); e != nil {
		return nil, e
	}
	if in.SecretID == nil {
		return nil, missing("secretId")
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, invalidParameter("You must provide either SecretString or SecretBinary.")
	}
	if e := checkValue(in.SecretString, in.SecretBinary); e != nil {
		return nil, e
	}
	if in.VersionStages != nil && len(in.VersionStages) == 0 {
		return nil, validation("versionStages", "Member must have length greater than or equal to 1")
	}
	token, e := checkToken(in.ClientRequestToken)
	if e != nil {
		return nil, e
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, name := s.lookup(id)
	if s.isDenied(name, ActionPutSecretValue) {
		return nil, c.accessDenied(ActionPutSecretValue, id)
	}
	if sec == nil {
		return nil, secretNotFound()
	}
	if v := sec.versions[token]; v != nil {
		if !v.sameValue(in.SecretString, in.SecretBinary) {
			return nil, newError("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
		}
		// A retry of a request that succeeded changes nothing.
		return &putSecretValueOutput{ARN: sec.arn, Name: sec.name, VersionID: v.id, VersionStages: sec.stagesOf(v.id)}, nil
	}
	v := sec.addVersion(token, in.SecretString, in.SecretBinary, in.VersionStages, s.opts.Now())
	return &putSecretValueOutput{ARN: sec.arn, Name: sec.name, VersionID: v.id, VersionStages: sec.stagesOf(v.id)}, nil
}

type describeSecretInput struct {
	SecretID *string `json:"SecretId"`
}

type describeSecretOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	KmsKeyID           string              `json:"KmsKeyId,omitempty"`
	CreatedDate        *epoch              `json:"CreatedDate,omitempty"`
	LastChangedDate    *epoch              `json:"LastChangedDate,omitempty"`
	LastAccessedDate   *epoch              `json:"LastAccessedDate,omitempty"`
	Tags               []tag               `json:"Tags,omitempty"`
	VersionIDsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
}

func (c *call) describeSecret(body []byte) (any, *apiError) {
	var in describeSecretInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	id := deref(in.SecretID)
	if e := c.fault(id); e != nil {
		return nil, e
	}
	if in.SecretID == nil {
		return nil, missing("secretId")
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, name := s.lookup(id)
	if s.isDenied(name, ActionDescribeSecret) {
		return nil, c.accessDenied(ActionDescribeSecret, id)
	}
	if sec == nil {
		return nil, secretNotFound()
	}
	out := &describeSecretOutput{
		ARN:              sec.arn,
		Name:             sec.name,
		Description:      sec.description,
		KmsKeyID:         sec.kmsKeyID,
		CreatedDate:      epochPtr(sec.created),
		LastChangedDate:  epochPtr(sec.changed),
		LastAccessedDate: epochPtr(sec.accessed),
		Tags:             sec.tags,
	}
	for _, vid := range sec.order {
		if st := sec.stagesOf(vid); len(st) > 0 {
			if out.VersionIDsToStages == nil {
				out.VersionIDsToStages = map[string][]string{}
			}
			out.VersionIDsToStages[vid] = st
		}
	}
	return out, nil
}

// checkToken returns the ClientRequestToken, the id of the version a
// request creates, or a new one when the request has none (the SDK always
// sends one).
func checkToken(t *string) (string, *apiError) {
	if t == nil {
		return uuid.New(), nil
	}
	if n := len(*t); n < 32 || n > 64 {
		return "", validation("clientRequestToken", "Member must have length between 32 and 64")
	}
	return *t, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
