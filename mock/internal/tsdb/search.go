package tsdb

import (
	"errors"
	"strconv"
	"strings"
)

// SearchExpr is a parsed tags_search expression.
type SearchExpr interface {
	eval(tags map[string]string) bool
}

type searchAnd struct{ l, r SearchExpr }
type searchOr struct{ l, r SearchExpr }
type searchNot struct{ e SearchExpr }
type searchCmp struct {
	name, pattern string
	neq           bool
	budget        *Budget
}

func (e searchAnd) eval(t map[string]string) bool { return e.l.eval(t) && e.r.eval(t) }
func (e searchOr) eval(t map[string]string) bool  { return e.l.eval(t) || e.r.eval(t) }
func (e searchNot) eval(t map[string]string) bool { return !e.e.eval(t) }

// eval: name=pattern needs the tag with a matching value; name!=pattern
// needs the tag with a value that does not match.
func (e searchCmp) eval(t map[string]string) bool {
	v, ok := t[e.name]
	if !ok {
		return false
	}
	if e.neq { // a budget spent answers 400 anyway
		return !e.budget.matchValue(e.pattern, v)
	}
	return e.budget.matchValue(e.pattern, v)
}

// ParseSearch parses the tags_search grammar the mock supports:
//
//	expr := and ("or" and)*
//	and  := unary ("and" unary)*
//	unary:= "not" unary | "(" expr ")" | name ("=" | "!=") value
//
// Keywords ignore case; values may be quoted and use '*' wildcards. Its
// matching spends b (nil: no bound).
func ParseSearch(s string, b *Budget) (SearchExpr, error) {
	toks, err := lexSearch(s)
	if err != nil {
		return nil, err
	}
	p := &searchParser{toks: toks, budget: b}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, errors.New("unexpected " + strconv.Quote(p.toks[p.i].text))
	}
	return e, nil
}

type searchTok struct {
	kind byte // 'w' word, 's' quoted string, '(' ')' '=' '!'(for !=)
	text string
}

func lexSearch(s string) ([]searchTok, error) {
	var out []searchTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '=':
			out = append(out, searchTok{kind: c, text: string(c)})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			out = append(out, searchTok{kind: '!', text: "!="})
			i += 2
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated quoted value")
			}
			out = append(out, searchTok{kind: 's', text: s[i+1 : i+1+j]})
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()=\"'", rune(s[j])) && !(s[j] == '!' && j+1 < len(s) && s[j+1] == '=') {
				j++
			}
			out = append(out, searchTok{kind: 'w', text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type searchParser struct {
	toks   []searchTok
	i      int
	budget *Budget
}

func (p *searchParser) keyword(k string) bool {
	if p.i < len(p.toks) && p.toks[p.i].kind == 'w' && strings.EqualFold(p.toks[p.i].text, k) {
		p.i++
		return true
	}
	return false
}

func (p *searchParser) or() (SearchExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = searchOr{l, r}
	}
	return l, nil
}

func (p *searchParser) and() (SearchExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = searchAnd{l, r}
	}
	return l, nil
}

func (p *searchParser) unary() (SearchExpr, error) {
	if p.keyword("not") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return searchNot{e}, nil
	}
	if p.i >= len(p.toks) {
		return nil, errors.New("unexpected end of expression")
	}
	t := p.toks[p.i]
	if t.kind == '(' {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != ')' {
			return nil, errors.New("missing ')'")
		}
		p.i++
		return e, nil
	}
	if t.kind != 'w' && t.kind != 's' {
		return nil, errors.New("expected a tag name, got " + strconv.Quote(t.text))
	}
	p.i++
	if p.i >= len(p.toks) || (p.toks[p.i].kind != '=' && p.toks[p.i].kind != '!') {
		return nil, errors.New("expected = or != after " + strconv.Quote(t.text))
	}
	neq := p.toks[p.i].kind == '!'
	p.i++
	if p.i >= len(p.toks) || (p.toks[p.i].kind != 'w' && p.toks[p.i].kind != 's') {
		return nil, errors.New("expected a value after " + strconv.Quote(t.text))
	}
	v := p.toks[p.i].text
	p.i++
	return searchCmp{name: strings.ToLower(t.text), pattern: v, neq: neq, budget: p.budget}, nil
}
