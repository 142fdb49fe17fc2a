package rolecheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// The directives a program may write.
const (
	roleDirective   = "//librato:role"
	ignoreDirective = "//librato:ignore"
)

// site is one SDK call of the package being analyzed.
type site struct {
	pos, end token.Pos
	name     string
	need     *need
	client   ast.Expr // what the client is reached through; nil if nothing
	fnRoles  *declared
}

// checkCalls finds the package's SDK calls, reports those their declared
// role may not make and returns them all. The SDK's root package makes
// none: its methods are what the others call.
func (c *state) checkCalls() []Call {
	if c.isRoot {
		return nil
	}
	rt := c.newRoleTracer()
	ignores := c.ignoreComments()
	pkgRoles := c.packageDirective()
	var calls []Call
	for _, file := range c.pass.Files {
		for _, d := range file.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if !ok || decl.Body == nil {
				continue
			}
			fnRoles := pkgRoles
			if r := c.roleDirective(decl.Doc); r != nil {
				fnRoles = r
			}
			for _, s := range c.sites(decl.Body) {
				s.fnRoles = fnRoles
				calls = append(calls, c.check(s, rt, ignores))
			}
		}
	}
	return calls
}

// sites lists the SDK calls in a function body, in source order: static
// calls of functions of other packages that need rows, calls of Client.Do,
// calls through interfaces or function values that may reach the SDK, and
// functions of other packages that need rows taken as values.
func (c *state) sites(body *ast.BlockStmt) []*site {
	info := c.pass.TypesInfo
	var out []*site
	called := map[*ast.Ident]bool{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			fn, kind, id := c.callee(n)
			switch kind {
			case static:
				if c.isDo(fn) {
					called[id] = true
					out = append(out, &site{pos: n.Pos(), end: n.End(), name: "Client.Do", need: c.classifyDo(n, fn), client: receiver(info, n.Fun)})
				} else if nd := c.needsOf(fn); nd != nil && fn.Pkg() != c.pass.Pkg {
					called[id] = true
					out = append(out, &site{pos: n.Pos(), end: n.End(), name: displayName(c.sdk, fn), need: nd, client: c.clientArg(n)})
				}
			case viaInterface, viaValue:
				if why := c.reachesSDK(n); why != "" {
					nd := &need{}
					nd.addUnknown(why)
					client := ast.Unparen(n.Fun)
					if kind == viaInterface {
						client = receiver(info, n.Fun)
					}
					out = append(out, &site{pos: n.Pos(), end: n.End(), name: describe(n.Fun), need: nd, client: client})
				}
			}
		case *ast.SelectorExpr:
			if called[n.Sel] {
				return true
			}
			fn, ok := info.Uses[n.Sel].(*types.Func)
			if !ok || fn.Pkg() == c.pass.Pkg {
				return true
			}
			nd := c.needsOf(fn)
			if c.isDo(fn) {
				nd = &need{}
				nd.addUnknown("Client.Do taken as a value")
			}
			if nd != nil {
				out = append(out, &site{pos: n.Pos(), end: n.End(), name: displayName(c.sdk, fn) + " (as a value)", need: nd, client: receiver(info, n)})
			}
		}
		return true
	})
	return out
}

