package tsdb

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses the composite metrics language into a tree of nodes
// that composite_eval.go evaluates. The grammar the mock accepts:
//
//	expr    := call | set
//	set     := "[" [ expr { "," expr } ] "]"        nested sets flatten in place
//	call    := name "(" [ arg { "," arg } ] ")"      no space between name and "("
//	arg     := expr | string | options
//	options := "{" [ key ":" value { "," key ":" value } ] "}"
//	key     := string | bare
//	value   := string | bare                          bare: 60, true, 1/1024, -7.5
//	string  := '"' { any character but '"' } '"'
//
// Whitespace (space, tab, newline, carriage return) between tokens is
// insignificant, except between a function name and its "(". Strings have
// no escapes: the reference documents none, and no valid metric name,
// tag name or tag value contains a '"'. A trailing comma is an error.
// Function names are case-sensitive, as documented (lower case).
//
// Every function's arguments and options are checked here, before any
// data is read, so a wrong definition fails the same way whatever the
// data; only what depends on the data (a set's size at run time, a fill
// without a period, a composite named inside a composite) fails during
// evaluation.

// Limits that keep hostile input cheap: an expression longer than
// maxComposeLen bytes, or nested (calls, sets and option maps together)
// more than maxComposeDepth levels deep, is refused before anything is
// evaluated.
const (
	maxComposeLen   = 16384
	maxComposeDepth = 32
)

// composeError is an error in an expression: its message says what is
// wrong and where (line and column, counted from 1).
type composeError struct{ msg string }

func (e *composeError) Error() string { return e.msg }

// astKind is the kind of a syntax node.
type astKind int

const (
	astCall astKind = iota
	astSet
	astString
	astWord
	astMap
)

// ast is one node of the syntax tree.
type ast struct {
	kind    astKind
	pos     int    // byte offset in the expression
	text    string // call name, string contents or bare word
	args    []*ast // call arguments or set elements
	entries []astEntry
}

type astEntry struct {
	key    string
	keyPos int
	val    *ast
}

type composeParser struct {
	src   string
	i     int
	depth int
}

// ParseCompose parses and checks a composite expression; the error, a
// *composeError, names what is wrong and where.
func ParseCompose(src string) (Expr, error) {
	if len(src) > maxComposeLen {
		return nil, &composeError{"the expression is " + strconv.Itoa(len(src)) + " bytes long; the mock accepts at most " + strconv.Itoa(maxComposeLen)}
	}
	p := &composeParser{src: src}
	p.space()
	if p.i == len(src) {
		return nil, &composeError{"the expression is empty: expected a function call such as s(\"metric\", \"*\")"}
	}
	a, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(src) {
		return nil, p.errAt(p.i, "unexpected "+p.found(p.i)+" after the end of the expression")
	}
	return compile(p, a)
}

// where renders a byte offset as "line L, column C".
func (p *composeParser) where(pos int) string {
	pos = min(max(pos, 0), len(p.src))
	line := 1 + strings.Count(p.src[:pos], "\n")
	start := strings.LastIndexByte(p.src[:pos], '\n') + 1
	col := 1 + utf8.RuneCountInString(p.src[start:pos])
	return "line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}

func (p *composeParser) errAt(pos int, msg string) error {
	return &composeError{"syntax error at " + p.where(pos) + ": " + msg}
}

// found describes what stands at pos, for error messages.
func (p *composeParser) found(pos int) string {
	if pos >= len(p.src) {
		return "end of expression"
	}
	r, _ := utf8.DecodeRuneInString(p.src[pos:])
	if r == utf8.RuneError {
		return "byte 0x" + strconv.FormatUint(uint64(p.src[pos]), 16)
	}
	return strconv.QuoteRune(r)
}

func (p *composeParser) space() {
	for p.i < len(p.src) && isComposeSpace(p.src[p.i]) {
		p.i++
	}
}

func isComposeSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isBare reports the characters of a bare word: function names, option
// keys and unquoted option values.
func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.+-/", c) >= 0
}

var reFuncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *composeParser) enter(pos int) error {
	p.depth++
	if p.depth > maxComposeDepth {
		return p.errAt(pos, "the expression is nested more than "+strconv.Itoa(maxComposeDepth)+" levels deep")
	}
	return nil
}

func (p *composeParser) leave() { p.depth-- }

