package tsdb

import "strings"

// LegacyShape is what the legacy composite answer needs of an
// expression: its series() calls, in the order the expression writes
// them, and whether a function merges series (so a series without a
// source stands for several: "all").
type LegacyShape struct {
	calls  []*seriesNode
	Merges bool
}

// LegacyShapeOf finds the shape of an expression.
func LegacyShapeOf(ex Expr) LegacyShape {
	var sh LegacyShape
	walkCompose(ex, func(n Expr) {
		switch t := n.(type) {
		case *seriesNode:
			sh.calls = append(sh.calls, t)
		case *funcNode:
			sh.Merges = sh.Merges || mergingFunctions[t.name]
		}
	})
	return sh
}

// Query is the metric and source patterns of the series() call that
// could have loaded a series of metric (and source, when it has one):
// the first that matches ("&" read as "*"), else the first call.
func (sh LegacyShape) Query(metric, source string, hasSource bool) (metricPattern, sourcePattern string) {
	if n := matchingCall(sh.calls, metric, source, hasSource); n != nil {
		return n.metric, legacySourcePattern(n)
	}
	return "", ""
}

// mergingFunctions are the composite functions whose output series stands
// for several input series.
var mergingFunctions = map[string]bool{"sum": true, "mean": true, "min": true, "max": true, "multiply": true, "divide": true, "subtract": true}

// matchingCall is the first series() call that could have loaded a series
// of metric (and source, when it has one), else the first call.
func matchingCall(calls []*seriesNode, metric, source string, hasSource bool) *seriesNode {
	for _, n := range calls {
		if !Glob(strings.ReplaceAll(n.metric, "&", "*"), metric) {
			continue
		}
		if hasSource && !matchValue(strings.ReplaceAll(legacySourcePattern(n), "&", "*"), source) {
			continue
		}
		return n
	}
	if len(calls) > 0 {
		return calls[0]
	}
	return nil
}

// legacySourcePattern is the source pattern of a series() call: its
// legacy source argument, the "source" entry of its tag set, or "*".
func legacySourcePattern(n *seriesNode) string {
	if n.hasSource {
		return n.source
	}
	if p, ok := n.tags["source"]; ok {
		return p
	}
	return "*"
}

// walkCompose calls visit on n and every node below it, in the order the
// expression writes them.
func walkCompose(n Expr, visit func(Expr)) {
	if n == nil {
		return
	}
	visit(n)
	switch t := n.(type) {
	case *setNode:
		for _, e := range t.elems {
			walkCompose(e, visit)
		}
	case *funcNode:
		walkCompose(t.in, visit)
	case *timeshiftNode:
		walkCompose(t.in, visit)
	case *mapNode:
		walkCompose(t.in, visit)
	case *groupByNode:
		walkCompose(t.in, visit)
	}
}
