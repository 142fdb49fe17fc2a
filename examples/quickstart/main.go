// Command quickstart walks through the SDK's main job in one program: a Record
// Only client submits tagged measurements, a View Only client reads them back
// and lists spaces, the client-side guard refuses a call the View Only role
// may not make (before anything is sent), and a Full Access client issues an
// API token.
//
// By default it starts the bundled mock API in-process, so it needs no
// account and touches nothing but loopback:
//
//	go run ./examples/quickstart
//
// With LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE (admin, recorder or
// viewer, or the UI labels) set, it runs against that real account instead,
// doing only the steps the token's role may make; what it creates there (a
// space, an API token) it deletes again, and it deletes nothing else.
// LIBRATO_URL optionally names another API root, such as a librato-mock:
//
//	LIBRATO_EMAIL=you@example.com LIBRATO_TOKEN=... LIBRATO_ROLE=recorder go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// account is where the program runs: the in-process mock, or the real
// account the environment names.
type account struct {
	srv *mock.Server         // nil for a real account
	env *realaccount.Account // nil for the mock
}

// openAccount reads a real account from the environment, or starts the mock.
func openAccount() (*account, error) {
	env, err := realaccount.FromEnv()
	if err != nil {
		return nil, err
	}
	if env != nil {
		return &account{env: env}, nil
	}
	srv, err := mock.New()
	if err != nil {
		return nil, fmt.Errorf("starting the mock API: %w", err)
	}
	return &account{srv: srv}, nil
}

func (a *account) close() {
	if a.srv != nil {
		a.srv.Close()
	}
}

// client returns a client acting with role. The mock issues a fresh token
// of that role; a real account has one token, which serves role if it is
// that role or Full Access. It returns nil when no token fits.
func (a *account) client(role librato.Role) (*librato.Client, error) {
	if a.srv != nil {
		return a.srv.Client(role, librato.WithUserAgent("librato-quickstart"))
	}
	if a.env.Role != role && a.env.Role != librato.RoleFullAccess {
		return nil, nil
	}
	return a.env.Client("librato-quickstart")
}

