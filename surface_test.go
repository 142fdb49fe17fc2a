package librato

import (
	"context"
	"iter"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rule per operation (package doc, "One shape per operation") checked
// by reflection over every service of the Client, the batchers and the
// Aggregator. The family table is read from doc.go itself, so the table,
// the rules and the code cannot drift apart.

var (
	ctxType     = reflect.TypeFor[context.Context]()
	errType     = reflect.TypeFor[error]()
	listOptType = reflect.TypeFor[ListOptions]()
	timeT       = reflect.TypeFor[time.Time]()
	durType     = reflect.TypeFor[time.Duration]()
)

// docTable is the family table of the package doc: per family, which of
// the six operations it has and its own methods.
type docRow struct {
	ops    map[string]bool // List All Get Create Update Delete
	extras []string
}

var sixOps = []string{"List", "All", "Get", "Create", "Update", "Delete"}

func readDocTable(t *testing.T) map[string]docRow {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(src), "//\tfamily        List  All  Get  Create  Update  Delete  its own\n")
	require.True(t, ok, "doc.go has the family table")
	rows := map[string]docRow{}
	for _, line := range strings.Split(rest, "\n") {
		line, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			break
		}
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 8, line)
		r := docRow{ops: map[string]bool{}}
		for i, op := range sixOps {
			require.Contains(t, []string{"yes", "–"}, f[1+i], line)
			r.ops[op] = f[1+i] == "yes"
		}
		if extras := strings.Join(f[7:], " "); extras != "–" {
			for _, e := range strings.Split(extras, ",") {
				r.extras = append(r.extras, strings.TrimSpace(e))
			}
		}
		rows[f[0]] = r
	}
	return rows
}

// TestEveryServiceFollowsTheRuleTable: each service of the Client has
// exactly the methods the table gives it, and each of the six operations
// has its one shape.
func TestEveryServiceFollowsTheRuleTable(t *testing.T) {
	table := readDocTable(t)
	c, err := NewClient(testEmail, testToken)
	require.NoError(t, err)
	cv := reflect.ValueOf(c).Elem()
	seen := map[string]bool{}
	for i := 0; i < cv.NumField(); i++ {
		f := cv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		family := f.Name
		seen[family] = true
		row, ok := table[family]
		if !assert.True(t, ok, "the table has no row for Client.%s", family) {
			continue
		}
		st := f.Type
		var want []string
		for _, op := range sixOps {
			if row.ops[op] {
				want = append(want, op)
			}
		}
		want = append(want, row.extras...)
		var got []string
		for j := 0; j < st.NumMethod(); j++ {
			got = append(got, st.Method(j).Name)
		}
		slices.Sort(want)
		slices.Sort(got)
		assert.Equal(t, want, got, "Client.%s's methods are the table's", family)
		for j := 0; j < st.NumMethod(); j++ {
			checkOperation(t, family, st.Method(j).Name, st.Method(j).Type)
		}
	}
	for family := range table {
		assert.True(t, seen[family], "the table's %s is a field of Client", family)
	}
}