// expr parses a call or a set.
func (p *composeParser) expr() (*ast, error) {
	p.space()
	if p.i >= len(p.src) {
		return nil, p.errAt(p.i, "unexpected end of expression: expected a function call or a set [...]")
	}
	switch c := p.src[p.i]; {
	case c == '[':
		return p.set()
	case isBare(c):
		return p.call()
	case c == '"':
		return nil, p.errAt(p.i, "expected a function call or a set [...], found a string")
	case c == '{':
		return nil, p.errAt(p.i, "expected a function call or a set [...], found an options map")
	default:
		return nil, p.errAt(p.i, "expected a function call or a set [...], found "+p.found(p.i))
	}
}

func (p *composeParser) set() (*ast, error) {
	open := p.i
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.i++ // '['
	n := &ast{kind: astSet, pos: open}
	p.space()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, e)
		p.space()
		switch {
		case p.i >= len(p.src):
			return nil, p.errAt(open, "the set opened here is never closed with ']'")
		case p.src[p.i] == ',':
			p.i++
		case p.src[p.i] == ']':
			p.i++
			return n, nil
		default:
			return nil, p.errAt(p.i, "expected ',' or ']' in the set, found "+p.found(p.i))
		}
	}
}

func (p *composeParser) word() (string, int) {
	start := p.i
	for p.i < len(p.src) && isBare(p.src[p.i]) {
		p.i++
	}
	return p.src[start:p.i], start
}

func (p *composeParser) call() (*ast, error) {
	name, pos := p.word()
	if p.i >= len(p.src) || p.src[p.i] != '(' {
		j := p.i
		for j < len(p.src) && isComposeSpace(p.src[j]) {
			j++
		}
		if j < len(p.src) && p.src[j] == '(' && j > p.i {
			return nil, p.errAt(p.i, "no space is allowed between the function name "+strconv.Quote(name)+" and '('")
		}
		return nil, p.errAt(pos, "expected a function call or a set [...], found the bare word "+strconv.Quote(name))
	}
	if !reFuncName.MatchString(name) {
		return nil, p.errAt(pos, strconv.Quote(name)+" is not a function name")
	}
	if err := p.enter(pos); err != nil {
		return nil, err
	}
	defer p.leave()
	open := p.i
	p.i++ // '('
	n := &ast{kind: astCall, pos: pos, text: name}
	p.space()
	if p.i < len(p.src) && p.src[p.i] == ')' {
		p.i++
		return n, nil
	}
	for {
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		p.space()
		switch {
		case p.i >= len(p.src):
			return nil, p.errAt(open, "the argument list of "+name+"() opened here is never closed with ')'")
		case p.src[p.i] == ',':
			p.i++
		case p.src[p.i] == ')':
			p.i++
			return n, nil
		default:
			return nil, p.errAt(p.i, "expected ',' or ')' after an argument of "+name+"(), found "+p.found(p.i))
		}
	}
}

func (p *composeParser) arg() (*ast, error) {
	p.space()
	if p.i < len(p.src) {
		switch p.src[p.i] {
		case '"':
			return p.str()
		case '{':
			return p.options()
		case '\'':
			return nil, p.errAt(p.i, "strings are written in double quotes")
		}
	}
	return p.expr()
}

func (p *composeParser) str() (*ast, error) {
	open := p.i
	j := strings.IndexByte(p.src[open+1:], '"')
	if j < 0 {
		return nil, p.errAt(open, "the string opened here is never closed with '\"'")
	}
	p.i = open + 1 + j + 1
	return &ast{kind: astString, pos: open, text: p.src[open+1 : open+1+j]}, nil
}

func (p *composeParser) options() (*ast, error) {
	open := p.i
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.i++ // '{'
	n := &ast{kind: astMap, pos: open}
	p.space()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		return n, nil
	}
	seen := map[string]bool{}
	for {
		p.space()
		var e astEntry
		e.keyPos = p.i
		switch {
		case p.i >= len(p.src):
			return nil, p.errAt(open, "the options map opened here is never closed with '}'")
		case p.src[p.i] == '"':
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			e.key = k.text
		case isBare(p.src[p.i]):
			e.key, _ = p.word()
		default:
			return nil, p.errAt(p.i, "expected an option name, found "+p.found(p.i))
		}
		if seen[e.key] {
			return nil, p.errAt(e.keyPos, "the key "+strconv.Quote(e.key)+" is given twice")
		}
		seen[e.key] = true
		p.space()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return nil, p.errAt(p.i, "expected ':' after the key "+strconv.Quote(e.key)+", found "+p.found(p.i))
		}
		p.i++
		p.space()
		switch {
		case p.i >= len(p.src):
			return nil, p.errAt(p.i, "expected a value for "+strconv.Quote(e.key)+", found end of expression")
		case p.src[p.i] == '"':
			v, err := p.str()
			if err != nil {
				return nil, err
			}
			e.val = v
		case isBare(p.src[p.i]):
			w, pos := p.word()
			e.val = &ast{kind: astWord, pos: pos, text: w}
		default:
			return nil, p.errAt(p.i, "expected a quoted or bare value for "+strconv.Quote(e.key)+", found "+p.found(p.i))
		}
		n.entries = append(n.entries, e)
		p.space()
		switch {
		case p.i >= len(p.src):
			return nil, p.errAt(open, "the options map opened here is never closed with '}'")
		case p.src[p.i] == ',':
			p.i++
		case p.src[p.i] == '}':
			p.i++
			return n, nil
		default:
			return nil, p.errAt(p.i, "expected ',' or '}' in the options map, found "+p.found(p.i))
		}
	}
}

