package rolecheck

import (
	"go/ast"
	"go/token"
	"go/types"

	librato "github.com/librato-sdk/librato-go"
)

// declared is what the code says of a client's role: the constant roles
// that reach it (a bit per role, in endpoints.RoleNames order), which of
// them come with WithStrictGuard, whether some source builds it without a
// role, and the sources the analyzer cannot follow.
type declared struct {
	roles, strict uint8
	noRole        bool
	unfollowed    []string
	from          []string // where the roles were declared, for notes
}

func (d *declared) union(o *declared) {
	d.roles |= o.roles
	d.strict |= o.strict
	d.noRole = d.noRole || o.noRole
	d.unfollowed = append(d.unfollowed, o.unfollowed...)
	d.from = append(d.from, o.from...)
}

func unfollowed(why string) declared { return declared{unfollowed: []string{why}} }

// roleTracer follows a client back to where it was built, within the
// function that uses it: every assignment to a local variable counts, so
// a client set in several branches has the roles of all of them.
type roleTracer struct {
	c       *state
	sources map[*types.Var][]ast.Expr // the values assigned to each variable
	opaque  map[*types.Var]string     // variables that cannot be followed, and why
}

// newRoleTracer indexes the package's assignments.
func (c *state) newRoleTracer() *roleTracer {
	rt := &roleTracer{c: c, sources: map[*types.Var][]ast.Expr{}, opaque: map[*types.Var]string{}}
	info := c.pass.TypesInfo
	varOf := func(e ast.Expr) *types.Var {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return nil
		}
		obj := info.Defs[id]
		if obj == nil {
			obj = info.Uses[id]
		}
		v, _ := obj.(*types.Var)
		return v
	}
	assign := func(lhs, rhs []ast.Expr) {
		for i, l := range lhs {
			v := varOf(l)
			if v == nil {
				continue
			}
			switch {
			case len(lhs) == len(rhs):
				rt.sources[v] = append(rt.sources[v], rhs[i])
			case len(rhs) == 1 && i == 0:
				rt.sources[v] = append(rt.sources[v], rhs[0]) // c, err := NewClient(...)
			default:
				rt.opaque[v] = "assigned from a value the analyzer does not follow"
			}
		}
	}
	params := func(ft *ast.FuncType) {
		for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
			if fl == nil {
				continue
			}
			for _, f := range fl.List {
				for _, n := range f.Names {
					if v, ok := info.Defs[n].(*types.Var); ok {
						rt.opaque[v] = n.Name + " is a parameter"
					}
				}
			}
		}
	}
	for _, f := range c.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE || n.Tok == token.ASSIGN {
					assign(n.Lhs, n.Rhs)
				}
			case *ast.ValueSpec:
				lhs := make([]ast.Expr, len(n.Names))
				for i, id := range n.Names {
					lhs[i] = id
				}
				if len(n.Values) > 0 {
					assign(lhs, n.Values)
				}
			case *ast.RangeStmt:
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if v := varOf(e); v != nil {
						rt.opaque[v] = v.Name() + " is a range variable"
					}
				}
			case *ast.UnaryExpr:
				if v := varOf(n.X); v != nil && n.Op == token.AND {
					rt.opaque[v] = "the address of " + v.Name() + " is taken"
				}
			case *ast.FuncDecl:
				params(n.Type)
				if n.Recv != nil {
					for _, f := range n.Recv.List {
						for _, id := range f.Names {
							if v, ok := info.Defs[id].(*types.Var); ok {
								rt.opaque[v] = id.Name + " is a receiver"
							}
						}
					}
				}
			case *ast.FuncLit:
				params(n.Type)
			}
			return true
		})
	}
	return rt
}

// roleOf says what the code declares of the role of the client that e
// reaches.
func (rt *roleTracer) roleOf(e ast.Expr) declared {
	return rt.trace(e, map[*types.Var]bool{})
}