// checkOperation checks one method against the rule of its operation; ft
// has the receiver as its first parameter.
func checkOperation(t *testing.T, family, name string, ft reflect.Type) {
	t.Helper()
	what := family + "." + name
	in := make([]reflect.Type, ft.NumIn()-1)
	for i := range in {
		in[i] = ft.In(i + 1)
	}
	out := make([]reflect.Type, ft.NumOut())
	for i := range out {
		out[i] = ft.Out(i)
	}
	if name == "NewBatcher" {
		require.Len(t, out, 2, what)
		assert.Equal(t, errType, out[1], what)
		return
	}
	require.NotEmpty(t, in, what)
	assert.Equal(t, ctxType.String(), in[0].String(), "%s takes a context first", what)
	require.NotEmpty(t, out, what)
	if name != "All" {
		assert.Equal(t, errType.String(), out[len(out)-1].String(), "%s returns an error last", what)
	}
	ids := in[1:]
	switch name {
	case "List", "All":
		if family == "Charts" {
			assert.Equal(t, []reflect.Type{reflect.TypeFor[int64]()}, ids, "Charts.List takes the space id")
			assert.Equal(t, reflect.TypeFor[[]Chart](), out[0], "Charts.List returns the bare array the API sends")
			return
		}
		opts := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		require.Equal(t, reflect.Pointer, opts.Kind(), "%s takes options by pointer", what)
		if opts.Elem() != listOptType {
			_, embeds := opts.Elem().FieldByName("ListOptions")
			timePaged := strings.HasSuffix(opts.Elem().Name(), "Query")
			assert.True(t, embeds || timePaged, "%s takes *ListOptions, a type embedding it, or a time-paged query", what)
			if timePaged {
				checkQueryTimes(t, what, opts.Elem())
			}
		}
		if name == "List" {
			require.Len(t, out, 2, what)
			assert.True(t, out[0].Kind() == reflect.Pointer && strings.HasSuffix(out[0].Elem().Name(), "Page"), "%s returns *XPage, not %v", what, out[0])
		} else {
			require.Len(t, out, 1, what)
			assert.Equal(t, "Seq2", strings.SplitN(out[0].Name(), "[", 2)[0], "%s returns an iter.Seq2", what)
			assert.Equal(t, reflect.Func, out[0].Kind(), what)
		}
	case "Get":
		require.Len(t, out, 2, what)
		assert.Equal(t, reflect.Pointer, out[0].Kind(), "%s returns *X", what)
		if family == "Annotations" {
			ids = ids[:len(ids)-1] // the search the API requires
		}
	case "Create":
		body := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		require.Equal(t, reflect.Pointer, body.Kind(), "%s takes the resource by pointer", what)
		assert.False(t, strings.HasSuffix(body.Elem().Name(), "Create"), "%s takes the resource, not a request type", what)
		if len(out) == 2 {
			assert.Equal(t, reflect.Pointer, out[0].Kind(), "%s returns *T", what)
		} else {
			assert.Equal(t, "Legacy", family, "%s returns what the API returns; only the legacy submission's answer has no body", what)
		}
	case "Update":
		assert.Equal(t, []reflect.Type{errType}, out, "%s returns only an error", what)
		body := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		require.Equal(t, reflect.Pointer, body.Kind(), what)
		assert.True(t, strings.HasSuffix(body.Elem().Name(), "Update"), "%s takes an XUpdate, not %v", what, body)
		checkUpdateFields(t, what, body.Elem())
	case "Delete":
		assert.Equal(t, []reflect.Type{errType}, out, "%s returns only an error", what)
	default:
		return // a family's own method: its doc says its shape
	}
	for _, id := range ids {
		assert.Contains(t, []reflect.Kind{reflect.Int64, reflect.String}, id.Kind(), "%s's path parameters are ids or names", what)
	}
}

// checkUpdateFields: every field of an XUpdate can say "leave unchanged"
// by being nil.
func checkUpdateFields(t *testing.T, what string, st reflect.Type) {
	for f := range fieldsOf(st) {
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		default:
			t.Errorf("%s: %s.%s is a %v, which cannot mean leave unchanged", what, st.Name(), f.Name, f.Type)
		}
	}
}

// checkQueryTimes: query types, which have no JSON, take time.Time and
// time.Duration.
func checkQueryTimes(t *testing.T, what string, st reflect.Type) {
	for f := range fieldsOf(st) {
		if f.Name == "StartTime" || f.Name == "EndTime" {
			assert.Equal(t, timeT.String(), f.Type.String(), "%s: %s.%s", what, st.Name(), f.Name)
		}
		if f.Name == "Duration" || f.Name == "Resolution" {
			assert.Equal(t, durType.String(), f.Type.String(), "%s: %s.%s", what, st.Name(), f.Name)
		}
	}
}

func fieldsOf(st reflect.Type) iter.Seq[reflect.StructField] {
	return func(yield func(reflect.StructField) bool) {
		for i := 0; i < st.NumField(); i++ {
			if f := st.Field(i); f.IsExported() && !f.Anonymous && !yield(f) {
				return
			}
		}
	}
}

// TestModelsFollowTheFieldRules: identifiers are fields, never methods;
// a time in a model is int64 epoch seconds or a time.Time, as its JSON is.
func TestModelsFollowTheFieldRules(t *testing.T) {
	models := []any{Measurement{}, Point{}, Series{}, Metric{}, Alert{}, AlertCondition{}, FiringAlert{}, AnnotationEvent{},
		AnnotationStream{}, APIToken{}, Space{}, Chart{}, Service{}, Source{}, Job{}, Snapshot{}, LegacyMeasurement{}, Link{}}
	for _, m := range models {
		rt := reflect.TypeOf(m)
		for _, name := range []string{"ID", "JobID"} {
			_, method := reflect.PointerTo(rt).MethodByName(name)
			assert.False(t, method, "%s.%s is a method; identifiers are fields", rt.Name(), name)
		}
		for f := range fieldsOf(rt) {
			if f.Name == "ID" {
				assert.Equal(t, reflect.Int64, f.Type.Kind(), "%s.ID", rt.Name())
			}
			if strings.HasSuffix(f.Name, "Time") || strings.HasSuffix(f.Name, "At") {
				ok := f.Type == timeT || f.Type.Kind() == reflect.Int64 || f.Type == reflect.TypeFor[*int64]()
				assert.True(t, ok, "%s.%s is %v: a time is int64 epoch seconds or time.Time", rt.Name(), f.Name, f.Type)
			}
		}
	}
}

