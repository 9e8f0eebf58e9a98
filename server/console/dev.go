package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// DevTokenPath is the dev-mode sign-in endpoint. It exists only in dev mode:
// it hands anyone a token for the demo organization.
const DevTokenPath = Path + "dev/token"

// Person is someone of the demo organization the dev sign-in page offers.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// DevSignIn mints caller tokens for the demo organization in dev mode, so
// that the service and a browser are the whole walk-through.
type DevSignIn struct {
	OrgID  string
	People []Person
	// Mint signs a token for p in OrgID.
	Mint func(p Person) (string, error)
	// Register tells the service about p, as the product's member sync
	// would, so that the roster lists the demo people before they sign in.
	Register func(ctx context.Context, p Person) error
	Logger   *slog.Logger
}

// DemoOrgID is the organization the dev sign-in page signs people into.
const DemoOrgID = "acme"

// DemoPeople are the demo organization's people; their emails are those of
// the dev Zoom emulator's users, so that the org connection serves them.
var DemoPeople = []Person{
	{ID: "olivia", Name: "Olivia Owner", Email: "owner@acme.example", Role: "owner"},
	{ID: "adam", Name: "Adam Admin", Email: "admin@acme.example", Role: "admin"},
	{ID: "mia", Name: "Mia Member", Email: "member@acme.example", Role: "member"},
}

func (d *DevSignIn) validate() error {
	if d.OrgID == "" || len(d.People) == 0 || d.Mint == nil || d.Register == nil || d.Logger == nil {
		return errors.New("console: dev sign-in needs an org, people, Mint, Register and a Logger")
	}
	return nil
}

// devTokenRequest is the body of POST /console/dev/token.
type devTokenRequest struct {
	Person string `json:"person"`
}

type devTokenResponse struct {
	Token string `json:"token"`
}

// mint answers POST /console/dev/token {"person": id} with a token. It
// insists on a JSON body so that a plain cross-site form cannot call it.
func (d *DevSignIn) mint(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		devError(w, http.StatusUnsupportedMediaType, "send the person as JSON")
		return
	}
	var req devTokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
		devError(w, http.StatusBadRequest, "the body must be {\"person\": \"<id>\"}")
		return
	}
	for _, p := range d.People {
		if p.ID != req.Person {
			continue
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		for _, q := range d.People {
			if err := d.Register(ctx, q); err != nil {
				d.Logger.ErrorContext(ctx, "dev sign-in: registering demo people", "error", err)
				devError(w, http.StatusServiceUnavailable, "the demo people could not be registered; try again")
				return
			}
		}
		tok, err := d.Mint(p)
		if err != nil {
			d.Logger.ErrorContext(ctx, "dev sign-in: minting a token", "error", err)
			devError(w, http.StatusInternalServerError, "no token could be made")
			return
		}
		writeJSON(w, http.StatusOK, devTokenResponse{Token: tok})
		return
	}
	devError(w, http.StatusNotFound, fmt.Sprintf("%q is not one of the demo people", req.Person))
}

func devError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
