package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims is the payload of a zoomconnect bearer token.
type Claims struct {
	Subject string `json:"sub,omitempty"`
	OrgID   string `json:"org_id,omitempty"`
	OrgRole Role   `json:"org_role,omitempty"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	Scope   Scope  `json:"scope,omitempty"`

	Issuer    string           `json:"iss,omitempty"`
	Audience  jwt.Audience     `json:"aud,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
}

// IssuedFor returns c with the issuer and audience a verifier configured
// with iss and aud requires; an empty one is left unset.
func (c Claims) IssuedFor(iss, aud string) Claims {
	c.Issuer = iss
	if aud != "" {
		c.Audience = jwt.Audience{aud}
	}
	return c
}

// Scope is the "scope" claim. It is written as the OAuth space-separated
// string; a JSON array of strings is accepted too, since some identity
// providers issue that.
type Scope []string

// Has reports whether s contains scope.
func (s Scope) Has(scope string) bool {
	for _, v := range s {
		if v == scope {
			return true
		}
	}
	return false
}

func (s Scope) MarshalJSON() ([]byte, error) {
	return json.Marshal(strings.Join(s, " "))
}

func (s *Scope) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = strings.Fields(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("scope must be a space-separated string or an array of strings")
	}
	*s = list
	return nil
}

// Mint signs c with HS256, for dev tokens and tests. IssuedAt defaults to
// now and Expiry to IssuedAt+ttl; ttl must be positive unless c.Expiry is
// set.
func Mint(secret []byte, c Claims, ttl time.Duration) (string, error) {
	if len(secret) < minSecretLen {
		return "", fmt.Errorf("auth: HS256 secret must be at least %d bytes", minSecretLen)
	}
	if c.IssuedAt == nil {
		c.IssuedAt = jwt.NewNumericDate(time.Now())
	}
	if c.Expiry == nil {
		if ttl <= 0 {
			return "", errors.New("auth: Mint needs a positive ttl or an explicit Expiry")
		}
		c.Expiry = jwt.NewNumericDate(c.IssuedAt.Time().Add(ttl))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}
