package tsdb

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// composeSeeds are expressions from the reference, the blog and
// composite.md, plus broken ones: testdata/compose_seeds.txt, one a line
// (FuzzComposeQuery of package mock starts from them too).
func composeSeeds(tb testing.TB) []string {
	data, err := os.ReadFile("testdata/compose_seeds.txt")
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// FuzzComposeParse feeds arbitrary text to the parser: it never panics,
// and every refusal is a *composeError that says where.
func FuzzComposeParse(f *testing.F) {
	for _, s := range composeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCompose(s)
		if err == nil {
			if n == nil {
				t.Fatal("no error and no expression")
			}
			if len(s) > maxComposeLen {
				t.Fatalf("accepted %d bytes", len(s))
			}
			return
		}
		var ce *composeError
		if !errors.As(err, &ce) || ce.msg == "" {
			t.Fatalf("refusal %T %q is not a composeError", err, err)
		}
	})
}

// TestComposeParseHostile: deep nesting, long input and huge sets are
// refused (or accepted) without recursing without bound.
func TestComposeParseHostile(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{strings.Repeat("[", 10_000), "nested more than 32 levels deep"},
		{strings.Repeat("[", 100_000), "the mock accepts at most 16384"},
		{strings.Repeat("sum(", 8), "line 1, column 33: unexpected end of expression"},
		{`sum(s("m", "*")`, "the argument list of sum() opened here is never closed"},
		{strings.Repeat("s(", 9000), "the mock accepts at most 16384"},
		{strings.Repeat("{", 1000), "found an options map"},
		{"s(\"m\", " + strings.Repeat("{", 40), "expected an option name"},
		{`s("` + strings.Repeat("a", 20_000) + `", "*")`, "the mock accepts at most 16384"},
		{`s("m", "*"` + strings.Repeat(",", 5000), "expected a function call or a set"},
		{`s("unterminated`, "never closed with '\"'"},
		{"\xff\xfe", "found byte 0xff"},
		{"", "the expression is empty"},
		{"  \n ", "the expression is empty"},
	} {
		_, err := ParseCompose(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: got %v, want an error containing %q", c.in, err, c.want)
		}
	}
	// A huge flat set within the length limit parses.
	set := "sum([" + strings.Repeat(`s("m","*"),`, 1400) + `s("m","*")])`
	if len(set) > maxComposeLen {
		t.Fatalf("fixture too long: %d", len(set))
	}
	if _, err := ParseCompose(set); err != nil {
		t.Fatal(err)
	}
	// Exactly maxComposeDepth levels parse; one more does not.
	at := func(depth int) string {
		return strings.Repeat("abs(", depth-1) + `s("m", "*")` + strings.Repeat(")", depth-1)
	}
	if _, err := ParseCompose(at(maxComposeDepth)); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCompose(at(maxComposeDepth + 1)); err == nil {
		t.Fatal("one level too deep was accepted")
	}
}

// TestComposeFunctionList: the names the "unknown function" message lists
// are exactly the ones the checker knows.
func TestComposeFunctionList(t *testing.T) {
	known := map[string]bool{"series": true, "s": true, "timeshift": true, "map": true, "group_by": true}
	for name := range transforms {
		known[name] = true
	}
	if len(known) != len(composeFunctions) {
		t.Fatalf("composeFunctions has %d names, the checker knows %d", len(composeFunctions), len(known))
	}
	for _, name := range composeFunctions {
		if !known[name] {
			t.Errorf("%s is listed but unknown", name)
		}
		if _, err := ParseCompose(name + "()"); err == nil || strings.Contains(err.Error(), "unknown function") {
			t.Errorf("%s(): %v", name, err)
		}
	}
}

func FuzzParseCompose(f *testing.F) {
	for _, s := range []string{`s("m", "*")`, `s("m", {"a":"b", c:'d'}, "sum")`, `s(`, `s("m",{`, `derive(s("m","*"))`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseCompose(s) })
}
