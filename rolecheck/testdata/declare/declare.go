package declare // want package:"calls example.com/fixtures/declare: \\d+"

import (
	"context"
	"os"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/otelexport"
)

var ctx = context.Background()

// withRole builds its client with a constant role: every kind of call is
// checked against it.
func withRole() {
	c, err := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleViewOnly))
	if err != nil {
		return
	}
	c.Spaces.List(ctx, nil)
	c.Spaces.Create(ctx, &librato.Space{Name: "x"}) // want `^Spaces\.Create \(POST /v1/spaces\) is not allowed for a View Only token \(role viewer\); allowed: admin \(Full Access\)$`
	for range c.Spaces.All(ctx, nil) {
	}
	for range c.Alerts.All(ctx, nil) { // want `^Alerts\.All \(GET /v1/alerts\) is not allowed for a View Only token \(role viewer\); allowed: admin \(Full Access\), recorder \(Record Only\)$`
	}
	c.Measurements.NewBatcher(librato.BatcherOptions{}) // want `^Measurements\.NewBatcher \(POST /v1/measurements\) is not allowed for a View Only token \(role viewer\)`
	otelexport.New(c)                                   // want `^otelexport\.New \(POST /v1/measurements\) is not allowed for a View Only token \(role viewer\)`
	c.Do(ctx, "post", "/v1/spaces?name=x", nil, nil)    // want `^Client\.Do \(POST /v1/spaces\) is not allowed for a View Only token`
	c.Do(ctx, "GET", "/v1/%61pi_tokens", nil, nil)      // want `^Client\.Do \(GET /v1/api_tokens\) is not allowed`
	c.Do(ctx, "GET", "/v1/metrics", nil, nil)
	c.Do(ctx, "GET", "/v1/"+os.Args[0], nil, nil) // unknown: a lenient guard sends it
	c.DetectRole(ctx)                             // unknown
	c.Jobs.Get(ctx, 1)                            // unlisted: a lenient guard sends it
}

// withMock gets its clients from the mock; a later WithRole wins, as in
// the mock.
func withMock() {
	srv := mock.NewServer()
	defer srv.Close()
	c, _ := srv.Client(librato.RoleRecordOnly, librato.WithUserAgent("fixture"))
	c.Measurements.Create(ctx, &librato.MeasurementBatch{})
	otelexport.New(c)
	c.Spaces.Get(ctx, 1) // want `^Spaces\.Get \(GET /v1/spaces/:id\) is not allowed for a Record Only token \(role recorder\); allowed: admin \(Full Access\), viewer \(View Only\)$`
	v, _ := srv.Client(librato.RoleRecordOnly, librato.WithRole(librato.RoleViewOnly))
	v.Measurements.Create(ctx, nil) // want `^Measurements\.Create \(POST /v1/measurements\) is not allowed for a View Only token`
	a, _ := srv.Client(librato.RoleFullAccess, librato.WithStrictGuard())
	a.APITokens.Create(ctx, nil)
	a.DetectRole(ctx) // Full Access is never refused
}

// branches sets its client in two branches: each role that reaches a call
// must be able to make it.
func branches(viewer bool) {
	var c *librato.Client
	if viewer {
		c, _ = librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleViewOnly))
	} else {
		c, _ = librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleRecordOnly))
	}
	c.Measurements.List(ctx, "cpu", nil)
	c.Spaces.List(ctx, nil)   // want `^Spaces\.List \(GET /v1/spaces\) is not allowed for a Record Only token \(role recorder\); allowed: admin \(Full Access\), viewer \(View Only\)$`
	c.Spaces.Create(ctx, nil) // want `^Spaces\.Create \(POST /v1/spaces\) is not allowed for a Record Only or View Only token \(roles recorder, viewer\); allowed: admin \(Full Access\)$`
	go func() {
		c.Alerts.Create(ctx, nil) // want `^Alerts\.Create \(POST /v1/alerts\) is not allowed for a Record Only or View Only token`
	}()
}

// The analyzer cannot follow these clients: no diagnostic.

func parameter(c *librato.Client) {
	c.Spaces.Create(ctx, nil)
}

func partly(c *librato.Client, fresh bool) {
	if fresh {
		c, _ = librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleViewOnly))
	}
	c.Spaces.Create(ctx, nil)
}

func runTimeRole(r librato.Role) {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(r))
	c.Spaces.Create(ctx, nil)
}

func optionsSlice() {
	opts := []librato.Option{librato.WithRole(librato.RoleViewOnly)}
	c, _ := librato.NewClient("ops@example.com", "token", opts...)
	c.Spaces.Create(ctx, nil)
}