func (rt *roleTracer) trace(e ast.Expr, seen map[*types.Var]bool) declared {
	c := rt.c
	info := c.pass.TypesInfo
	e = ast.Unparen(e)
	switch e := e.(type) {
	case *ast.Ident:
		switch obj := info.Uses[e].(type) {
		case *types.Nil:
			return declared{}
		case *types.Var:
			if why, ok := rt.opaque[obj]; ok {
				return unfollowed(why)
			}
			if obj.Pkg() == nil || obj.Parent() == obj.Pkg().Scope() {
				return unfollowed(obj.Name() + " is a package-level variable")
			}
			if seen[obj] {
				return declared{}
			}
			seen[obj] = true
			var d declared
			for _, src := range rt.sources[obj] {
				s := rt.trace(src, seen)
				d.union(&s)
			}
			return d
		}
	case *ast.SelectorExpr:
		if sel := info.Selections[e]; sel != nil && sel.Kind() != types.MethodExpr && isSDKType(namedOf(info.TypeOf(e.X))) {
			return rt.trace(e.X, seen) // c.Spaces, c.Spaces.Create as a value
		}
		return unfollowed("the field " + describe(e) + " is not followed")
	case *ast.CallExpr:
		fn, kind, _ := c.callee(e)
		if kind != static {
			break
		}
		switch {
		case isSDKFunc(fn, "NewClient"):
			return rt.options(e, e.Args[min(2, len(e.Args)):], "", "NewClient")
		case isMockClient(fn):
			if len(e.Args) == 0 {
				break
			}
			role, ok := c.constString(e.Args[0])
			if !ok {
				return unfollowed("the mock's Client is given a role chosen at run time")
			}
			return rt.options(e, e.Args[1:], role, describe(e.Fun))
		}
		if a := c.clientArg(e); a != nil {
			return rt.trace(a, seen) // a batcher of the client, otelexport.New(c)
		}
	}
	return unfollowed(describe(e) + " is not followed")
}

// describe names an expression for a note or a diagnostic without its
// literals or arguments, which could hold a credential written in the
// code: "env.Client(...)", "h.c", "an index expression".
func describe(e ast.Expr) string {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return describe(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return describe(e.Fun) + "(...)"
	case *ast.StarExpr:
		return "*" + describe(e.X)
	case *ast.IndexExpr:
		return describe(e.X) + "[...]"
	case *ast.IndexListExpr:
		return describe(e.X) + "[...]"
	}
	return "an expression"
}

// options reads the role and strictness a client is built with: base
// (the mock's role argument) unless a later WithRole changes it.
func (rt *roleTracer) options(call *ast.CallExpr, opts []ast.Expr, base, by string) declared {
	c := rt.c
	if call.Ellipsis.IsValid() {
		return unfollowed(by + " is given its options as a slice")
	}
	role, strict := base, false
	for _, o := range opts {
		oc, ok := ast.Unparen(o).(*ast.CallExpr)
		if !ok {
			continue
		}
		fn, kind, _ := c.callee(oc)
		if kind != static {
			continue
		}
		switch {
		case isSDKFunc(fn, "WithRole") && len(oc.Args) == 1:
			v, ok := c.constString(oc.Args[0])
			if !ok {
				return unfollowed(by + " is given a role chosen at run time")
			}
			role = v
		case isSDKFunc(fn, "WithStrictGuard"):
			strict = true
		}
	}
	if role == "" {
		return declared{noRole: true}
	}
	r, err := librato.ParseRole(role)
	if err != nil {
		return unfollowed(by + " is given an unknown role")
	}
	d := declared{roles: 1 << roleIndex(string(r)), from: []string{by + " at " + c.pos(call.Pos())}}
	if strict {
		d.strict = d.roles
	}
	return d
}

// isSDKFunc reports whether fn is the root package's function of that name
// (NewClient, WithRole, WithStrictGuard: the SDK's fixed public names).
func isSDKFunc(fn *types.Func, name string) bool {
	return fn.Name() == name && fn.Pkg() != nil && fn.Pkg().Path() == sdkPath && fn.Signature().Recv() == nil
}

// isMockClient reports whether fn is a mock server's or account's
// Client(role, opts...): a method named Client of the mock package whose
// first parameter is a librato.Role.
func isMockClient(fn *types.Func) bool {
	if fn.Name() != "Client" || fn.Pkg() == nil || fn.Pkg().Path() != mockPath || fn.Signature().Recv() == nil {
		return false
	}
	p := fn.Signature().Params()
	if p.Len() == 0 {
		return false
	}
	n := namedOf(p.At(0).Type())
	return isSDKType(n) && n.Obj().Name() == "Role"
}
