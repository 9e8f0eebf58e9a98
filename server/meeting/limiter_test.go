package meeting

import (
	"context"
	"testing"
	"time"
)

// TestAccountsArePacedApart: one Zoom account using up its pace does not
// hold back another (Zoom's limits are per account).
func TestAccountsArePacedApart(t *testing.T) {
	l := newAccountLimiter(1)
	ctx := context.Background()
	if err := l.wait(ctx, "acct-a"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.wait(short, "acct-a"); err == nil {
		t.Fatal("a second call within the same second was not paced")
	}
	if err := l.wait(short, "acct-b"); err != nil {
		t.Fatalf("another account was held back: %v", err)
	}
}