type holder struct{ c *librato.Client }

func field(h *holder) {
	h.c.Spaces.Create(ctx, nil)
}

func clientFor(token string) *librato.Client {
	c, _ := librato.NewClient("ops@example.com", token, librato.WithRole(librato.RoleViewOnly))
	return c
}

// secret: a token written in the code never reaches a note.
func secret() {
	c := clientFor("s3cr3t-token")
	c.Spaces.Create(ctx, nil)
}

// noRole's client does not guard: nothing to report.
func noRole() {
	c, _ := librato.NewClient("ops@example.com", "token")
	c.Spaces.Create(ctx, nil)
}

// directive declares the role of a client it is given.
//
//librato:role viewer
func directive(c *librato.Client) {
	c.Spaces.Create(ctx, nil) // want `^Spaces\.Create \(POST /v1/spaces\) is not allowed for a View Only token \(role viewer\)`
	c.Metrics.List(ctx, nil)
}

// codeWins: a role written in the code beats the directive.
//
//librato:role viewer
func codeWins() {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleFullAccess))
	c.Spaces.Create(ctx, nil)
}

//librato:role operator // want `//librato:role operator: librato: unknown token role "operator"`
func badDirective() {}

// ignored: a reason silences a call.
func ignored() {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleViewOnly))
	c.Spaces.Create(ctx, nil) //librato:ignore shows the guard refusing
	//librato:ignore the next call shows it too
	c.Spaces.Delete(ctx, 1)
	x := 1                         //librato:ignore on another statement's line: the next line is not covered
	c.Spaces.Delete(ctx, int64(x)) // want `^Spaces\.Delete \(DELETE /v1/spaces/:id\) is not allowed`
	c.Spaces.Update(ctx, 1, nil)   //librato:ignore // want `//librato:ignore needs a reason` `^Spaces\.Update \(PUT /v1/spaces/:id\) is not allowed`
}

type spaceCreator interface {
	Create(context.Context, *librato.Space) (*librato.Space, error)
}

// strict: WithStrictGuard in the code makes unlisted rows and unknown
// calls count.
func strict() {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleRecordOnly), librato.WithStrictGuard())
	c.Jobs.Get(ctx, 1)                             // want `^Jobs\.Get \(GET /v1/jobs/:id\) is not allowed for a Record Only token \(role recorder\) under a strict guard \(the row is unlisted, its roles inferred\); allowed: admin \(Full Access\)$`
	c.Alerts.Status(ctx, 1)                        // unlisted, and Record Only may
	c.DetectRole(ctx)                              // want `^Client\.DetectRole \(unknown: Client\.DetectRole: .+\) is not allowed for a Record Only token \(role recorder\) under a strict guard, which refuses what the matrix does not list; allowed: admin \(Full Access\)$`
	c.Do(ctx, "GET", "/v1/"+os.Args[0], nil, nil)  // want `^Client\.Do \(unknown: Client\.Do with a path built at run time\) is not allowed for a Record Only token`
	c.Do(ctx, os.Args[0], "/v1/metrics", nil, nil) // want `^Client\.Do \(unknown: Client\.Do with a method chosen at run time\)`
	c.Do(ctx, "GET", "/v1/nothing", nil, nil)      // want `^Client\.Do \(unknown: Client\.Do\(GET /v1/nothing\) matches no row of the matrix\)`
	var sc spaceCreator = c.Spaces
	sc.Create(ctx, nil)  // want `^sc\.Create \(unknown: a call through an interface \(sc\.Create\)\) is not allowed for a Record Only token`
	f := c.Spaces.Create // want `^Spaces\.Create \(as a value\) \(POST /v1/spaces\) is not allowed for a Record Only token`
	f(ctx, nil)          // want `^f \(unknown: a call through a function value \(f\)\) is not allowed for a Record Only token`
	c.Jobs.Get(ctx, 2)   //librato:ignore the strict refusal is the point here
}

// lenient: the same unknown calls, reported only under a strict guard;
// never allowed either way, and calls that cannot reach the SDK are no
// calls of it.
func lenient() {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleRecordOnly))
	var sc spaceCreator = c.Spaces
	sc.Create(ctx, nil)
	f := c.Spaces.Create // want `^Spaces\.Create \(as a value\) \(POST /v1/spaces\) is not allowed for a Record Only token`
	f(ctx, nil)
	done := func() {}
	done()
	var w interface{ Write([]byte) (int, error) } = os.Stdout
	w.Write(nil)
}