// receiver returns x of a method selection x.M, or nil.
func receiver(info *types.Info, fun ast.Expr) ast.Expr {
	sel, ok := ast.Unparen(fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if s := info.Selections[sel]; s != nil && (s.Kind() == types.MethodVal || s.Kind() == types.FieldVal) {
		return sel.X
	}
	return nil
}

// clientArg returns what a call reaches the client through: the receiver
// of a method of an SDK type, else the first argument that points to a
// value of an SDK type (otelexport.New(c), a helper taking the client).
func (c *state) clientArg(call *ast.CallExpr) ast.Expr {
	info := c.pass.TypesInfo
	if r := receiver(info, call.Fun); r != nil && isSDKPointer(info.TypeOf(r)) {
		return r
	}
	for _, a := range call.Args {
		if isSDKPointer(info.TypeOf(a)) {
			return a
		}
	}
	return nil
}

// isSDKPointer reports whether t points to a value of a type of the SDK's
// root package: a client, a service, a batcher; not a Role or a model.
func isSDKPointer(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isSDKType(namedOf(p.Elem()))
}

// check reports a site whose declared role may not make it and returns
// its record.
func (c *state) check(s *site, rt *roleTracer, ignores map[*token.File]map[int]ignoreMark) Call {
	rec := Call{Pos: c.pos(s.pos), Name: s.name, Rows: s.need.rowNames(), Unknown: strings.Join(s.need.unknown, "; ")}
	what := strings.Join(rec.Rows, ", ")
	if rec.Unknown != "" {
		what = strings.TrimPrefix(what+"; unknown: "+rec.Unknown, "; ")
	}

	var d declared
	if s.client != nil {
		d = rt.roleOf(s.client)
	} else {
		d.unfollowed = append(d.unfollowed, "no client among its receiver and arguments")
	}
	roles, strict, why := c.effectiveRoles(&d, s.fnRoles)

	ignoredWhy, ignored := c.ignoredAt(ignores, s)
	var msgs []string
	if roles != 0 {
		for _, row := range s.need.rowList() {
			var refused []int
			for i := range endpoints.RoleNames {
				if roles&(1<<i) != 0 && i != 0 && (row.Enforced() || strict&(1<<i) != 0) && !row.Allows(endpoints.RoleNames[i]) {
					refused = append(refused, i)
				}
			}
			if len(refused) > 0 {
				under := ""
				if !row.Enforced() {
					under = " under a strict guard (the row is unlisted, its roles inferred)"
				}
				msgs = append(msgs, fmt.Sprintf("%s (%s) is not allowed for %s%s; allowed: %s", s.name, row, tokenPhrase(refused), under, allowedPhrase(row.Roles())))
			}
		}
		if len(s.need.unknown) > 0 {
			var refused []int
			for i := 1; i < len(endpoints.RoleNames); i++ {
				if roles&(1<<i) != 0 && strict&(1<<i) != 0 {
					refused = append(refused, i)
				}
			}
			if len(refused) > 0 {
				msgs = append(msgs, fmt.Sprintf("%s (unknown: %s) is not allowed for %s under a strict guard, which refuses what the matrix does not list; allowed: %s", s.name, rec.Unknown, tokenPhrase(refused), allowedPhrase([]string{endpoints.RoleNames[0]})))
			}
		}
	}
	if !ignored {
		for _, m := range msgs {
			c.pass.Report(analysis.Diagnostic{Pos: s.pos, End: s.end, Category: "role", Message: m})
		}
	}

	if c.cfg.Verbose != nil {
		note := rec.Pos + ": " + s.name + " (" + what + "): "
		if roles != 0 {
			note += "declared " + rolesPhrase(roles, strict) + " " + why
		} else {
			note += "no declared role: " + why
		}
		switch {
		case ignored && len(msgs) > 0:
			note += "; ignored: " + ignoredWhy
		case len(msgs) == 0 && len(s.need.unknown) > 0 && roles != 0:
			note += "; unknown, so reported only under a strict guard"
		}
		fmt.Fprintln(c.cfg.Verbose, note)
	}
	return rec
}

// effectiveRoles picks the declared roles of a call: -role, else the roles
// the code gives its client, else a directive. It returns them as a bit
// per role, which of them check strictly, and where they came from (or why
// there are none).
func (c *state) effectiveRoles(d *declared, directive *declared) (roles, strict uint8, why string) {
	anyStrict := d.strict != 0
	switch {
	case c.flagRole != "":
		i := roleIndex(string(c.flagRole))
		roles = 1 << i
		if c.cfg.Strict || anyStrict {
			strict = roles
		}
		return roles, strict, "by -role"
	case len(d.unfollowed) == 0 && d.roles != 0:
		roles, strict, why = d.roles, d.strict, "by "+strings.Join(d.from, ", ")
	case directive != nil:
		roles, strict, why = directive.roles, directive.strict, "by "+strings.Join(directive.from, ", ")
		if anyStrict {
			strict = roles
		}
	default:
		switch {
		case len(d.unfollowed) > 0:
			why = strings.Join(d.unfollowed, "; ")
		case d.noRole:
			why = "the client is built without WithRole, so it does not guard"
		default:
			why = "no client reaches it"
		}
		return 0, 0, why
	}
	if c.cfg.Strict {
		strict = roles
	}
	return roles, strict, why
}

// tokenPhrase says who was refused, in the guard's words: "a Record Only
// token (role recorder)", or for several roles "a Record Only or View Only
// token (roles recorder, viewer)".
func tokenPhrase(idx []int) string {
	labels := make([]string, len(idx))
	names := make([]string, len(idx))
	for k, i := range idx {
		labels[k] = librato.Role(endpoints.RoleNames[i]).Label()
		names[k] = endpoints.RoleNames[i]
	}
	if len(idx) == 1 {
		return "a " + labels[0] + " token (role " + names[0] + ")"
	}
	return "a " + strings.Join(labels, " or ") + " token (roles " + strings.Join(names, ", ") + ")"
}

func allowedPhrase(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = librato.Role(n).String()
	}
	return strings.Join(out, ", ")
}

