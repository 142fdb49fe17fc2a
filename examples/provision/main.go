// Command provision is an administrator's token lifecycle: a Full Access
// client issues one API token per role, confirms each token's real role by
// asking the server with DetectRole (printing the declared and the detected
// role), then deactivates each token and shows that it is refused from then
// on with 401 (ErrUnauthorized). Finally it deletes the tokens it created.
//
// By default it runs against the bundled mock API in-process:
//
//	go run ./examples/provision
//
// Against a real account it needs a Full Access token, and it creates,
// deactivates and deletes only its own tokens (named provision-example-*);
// LIBRATO_URL optionally names another API root, such as a librato-mock:
//
//	LIBRATO_EMAIL=you@example.com LIBRATO_TOKEN=... LIBRATO_ROLE=admin go run ./examples/provision
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/internal/realaccount"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "provision:", err)
		os.Exit(1)
	}
}

// run provisions, checks and revokes one token per role, printing one line
// per step to stdout.
//
// Provisioning creates API tokens: Full Access.
//
//librato:role admin
func run(ctx context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("provision", flag.ContinueOnError)
	fs.SetOutput(stdout)
	prefix := fs.String("prefix", "provision-example-", "name prefix of the tokens created")
	if err := fs.Parse(args); err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }

	var (
		admin *librato.Client
		email string
	)
	env, err := realaccount.FromEnv()
	if err != nil {
		return err
	}
	if env == nil {
		srv, err := mock.New()
		if err != nil {
			return fmt.Errorf("starting the mock API: %w", err)
		}
		defer srv.Close()
		if admin, err = srv.Client(librato.RoleFullAccess, librato.WithUserAgent("librato-provision")); err != nil {
			return err
		}
		email = srv.Email()
		say("mock: Librato API serving at %s", srv.URL())
	} else {
		if env.Role != librato.RoleFullAccess {
			return fmt.Errorf("provisioning tokens needs a Full Access token (LIBRATO_ROLE=admin), not %s", env.Role)
		}
		if admin, err = env.Client("librato-provision"); err != nil {
			return err
		}
		email = env.Email
		say("real account %s with a Full Access token", email)
	}

	// Whatever happens, delete the tokens this run created.
	var created []librato.APIToken
	defer func() {
		for _, tok := range created {
			if err := admin.APITokens.Delete(context.WithoutCancel(ctx), tok.ID); err != nil {
				say("cleanup: deleting token %q: %v", name(tok), err)
			} else {
				say("cleanup: deleted token %q", name(tok))
			}
		}
	}()

	type issued struct {
		tok    librato.APIToken
		client *librato.Client
	}
	var tokens []issued
	for _, role := range librato.Roles() {
		tok, err := admin.APITokens.Create(ctx, &librato.APIToken{Name: librato.Ptr(*prefix + string(role)), Role: role})
		if err != nil {
			return fmt.Errorf("creating a %s token: %w", role.Label(), err)
		}
		created = append(created, *tok)
		say("create: token %q (id %d) issued with role %s", name(*tok), tok.ID, tok.Role)

		// A client of the new token, declaring the role it was issued
		// with. The secret goes only to NewClient; it is never printed.
		c, err := librato.NewClient(email, tok.Token(), librato.WithRole(role), librato.WithBaseURL(admin.BaseURL()))
		if err != nil {
			return err
		}
		detected, err := c.DetectRole(ctx)
		if err != nil {
			return fmt.Errorf("detecting the role of token %q: %w", name(*tok), err)
		}
		verdict := "ok"
		if detected != role {
			verdict = "MISMATCH"
		}
		say("detect: token %q declared=%s detected=%s %s", name(*tok), role, detected, verdict)
		if detected != role {
			return fmt.Errorf("token %q was issued as %s but the server treats it as %s", name(*tok), role, detected)
		}
		tokens = append(tokens, issued{*tok, c})
	}

	for _, it := range tokens {
		if err := admin.APITokens.Update(ctx, it.tok.ID, &librato.APITokenUpdate{Active: librato.Ptr(false)}); err != nil {
			return fmt.Errorf("deactivating token %q: %w", name(it.tok), err)
		}
		say("deactivate: token %q is now inactive", name(it.tok))
		_, err := it.client.DetectRole(ctx)
		if !errors.Is(err, librato.ErrUnauthorized) {
			return fmt.Errorf("token %q still works after deactivation (got %v, want 401)", name(it.tok), err)
		}
		say("refused: token %q now gets 401: %v", name(it.tok), err)
	}
	return nil
}

// name is the token's name, or a placeholder for a token without one.
func name(t librato.APIToken) string {
	if t.Name == nil {
		return "(unnamed)"
	}
	return *t.Name
}
