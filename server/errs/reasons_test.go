package errs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
)

// TestReasonNames: every ErrorReason value is sent as its name without the
// prefix, and that string maps back to the value; nothing else does.
func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for v, full := range zcv1.ErrorReason_name {
		r := errs.Reason(v)
		if !strings.HasPrefix(full, "ERROR_REASON_") {
			t.Errorf("%s lacks the ERROR_REASON_ prefix", full)
		}
		name := errs.ReasonName(r)
		if name != strings.TrimPrefix(full, "ERROR_REASON_") || seen[name] {
			t.Errorf("ReasonName(%s) = %q", full, name)
		}
		seen[name] = true
		got, ok := errs.ParseReason(name)
		if v == 0 {
			if ok {
				t.Errorf("ParseReason(%q) accepted the zero value", name)
			}
			continue
		}
		if !ok || got != r {
			t.Errorf("ParseReason(%q) = %v, %v; want %v", name, got, ok, r)
		}
		st := errs.New(errs.KindInvalidArgument, r, "m").Status()
		if errs.ReasonOf(st) != r {
			t.Errorf("ReasonOf(status of %s) = %v", full, errs.ReasonOf(st))
		}
	}
	for _, name := range []string{"", "ORG_ALREADY_CONNECTED_", "org_already_connected", "ERROR_REASON_ORG_ALREADY_CONNECTED", "NO_SUCH_REASON"} {
		if _, ok := errs.ParseReason(name); ok {
			t.Errorf("ParseReason(%q) accepted a name the enum lacks", name)
		}
	}
}

// TestReasonsComeFromTheEnum scans the service's code for ways around the
// ErrorReason type: a conversion of a number to a reason (which the enum may
// lack), or a google.rpc.ErrorInfo built outside this package (whose reason
// is a bare string). Reasons are typed, so a bare string reason does not
// compile; this closes the remaining doors.
func TestReasonsComeFromTheEnum(t *testing.T) {
	root := filepath.Join("..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		inErrs := filepath.Dir(path) == filepath.Join(root, "errs")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if name := typeName(n.Fun); (name == "ErrorReason" || name == "Reason") && len(n.Args) == 1 && !inErrs {
					t.Errorf("%s: converts a value to a reason; use an ErrorReason constant", fset.Position(n.Pos()))
				}
			case *ast.CompositeLit:
				if typeName(n.Type) == "ErrorInfo" && !inErrs {
					t.Errorf("%s: builds a google.rpc.ErrorInfo outside server/errs; return an *errs.Error", fset.Position(n.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned only %d files under %s", files, root)
	}
}

// typeName is the last name of an identifier or a selector (pkg.Name).
func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.UnaryExpr:
		return typeName(e.X)
	}
	return ""
}
