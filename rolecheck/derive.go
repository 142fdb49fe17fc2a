package rolecheck

import (
	"go/ast"
	"go/constant"
	"go/types"
	"slices"
	"strings"

	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// need is what a function or a call may reach: rows of the matrix (a bit
// per row index) and why some of it cannot be classified.
type need struct {
	rows    []uint64
	unknown []string // sorted, unique
}

func (n *need) addRow(r *endpoints.Row) bool {
	w, b := r.Index/64, uint64(1)<<(r.Index%64)
	for len(n.rows) <= w {
		n.rows = append(n.rows, 0)
	}
	if n.rows[w]&b != 0 {
		return false
	}
	n.rows[w] |= b
	return true
}

func (n *need) addUnknown(why string) bool {
	i, found := slices.BinarySearch(n.unknown, why)
	if found {
		return false
	}
	n.unknown = slices.Insert(n.unknown, i, why)
	return true
}

// merge adds o to n and reports whether n grew.
func (n *need) merge(o *need) bool {
	if o == nil {
		return false
	}
	changed := false
	for len(n.rows) < len(o.rows) {
		n.rows = append(n.rows, 0)
	}
	for i, w := range o.rows {
		if n.rows[i]|w != n.rows[i] {
			n.rows[i] |= w
			changed = true
		}
	}
	for _, u := range o.unknown {
		changed = n.addUnknown(u) || changed
	}
	return changed
}

func (n *need) empty() bool {
	for _, w := range n.rows {
		if w != 0 {
			return false
		}
	}
	return len(n.unknown) == 0
}

// rowList returns the rows in matrix order.
func (n *need) rowList() []*endpoints.Row {
	all := endpoints.All.Rows()
	var out []*endpoints.Row
	for i := range all {
		if w := i / 64; w < len(n.rows) && n.rows[w]&(1<<(i%64)) != 0 {
			out = append(out, &all[i])
		}
	}
	return out
}

func (n *need) rowNames() []string {
	var out []string
	for _, r := range n.rowList() {
		out = append(out, r.String())
	}
	return out
}

func (n *need) fact() *Needs {
	return &Needs{Rows: n.rowNames(), Unknown: slices.Clone(n.unknown)}
}

func needOfFact(f *Needs) *need {
	n := &need{}
	for _, s := range f.Rows {
		if r := rowOf(s); r != nil {
			n.addRow(r)
		} else {
			n.addUnknown(s + " is not in this build's matrix")
		}
	}
	for _, u := range f.Unknown {
		n.addUnknown(u)
	}
	return n
}

// dynamicDirective is the doc-comment line that makes a function unknown.
const dynamicDirective = "//librato:dynamic"

// derive computes what every function declared in the package needs and,
// in the SDK's root package, which variables are endpoints.
func (c *state) derive() {
	info := c.pass.TypesInfo
	if c.isRoot {
		c.findEndpointVars()
	}
	c.funcs = make(map[*types.Func]*funcInfo)
	var order []*types.Func // declaration order, for determinism
	dynamicCalls := map[*types.Func][]*ast.CallExpr{}
	for _, file := range c.pass.Files {
		for _, d := range file.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if !ok || decl.Body == nil {
				continue
			}
			self, ok := info.Defs[decl.Name].(*types.Func)
			if !ok {
				continue
			}
			fi := &funcInfo{decl: decl}
			c.funcs[self] = fi
			order = append(order, self)
			if why, ok := directive(decl.Doc, dynamicDirective); ok {
				if why == "" {
					why = "its endpoints are chosen at run time"
				}
				fi.need.addUnknown(displayName(c.sdk, self) + ": " + why)
				continue
			}
			called := map[*ast.Ident]bool{}
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					fn, kind, id := c.callee(n)
					switch {
					case kind == static && c.isDo(fn):
						called[id] = true
						fi.need.merge(c.classifyDo(n, fn))
					case kind == viaInterface || kind == viaValue:
						if !c.isRoot {
							dynamicCalls[self] = append(dynamicCalls[self], n)
						}
					}
				case *ast.Ident:
					if called[n] {
						return true
					}
					switch obj := info.Uses[n].(type) {
					case *types.Var:
						fi.need.merge(c.endpointVars[obj])
					case *types.Func:
						fn := obj.Origin()
						switch {
						case fn.Pkg() == c.pass.Pkg:
							fi.edges = append(fi.edges, fn)
						case c.isDo(fn):
							fi.need.addUnknown("Client.Do taken as a value")
						default:
							fi.need.merge(c.needsOf(fn))
						}
					}
				}
				return true
			})
		}
	}
	c.fixedPoint(order)
	if len(dynamicCalls) > 0 {
		for fn, calls := range dynamicCalls {
			for _, call := range calls {
				if what := c.reachesSDK(call); what != "" {
					c.funcs[fn].need.addUnknown(what)
				}
			}
		}
		c.fixedPoint(order)
	}
}