// run performs every step, printing one line per step to stdout.
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	acct, err := openAccount()
	if err != nil {
		return err
	}
	defer acct.close()
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	if acct.srv != nil {
		say("mock: Librato API serving at %s", acct.srv.URL())
	} else {
		say("real account %s with a %s token", acct.env.Email, acct.env.Role.Label())
	}

	// 1. An agent's Record Only client submits measurements. Explicit
	// times make the submission idempotent, so the SDK may retry it.
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	submitted := false
	recorder, err := acct.client(librato.RoleRecordOnly)
	if err != nil {
		return err
	}
	if recorder == nil {
		say("skip submit: needs a Record Only or Full Access token")
	} else {
		// The batch's tags apply to measurements without tags of their
		// own; a measurement's own tags replace them, never merge.
		batch := &librato.MeasurementBatch{Tags: map[string]string{"region": "us-east-1"}}
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Minute).Unix()
			batch.Measurements = append(batch.Measurements,
				librato.Measurement{Name: "quickstart.cpu", Value: 40 + float64(i), Time: at, Tags: map[string]string{"host": "web-1", "region": "us-east-1"}},
				librato.Measurement{Name: "quickstart.cpu", Value: 70 + float64(i), Time: at, Tags: map[string]string{"host": "web-2", "region": "us-east-1"}},
				librato.Measurement{Name: "quickstart.requests", Value: 100 * float64(i+1), Time: at},
			)
		}
		sum, err := recorder.Measurements.Create(ctx, batch)
		if err != nil {
			return fmt.Errorf("submitting measurements: %w", err)
		}
		submitted = true
		say("submit: %s client sent %d measurements (accepted %d, failed %d)", recorder.Role().Label(), len(batch.Measurements), sum.Accepted, sum.Failed)
	}

	// 2. A dashboard's View Only client reads them back, filtered by tag.
	viewer, err := acct.client(librato.RoleViewOnly)
	if err != nil {
		return err
	}
	readClient := viewer
	if readClient == nil { // a real Record Only token may read measurements too
		readClient = recorder
	}
	page, err := readClient.Measurements.List(ctx, "quickstart.cpu", &librato.MeasurementsQuery{
		StartTime:  t0,
		EndTime:    t0.Add(3 * time.Minute),
		Resolution: time.Minute,
		Tags:       map[string][]string{"host": {"web-1"}},
	})
	switch {
	case errors.Is(err, librato.ErrNotFound) && !submitted:
		say("read: quickstart.cpu has no measurements yet (this token may not submit any)")
	case err != nil:
		return fmt.Errorf("reading measurements: %w", err)
	default:
		points := 0
		for _, s := range page.Series {
			points += len(s.Measurements)
		}
		say("read: quickstart.cpu host=web-1 at %ds resolution: %d series, %d points", page.Resolution, len(page.Series), points)
		for _, s := range page.Series {
			for _, p := range s.Measurements {
				say("  %s %s = %g", formatTags(s.Tags), time.Unix(p.Time, 0).UTC().Format("15:04:05Z"), p.Value)
			}
		}
	}

	// 3. An admin creates a space, so the View Only client has one to list.
	cleanupSpace := func() {}
	admin, err := acct.client(librato.RoleFullAccess)
	if err != nil {
		return err
	}
	if admin == nil {
		say("skip create space: needs a Full Access token")
	} else {
		name := "Quickstart"
		if acct.srv == nil {
			name = fmt.Sprintf("Quickstart %d", time.Now().Unix()) // unique, and ours to delete
		}
		sp, err := admin.Spaces.Create(ctx, &librato.Space{Name: name})
		if err != nil {
			return fmt.Errorf("creating a space: %w", err)
		}
		say("create space: %s client created space %q", admin.Role().Label(), sp.Name)
		if acct.srv == nil {
			// Ours to delete once listed, or on the way out if a step fails.
			cleanupSpace = sync.OnceFunc(func() {
				if err := admin.Spaces.Delete(context.WithoutCancel(ctx), sp.ID); err != nil {
					say("cleanup: deleting space %q: %v", sp.Name, err)
				} else {
					say("cleanup: deleted space %q", sp.Name)
				}
			})
			defer cleanupSpace()
		}
	}
	if viewer == nil {
		say("skip list spaces: needs a View Only or Full Access token")
	} else {
		var names []string
		for sp, err := range viewer.Spaces.All(ctx, nil) {
			if err != nil {
				return fmt.Errorf("listing spaces: %w", err)
			}
			names = append(names, sp.Name)
		}
		say("list spaces: %s client sees %d space(s)", viewer.Role().Label(), len(names))
		for i, name := range names {
			if i == 5 {
				say("  ...")
				break
			}
			say("  space %q", name)
		}
	}
	cleanupSpace()

	// 4. The guard: a View Only client may not create a space, and says so
	// before sending anything.
	refusedClient := viewer
	if acct.srv == nil {
		refusedClient = nil
		if acct.env.Role != librato.RoleFullAccess {
			refusedClient = readClient // the real non-admin token
		}
	}
	if refusedClient == nil {
		say("skip guard refusal: a Full Access token is never refused")
	} else {
		before := requests(acct)
		_, err := refusedClient.Spaces.Create(ctx, &librato.Space{Name: "Not allowed"})
		var refused *librato.ErrForbiddenForRole
		if !errors.As(err, &refused) {
			return fmt.Errorf("expected the guard to refuse a %s client creating a space, got %v", refusedClient.Role().Label(), err)
		}
		say("refused before sending: %v", refused)
		if acct.srv != nil {
			after := requests(acct)
			say("requests received by the mock: %d before, %d after (nothing was sent)", before, after)
			if after != before {
				return fmt.Errorf("the refused call reached the server (%d requests before, %d after)", before, after)
			}
		}
	}

	// 5. An admin issues an API token for a dashboard. Its secret is
	// available through tok.Token(); never print or log it.
	if admin == nil {
		say("skip create token: needs a Full Access token")
	} else {
		tok, err := admin.APITokens.Create(ctx, &librato.APIToken{Name: librato.Ptr("quickstart-dashboard"), Role: librato.RoleViewOnly})
		if err != nil {
			return fmt.Errorf("creating an API token: %w", err)
		}
		name := ""
		if tok.Name != nil {
			name = *tok.Name
		}
		say("create token: %s client issued token %q with role %s", admin.Role().Label(), name, tok.Role)
		if acct.srv == nil {
			if err := admin.APITokens.Delete(ctx, tok.ID); err != nil {
				return fmt.Errorf("deleting the token just created: %w", err)
			}
			say("cleanup: deleted token %q", name)
		}
	}
	say("done")
	return nil
}

// requests is how many requests the mock received; 0 for a real account.
func requests(a *account) int {
	if a.srv == nil {
		return 0
	}
	return a.srv.Requests()
}

// formatTags renders tags as {k=v,...} in name order.
func formatTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + tags[k])
	}
	b.WriteByte('}')
	return b.String()
}