// --- checking: syntax tree to evaluable nodes --------------------------------

// composeFunctions lists the functions the mock evaluates, for the
// "unknown function" message.
var composeFunctions = []string{
	"abs", "absolute_value", "derive", "divide", "fill", "filter", "group_by", "integrate", "last_fill",
	"map", "max", "mean", "min", "moving_average", "multiply", "rate", "s", "scale", "series", "subtract",
	"sum", "timeshift", "top", "window", "zero_fill",
}

// compiler turns a syntax tree into nodes, checking every argument and
// option on the way.
type compiler struct{ p *composeParser }

func compile(p *composeParser, a *ast) (Expr, error) {
	return compiler{p}.set(a, "the expression")
}

func (c compiler) err(pos int, msg string) error {
	return &composeError{msg + " (at " + c.p.where(pos) + ")"}
}

// set compiles an argument that must be a set of series: a set literal or
// a call returning one. what names the argument for messages.
func (c compiler) set(a *ast, what string) (Expr, error) {
	switch a.kind {
	case astCall:
		return c.call(a)
	case astSet:
		n := &setNode{}
		for _, e := range a.args {
			sub, err := c.set(e, "a set element")
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, sub)
		}
		return n, nil
	case astString:
		return nil, c.err(a.pos, what+" must be a set of series (a function call or [...]), not the string "+strconv.Quote(a.text))
	default:
		return nil, c.err(a.pos, what+" must be a set of series (a function call or [...]), not an options map")
	}
}

// opts is a call's options map, checked against the keys the function
// knows.
type opts struct {
	c    compiler
	fn   string
	call *ast
	m    map[string]*ast
}

func (c compiler) options(call *ast, a *ast, allowed ...string) (opts, error) {
	o := opts{c: c, fn: call.text, call: call, m: map[string]*ast{}}
	if a == nil {
		return o, nil
	}
	if a.kind == astCall || a.kind == astSet {
		return o, c.err(a.pos, call.text+"() takes one set of series; put several in one set: "+call.text+"([a, b])")
	}
	if a.kind != astMap {
		return o, c.err(a.pos, call.text+"() takes an options map {key: \"value\"} here")
	}
	for _, e := range a.entries {
		known := false
		for _, k := range allowed {
			known = known || k == e.key
		}
		if !known {
			if len(allowed) == 0 {
				return o, c.err(e.keyPos, call.text+"() takes no options, got "+strconv.Quote(e.key))
			}
			return o, c.err(e.keyPos, call.text+"() has no option "+strconv.Quote(e.key)+"; its options are "+strings.Join(allowed, ", "))
		}
		o.m[e.key] = e.val
	}
	return o, nil
}

// get returns option k's text, or def when it is absent.
func (o opts) get(k, def string) (string, int, bool) {
	v, ok := o.m[k]
	if !ok {
		return def, o.call.pos, false
	}
	return v.text, v.pos, true
}

func (o opts) bad(k string, pos int, msg string) error {
	return o.c.err(pos, "option "+k+" of "+o.fn+"() "+msg)
}

// oneOf reads option k, which must be one of allowed (def when absent).
func (o opts) oneOf(k, def string, allowed ...string) (string, error) {
	v, pos, _ := o.get(k, def)
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", o.bad(k, pos, "must be one of "+strings.Join(allowed, ", ")+", got "+strconv.Quote(v))
}

var reDecimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// number reads option k as a decimal number; required options have def "".
func (o opts) number(k, def string) (float64, bool, error) {
	v, pos, given := o.get(k, def)
	if !given && def == "" {
		return 0, false, nil
	}
	if !reDecimal.MatchString(v) {
		return 0, given, o.bad(k, pos, "must be a number such as \"0.5\", got "+strconv.Quote(v))
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f > maxMagnitude || f < -maxMagnitude {
		return 0, given, o.bad(k, pos, "is out of range: "+strconv.Quote(v))
	}
	return f, given, nil
}

// whole reads option k as a whole number from lo to hi.
func (o opts) whole(k, def string, lo, hi int64) (int64, error) {
	v, pos, _ := o.get(k, def)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, o.bad(k, pos, "must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10)+", got "+strconv.Quote(v))
	}
	return n, nil
}

func (o opts) require(k, example string) error {
	if _, ok := o.m[k]; !ok {
		return o.c.err(o.call.pos, o.fn+"() needs the option "+k+", e.g. {"+k+": \""+example+"\"}")
	}
	return nil
}

// args checks a call's argument count.
func (c compiler) args(a *ast, lo, hi int, usage string) error {
	if n := len(a.args); n < lo || n > hi {
		return c.err(a.pos, a.text+"() takes "+usage+"; got "+strconv.Itoa(n)+" argument"+plural(n))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// setAndOptions compiles the common form f(set[, options]).
func (c compiler) setAndOptions(a *ast, allowed ...string) (Expr, opts, error) {
	usage := "a set of series"
	if len(allowed) > 0 {
		usage += " and an optional options map"
	}
	if err := c.args(a, 1, 2, usage); err != nil {
		return nil, opts{}, err
	}
	in, err := c.set(a.args[0], "the first argument of "+a.text+"()")
	if err != nil {
		return nil, opts{}, err
	}
	var om *ast
	if len(a.args) == 2 {
		om = a.args[1]
	}
	o, err := c.options(a, om, allowed...)
	return in, o, err
}

func (c compiler) call(a *ast) (Expr, error) {
	switch a.text {
	case "series", "s":
		return c.series(a)
	case "timeshift":
		return c.timeshift(a)
	case "map":
		return c.mapCall(a)
	case "group_by":
		return c.groupBy(a)
	}
	fn, ok := transforms[a.text]
	if !ok {
		return nil, &composeError{"unknown function " + strconv.Quote(a.text) + " at " + c.p.where(a.pos) + "; the mock evaluates " + strings.Join(composeFunctions, ", ")}
	}
	in, o, err := c.setAndOptions(a, fn.options...)
	if err != nil {
		return nil, err
	}
	if fn.pairs && a.args[0].kind == astSet && len(a.args[0].args) != 2 {
		return nil, c.err(a.pos, a.text+"() takes a set of exactly two series, got a set of "+strconv.Itoa(len(a.args[0].args)))
	}
	apply, err := fn.build(o)
	if err != nil {
		return nil, err
	}
	return &funcNode{name: a.text, where: c.p.where(a.pos), in: in, pairs: fn.pairs, apply: apply}, nil
}

func (c compiler) series(a *ast) (Expr, error) {
	if err := c.args(a, 2, 3, `a metric name, a tag set {"tag": "pattern"} (or "*") and an optional options map`); err != nil {
		return nil, err
	}
	name := a.args[0]
	if name.kind != astString {
		return nil, c.err(name.pos, a.text+"() takes the metric name as its first argument, as a quoted string")
	}
	if name.text == "" {
		return nil, c.err(name.pos, a.text+"() needs a metric name")
	}
	n := &seriesNode{where: c.p.where(a.pos), metric: name.text, grouped: true}
	switch sel := a.args[1]; sel.kind {
	case astString:
		switch sel.text {
		case "*", "%":
			// all streams; "%" (dynamic tags) has no template to fill it in
		default:
			n.source, n.hasSource = sel.text, true
		}
	case astMap:
		n.tags = map[string]string{}
		for _, e := range sel.entries {
			k := strings.ToLower(strings.TrimPrefix(e.key, "@"))
			if k == "" {
				return nil, c.err(e.keyPos, a.text+"() has an empty tag name in its tag set")
			}
			n.tags[k] = e.val.text
		}
	default:
		return nil, c.err(sel.pos, a.text+`() takes a tag set {"tag": "pattern"} or "*" as its second argument`)
	}
	var om *ast
	if len(a.args) == 3 {
		om = a.args[2]
		if om.kind != astMap {
			return nil, c.err(om.pos, a.text+`() takes an options map as its third argument, e.g. {function: "sum", period: "60"}`)
		}
	}
	o, err := c.options(a, om, "function", "period", "group")
	if err != nil {
		return nil, err
	}
	if _, given := o.m["function"]; given {
		if n.fn, err = o.oneOf("function", "", "min", "max", "mean", "sum", "count"); err != nil {
			return nil, err
		}
	}
	if _, given := o.m["period"]; given {
		if n.period, err = o.whole("period", "", 1, MaxRes); err != nil {
			return nil, err
		}
	}
	g, err := o.oneOf("group", "true", "true", "false")
	if err != nil {
		return nil, err
	}
	n.grouped = g == "true"
	return n, nil
}

var reShifts = regexp.MustCompile(`^\s*([+-]?[0-9]+(?:\s*,\s*[+-]?[0-9]+)*)\s*([smhdw])\s*$`)

var shiftUnits = map[string]int64{"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

// maxShift bounds one shift, about 317 years, so shifted times cannot
// overflow.
const maxShift = 10_000_000_000

func (c compiler) timeshift(a *ast) (Expr, error) {
	if err := c.args(a, 2, 2, `a shift list such as "0,1d" and a set of series`); err != nil {
		return nil, err
	}
	spec := a.args[0]
	if spec.kind != astString {
		return nil, c.err(spec.pos, `timeshift() takes the shifts as a string such as "1w" or "0,1,2d"`)
	}
	m := reShifts.FindStringSubmatch(spec.text)
	if m == nil {
		return nil, c.err(spec.pos, `timeshift() shifts `+strconv.Quote(spec.text)+` must be whole numbers separated by commas and one unit letter (s, m, h, d or w), e.g. "0,1d"`)
	}
	unit := shiftUnits[m[2]]
	n := &timeshiftNode{}
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseInt(strings.TrimPrefix(f, "+"), 10, 64)
		if err != nil || v > maxShift/unit || v < -maxShift/unit {
			return nil, c.err(spec.pos, "timeshift() shift "+strconv.Quote(f+m[2])+" is too large")
		}
		// A shift goes back in time unless it says '+': "7d" and "-7d"
		// are the same.
		back := v * unit
		if back < 0 {
			back = -back
		}
		if strings.HasPrefix(f, "+") {
			back = -back
		}
		n.shifts = append(n.shifts, back)
	}
	in, err := c.set(a.args[1], "the second argument of timeshift()")
	if err != nil {
		return nil, err
	}
	n.in = in
	return n, nil
}

func (c compiler) mapCall(a *ast) (Expr, error) {
	if err := c.args(a, 2, 2, `an options map {metric: "pattern"} or {source: "pattern"} and a set of series`); err != nil {
		return nil, err
	}
	if a.args[0].kind != astMap {
		return nil, c.err(a.args[0].pos, `map() takes {metric: "pattern"} or {source: "pattern"} as its first argument`)
	}
	o, err := c.options(a, a.args[0], "metric", "source")
	if err != nil {
		return nil, err
	}
	metric, hasMetric := o.m["metric"]
	source, hasSource := o.m["source"]
	n := &mapNode{where: c.p.where(a.pos)}
	switch {
	case hasMetric && hasSource:
		return nil, c.err(a.args[0].pos, "map() takes metric or source, not both")
	case hasMetric:
		n.byMetric, n.pattern = true, metric.text
	case hasSource:
		n.pattern = source.text
	default:
		return nil, c.err(a.args[0].pos, `map() needs {metric: "pattern"} or {source: "pattern"}`)
	}
	if n.pattern == "" {
		return nil, c.err(a.args[0].pos, "map() needs a non-empty pattern")
	}
	if n.in, err = c.set(a.args[1], "the second argument of map()"); err != nil {
		return nil, err
	}
	return n, nil
}

func (c compiler) groupBy(a *ast) (Expr, error) {
	if err := c.args(a, 2, 2, `tag names such as "region,az" and a set of series`); err != nil {
		return nil, err
	}
	spec := a.args[0]
	if spec.kind != astString {
		return nil, c.err(spec.pos, `group_by() takes the tag names as a string such as "region" or "region,az"`)
	}
	n := &groupByNode{}
	for _, t := range strings.Split(spec.text, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if !ValidTagName(t) {
			return nil, c.err(spec.pos, "group_by() tag names "+strconv.Quote(spec.text)+" must be tag names separated by commas")
		}
		n.tags = append(n.tags, t)
	}
	in, err := c.set(a.args[1], "the second argument of group_by()")
	if err != nil {
		return nil, err
	}
	n.in = in
	return n, nil
}