// fixedPoint spreads needs along the package's own references until
// nothing grows.
func (c *state) fixedPoint(order []*types.Func) {
	for changed := true; changed; {
		changed = false
		for _, fn := range order {
			fi := c.funcs[fn]
			for _, e := range fi.edges {
				if ei := c.funcs[e]; ei != nil && ei != fi {
					changed = fi.need.merge(&ei.need) || changed
				}
			}
		}
	}
}

// findEndpointVars records the root package's endpoints: package-level
// variables initialised by newEndpoint with two constant strings, looked up
// in the one endpoint table.
func (c *state) findEndpointVars() {
	info := c.pass.TypesInfo
	c.endpointVars = make(map[*types.Var]*need)
	for _, file := range c.pass.Files {
		for _, d := range file.Decls {
			gen, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok || len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, val := range vs.Values {
					call, ok := ast.Unparen(val).(*ast.CallExpr)
					if !ok || len(call.Args) != 2 {
						continue
					}
					id, ok := ast.Unparen(call.Fun).(*ast.Ident)
					if !ok || id.Name != "newEndpoint" {
						continue
					}
					method, ok1 := c.constString(call.Args[0])
					template, ok2 := c.constString(call.Args[1])
					v, ok3 := info.Defs[vs.Names[i]].(*types.Var)
					if !ok1 || !ok2 || !ok3 {
						continue
					}
					n := &need{}
					if row := endpoints.All.Lookup(method, template); row != nil {
						n.addRow(row)
					} else {
						n.addUnknown(method + " " + template + " is not in the matrix")
					}
					c.endpointVars[v] = n
				}
			}
		}
	}
}

// exportNeeds publishes what the package's functions need, for the
// functions other packages can call.
func (c *state) exportNeeds() {
	for fn, fi := range c.funcs {
		if fn.Exported() && !fi.need.empty() {
			c.pass.ExportObjectFact(fn, fi.need.fact())
		}
	}
}

// needsOf returns what a call of fn may reach: derived here for the
// package's own functions, from facts for the others; nil for nothing.
func (c *state) needsOf(fn *types.Func) *need {
	fn = fn.Origin()
	if fn.Pkg() == c.pass.Pkg {
		if fi := c.funcs[fn]; fi != nil && !fi.need.empty() {
			return &fi.need
		}
		return nil
	}
	if n, ok := c.imported[fn]; ok {
		return n
	}
	var f Needs
	var n *need
	if c.pass.ImportObjectFact(fn, &f) {
		n = needOfFact(&f)
	}
	c.imported[fn] = n
	return n
}

// calleeKind says how a call reaches its function.
type calleeKind int

const (
	notACall     calleeKind = iota // a conversion, a builtin, a function literal
	static                         // a declared function or a concrete method
	viaInterface                   // an interface method
	viaValue                       // a function value
)