func rolesPhrase(roles, strict uint8) string {
	var out []string
	for i, n := range endpoints.RoleNames {
		if roles&(1<<i) != 0 {
			s := librato.Role(n).String()
			if strict&(1<<i) != 0 {
				s += " strict"
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, " or ")
}

func roleIndex(name string) int {
	for i, n := range endpoints.RoleNames {
		if n == name {
			return i
		}
	}
	return 0
}

// roleDirective reads a //librato:role line of a doc comment; a malformed
// one is reported and ignored.
func (c *state) roleDirective(doc *ast.CommentGroup) *declared {
	text, ok := directive(doc, roleDirective)
	if !ok {
		return nil
	}
	at := doc.Pos()
	for _, cm := range doc.List {
		if strings.HasPrefix(cm.Text, roleDirective) {
			at = cm.Pos()
		}
	}
	r, err := librato.ParseRole(text)
	if err != nil {
		c.pass.Reportf(at, "%s %s: %v", roleDirective, text, err)
		return nil
	}
	return &declared{roles: 1 << roleIndex(string(r)), from: []string{roleDirective + " " + text + " at " + c.pos(at)}}
}

// packageDirective reads the //librato:role lines above the package
// clauses of the package's files; several give each of their roles.
func (c *state) packageDirective() *declared {
	var all *declared
	for _, f := range c.pass.Files {
		if d := c.roleDirective(f.Doc); d != nil {
			if all == nil {
				all = &declared{}
			}
			all.union(d)
		}
	}
	return all
}

// ignoreMark is a //librato:ignore comment: its reason, and whether it
// is alone on its line (then it covers the call on the next line).
type ignoreMark struct {
	why   string
	alone bool
}

// ignoreComments finds the //librato:ignore comments, by file and line.
// One without a reason is reported.
func (c *state) ignoreComments() map[*token.File]map[int]ignoreMark {
	out := map[*token.File]map[int]ignoreMark{}
	for _, f := range c.pass.Files {
		tf := c.pass.Fset.File(f.Pos())
		var src []byte
		for _, cg := range f.Comments {
			for _, cm := range cg.List {
				why, ok := directive(&ast.CommentGroup{List: []*ast.Comment{cm}}, ignoreDirective)
				if !ok {
					continue
				}
				if why == "" {
					c.pass.Reportf(cm.Pos(), "%s needs a reason: %s <why this call is fine>", ignoreDirective, ignoreDirective)
					continue
				}
				if src == nil {
					src, _ = c.pass.ReadFile(tf.Name())
				}
				line := tf.Line(cm.Pos())
				start, at := tf.Offset(tf.LineStart(line)), tf.Offset(cm.Pos())
				alone := at <= len(src) && strings.TrimSpace(string(src[start:at])) == ""
				if out[tf] == nil {
					out[tf] = map[int]ignoreMark{}
				}
				out[tf][line] = ignoreMark{why: why, alone: alone}
			}
		}
	}
	return out
}

// ignoredAt reports whether a //librato:ignore comment is on the call's
// first or last line, or alone on the line before it.
func (c *state) ignoredAt(ignores map[*token.File]map[int]ignoreMark, s *site) (string, bool) {
	tf := c.pass.Fset.File(s.pos)
	lines := ignores[tf]
	if lines == nil {
		return "", false
	}
	first := tf.Line(s.pos)
	for _, l := range []int{first, tf.Line(s.end)} {
		if m, ok := lines[l]; ok {
			return m.why, true
		}
	}
	if m, ok := lines[first-1]; ok && m.alone {
		return m.why, true
	}
	return "", false
}
