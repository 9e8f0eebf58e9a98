package connection

import (
	"fmt"
	"unicode/utf8"
)

// MaxIDLen bounds org and user ids.
const MaxIDLen = 128

// ValidateID checks an org or user id: 1-128 characters of letters, digits
// and "-_.:@". Braces are excluded because they delimit Redis hash tags.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("must not be empty")
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("must be UTF-8 text")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("must be at most %d characters", MaxIDLen)
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-' || r == '_' || r == '.' || r == ':' || r == '@':
		default:
			return fmt.Errorf("may contain only letters, digits and -_.:@ (found %q)", r)
		}
	}
	return nil
}