// callee classifies a call, returning its function (for a static call or an
// interface method) and the identifier that names it.
func (c *state) callee(call *ast.CallExpr) (*types.Func, calleeKind, *ast.Ident) {
	info := c.pass.TypesInfo
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = ast.Unparen(f.X)
	case *ast.IndexListExpr:
		fun = ast.Unparen(f.X)
	}
	if tv, ok := info.Types[fun]; ok && (tv.IsType() || tv.IsBuiltin()) {
		return nil, notACall, nil
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.FuncLit:
		return nil, notACall, nil
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
		if sel := info.Selections[f]; sel != nil {
			switch {
			case sel.Kind() == types.FieldVal:
				return nil, viaValue, id
			case types.IsInterface(sel.Recv()):
				fn, _ := sel.Obj().(*types.Func)
				return fn, viaInterface, id
			}
		}
	default:
		return nil, viaValue, nil
	}
	switch obj := info.Uses[id].(type) {
	case *types.Func:
		return obj, static, id
	case *types.Var:
		return nil, viaValue, id
	}
	return nil, notACall, nil
}

// isDo reports whether fn is the SDK client's Do, whose endpoint is its
// arguments.
func (c *state) isDo(fn *types.Func) bool {
	return fn != nil && fn.Name() == "Do" && fn.Pkg() != nil && fn.Pkg().Path() == sdkPath && isClient(recvNamed(fn))
}

// classifyDo maps a call of Do to its row as the SDK does: the method in
// upper case, the path up to '?'. A method or path that is not a constant
// makes the call unknown, as does a path that matches no row.
func (c *state) classifyDo(call *ast.CallExpr, fn *types.Func) *need {
	mi, pi := 1, 2
	params := fn.Signature().Params()
	for i := 0; i < params.Len(); i++ {
		switch params.At(i).Name() {
		case "method":
			mi = i
		case "path":
			pi = i
		}
	}
	n := &need{}
	if mi >= len(call.Args) || pi >= len(call.Args) {
		n.addUnknown("Client.Do with its arguments spread")
		return n
	}
	method, okM := c.constString(call.Args[mi])
	path, okP := c.constString(call.Args[pi])
	switch {
	case !okP:
		n.addUnknown("Client.Do with a path built at run time")
	case !okM:
		n.addUnknown("Client.Do with a method chosen at run time")
	default:
		method = strings.ToUpper(strings.TrimSpace(method))
		if row := endpoints.All.Match(method, decodeUnreserved(path)); row != nil {
			n.addRow(row)
		} else {
			n.addUnknown("Client.Do(" + method + " " + path + ") matches no row of the matrix")
		}
	}
	return n
}