// TestBatchersAndAggregatorAddTheSameWay: both batchers add, flush and
// close the same way; the Aggregator, which only records in memory, takes
// no context where it never waits.
func TestBatchersAndAggregatorAddTheSameWay(t *testing.T) {
	shape := func(v any, name string) reflect.Type {
		m, ok := reflect.TypeOf(v).MethodByName(name)
		require.True(t, ok, "%T has %s", v, name)
		return m.Type
	}
	for _, b := range []any{(*Batcher)(nil), (*LegacyBatcher)(nil)} {
		add := shape(b, "Add")
		assert.Equal(t, 3, add.NumIn(), "%T.Add(ctx, m)", b)
		assert.Equal(t, ctxType, add.In(1), "%T.Add takes a context first", b)
		assert.Equal(t, []reflect.Type{errType}, []reflect.Type{add.Out(0)}, "%T.Add returns an error", b)
		for _, m := range []string{"Flush", "Close"} {
			ft := shape(b, m)
			assert.Equal(t, 2, ft.NumIn(), "%T.%s(ctx)", b, m)
			assert.Equal(t, ctxType, ft.In(1))
			assert.Equal(t, errType, ft.Out(0))
		}
		assert.Equal(t, reflect.TypeFor[BatcherStats](), shape(b, "Stats").Out(0))
		for _, gone := range []string{"AddContext", "AddGauge", "AddCounter"} {
			_, ok := reflect.TypeOf(b).MethodByName(gone)
			assert.False(t, ok, "%T.%s", b, gone)
		}
	}
	for _, m := range []string{"Observe", "Increment"} {
		ft := shape((*Aggregator)(nil), m)
		assert.Equal(t, []reflect.Type{reflect.TypeFor[*Aggregator](), reflect.TypeFor[string](), reflect.TypeFor[map[string]string](), reflect.TypeFor[float64]()},
			[]reflect.Type{ft.In(0), ft.In(1), ft.In(2), ft.In(3)}, "Aggregator.%s(name, tags, v) only records in memory", m)
		assert.Equal(t, errType, ft.Out(0))
	}
	assert.Equal(t, ctxType, shape((*Aggregator)(nil), "Close").In(1))
}

// TestNoMethodReturnsNilWithoutError calls every method of every service
// that returns a result, by reflection, with plain arguments, against a
// server that answers each status a success can have, and finds a result
// whenever there is no error.
func TestNoMethodReturnsNilWithoutError(t *testing.T) {
	for _, status := range []int{200, 201, 202, 204} {
		c, mt := newMockClient(t)
		mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			body := `{}`
			if strings.Contains(req.URL.Path, "/charts") && req.Method == "GET" && !strings.Contains(req.URL.Path, "/charts/") {
				body = `[]`
			}
			if status == 204 {
				body = ``
			}
			r := httpmock.NewStringResponse(status, body)
			r.Header.Set("Location", "/v1/jobs/7")
			return r, nil
		})
		cv := reflect.ValueOf(c).Elem()
		for i := 0; i < cv.NumField(); i++ {
			f := cv.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			sv := cv.Field(i)
			for j := 0; j < sv.NumMethod(); j++ {
				m := sv.Type().Method(j)
				if m.Name == "NewBatcher" || m.Name == "Wait" || m.Type.NumOut() != 2 || m.Type.Out(0).Kind() == reflect.Func {
					continue
				}
				args := []reflect.Value{reflect.ValueOf(context.Background())}
				for k := 2; k < m.Type.NumIn(); k++ {
					args = append(args, plainArg(m.Type.In(k)))
				}
				res := sv.Method(j).Call(args)
				if res[1].IsNil() {
					assert.False(t, res[0].IsNil(), "%s.%s answered %d returned nil and no error", f.Name, m.Name, status)
				}
			}
		}
	}
}

// plainArg is an argument a call accepts: 1 for an id, "x" for a name, a
// zero value for a body or options.
func plainArg(t reflect.Type) reflect.Value {
	switch t.Kind() {
	case reflect.Int64:
		return reflect.ValueOf(int64(1)).Convert(t)
	case reflect.String:
		return reflect.ValueOf("x").Convert(t)
	case reflect.Pointer:
		return reflect.New(t.Elem())
	}
	return reflect.Zero(t)
}