// decodeUnreserved decodes the percent escapes of unreserved characters,
// as Do does before it classifies a path ("/v1/%61pi_tokens" is
// /v1/api_tokens); other escapes stay.
func decodeUnreserved(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if v, ok := unhex(p[i+1], p[i+2]); ok && isUnreserved(v) {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func unhex(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// constString returns the value of a constant string expression.
func (c *state) constString(e ast.Expr) (string, bool) {
	tv, ok := c.pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// reachesSDK says why a call through an interface or a function value may
// reach the SDK: its signature names a type of the SDK's module, and some
// function that needs rows (of this package or known by a fact) has the
// interface's method or the value's signature. It returns "" otherwise:
// a func() or an io.Writer is not taken for an SDK call.
func (c *state) reachesSDK(call *ast.CallExpr) string {
	fn, kind, _ := c.callee(call)
	var sig *types.Signature
	switch kind {
	case viaInterface:
		sig = fn.Signature()
	case viaValue:
		sig, _ = c.pass.TypesInfo.TypeOf(call.Fun).Underlying().(*types.Signature)
	}
	if sig == nil || !mentionsSDK(sig, map[types.Type]bool{}) {
		return ""
	}
	cands := c.candidateFuncs()
	switch kind {
	case viaInterface:
		iface, ok := fn.Signature().Recv().Type().Underlying().(*types.Interface)
		if !ok {
			return ""
		}
		for _, cand := range cands {
			recv := cand.Signature().Recv()
			if recv == nil || cand.Name() != fn.Name() {
				continue
			}
			if types.Implements(recv.Type(), iface) || types.Implements(types.NewPointer(recv.Type()), iface) {
				return "a call through an interface (" + describe(call.Fun) + ")"
			}
		}
	case viaValue:
		for _, cand := range cands {
			cs := cand.Signature()
			if cs.TypeParams().Len() > 0 || cs.RecvTypeParams().Len() > 0 {
				continue
			}
			if types.Identical(types.NewSignatureType(nil, nil, nil, cs.Params(), cs.Results(), cs.Variadic()), sig) {
				return "a call through a function value (" + describe(call.Fun) + ")"
			}
		}
	}
	return ""
}

// mentionsSDK reports whether t is or is built from a named type declared
// in a package of the SDK's module.
func mentionsSDK(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		p := t.Obj().Pkg()
		return p != nil && (p.Path() == sdkPath || strings.HasPrefix(p.Path(), sdkPath+"/"))
	case *types.Pointer:
		return mentionsSDK(t.Elem(), seen)
	case *types.Slice:
		return mentionsSDK(t.Elem(), seen)
	case *types.Array:
		return mentionsSDK(t.Elem(), seen)
	case *types.Chan:
		return mentionsSDK(t.Elem(), seen)
	case *types.Map:
		return mentionsSDK(t.Key(), seen) || mentionsSDK(t.Elem(), seen)
	case *types.Tuple:
		for i := 0; i < t.Len(); i++ {
			if mentionsSDK(t.At(i).Type(), seen) {
				return true
			}
		}
	case *types.Signature:
		return mentionsSDK(t.Params(), seen) || mentionsSDK(t.Results(), seen)
	}
	return false
}

// candidateFuncs lists the functions known to need something: the
// package's own and those of facts.
func (c *state) candidateFuncs() []*types.Func {
	if c.candidatesOK {
		return c.candidates
	}
	c.candidatesOK = true
	for _, f := range c.pass.AllObjectFacts() {
		if _, ok := f.Fact.(*Needs); ok {
			if fn, ok := f.Object.(*types.Func); ok {
				c.candidates = append(c.candidates, fn)
			}
		}
	}
	for fn, fi := range c.funcs {
		if !fi.need.empty() {
			c.candidates = append(c.candidates, fn)
		}
	}
	return c.candidates
}

// directive finds a line "//librato:NAME rest" in a comment group and
// returns rest.
func directive(doc *ast.CommentGroup, name string) (string, bool) {
	if doc == nil {
		return "", false
	}
	for _, cm := range doc.List {
		if rest, ok := strings.CutPrefix(cm.Text, name); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//") // a comment on the directive
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// recvNamed returns the named type of fn's receiver, or nil.
func recvNamed(fn *types.Func) *types.Named {
	recv := fn.Signature().Recv()
	if recv == nil {
		return nil
	}
	return namedOf(recv.Type())
}

// namedOf returns the named type of t or of what t points to, or nil.
func namedOf(t types.Type) *types.Named {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, _ := types.Unalias(t).(*types.Named)
	return n
}

// isSDKType reports whether n is declared in the SDK's root package.
func isSDKType(n *types.Named) bool {
	return n != nil && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == sdkPath
}

// isClient reports whether n is the SDK's Client.
func isClient(n *types.Named) bool { return isSDKType(n) && n.Obj().Name() == "Client" }

// displayName names a function as a diagnostic does: a method of a service
// by the Client field that reaches it ("Spaces.Create"), another method by
// its type ("Client.Do", "setup.Provisioner.Run"), a function by its
// package ("otelexport.New").
func displayName(sdk *types.Package, fn *types.Func) string {
	fn = fn.Origin()
	n := recvNamed(fn)
	if n == nil {
		if fn.Pkg() == nil {
			return fn.Name()
		}
		return fn.Pkg().Name() + "." + fn.Name()
	}
	if !isSDKType(n) {
		return fn.Pkg().Name() + "." + n.Obj().Name() + "." + fn.Name()
	}
	if sdk != nil {
		if cl, ok := sdk.Scope().Lookup("Client").(*types.TypeName); ok {
			if st, ok := cl.Type().Underlying().(*types.Struct); ok {
				for i := 0; i < st.NumFields(); i++ {
					f := st.Field(i)
					if f.Exported() && namedOf(f.Type()) != nil && namedOf(f.Type()).Obj() == n.Obj() {
						return f.Name() + "." + fn.Name()
					}
				}
			}
		}
	}
	return n.Obj().Name() + "." + fn.Name()
}
