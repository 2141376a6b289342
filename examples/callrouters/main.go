// Command callrouters is an operator's tool for Dialpad API call routers:
// list them, create one, re-enable one that Dialpad disabled (resetting its
// error count), disable, delete, and assign a number.
//
//	DIALPAD_API_KEY=... go run ./examples/callrouters list [-office ID]
//	DIALPAD_API_KEY=... go run ./examples/callrouters create -name NAME -routing-url URL \
//	    -office ID -default-target-id ID [-default-target-type callcenter] [-secret S] [-disabled]
//	DIALPAD_API_KEY=... go run ./examples/callrouters enable -id ID
//	DIALPAD_API_KEY=... go run ./examples/callrouters disable -id ID
//	DIALPAD_API_KEY=... go run ./examples/callrouters delete -id ID
//	DIALPAD_API_KEY=... go run ./examples/callrouters assign-number -id ID [-number E164 | -area-code NNN]
//
// Without DIALPAD_API_KEY it runs a demonstration against the Dialpad
// simulator: it creates a router whose routing endpoint is broken, assigns
// it a number, places calls until Dialpad disables the router (more than 10
// routing errors in an hour), fixes the endpoint, re-enables the router
// with its error count reset, and lists the routers:
//
//	go run ./examples/callrouters
//
// Dialpad allows one update (PATCH) per router every 5 minutes: enable and
// disable count as updates, and a second one within that time fails at once
// without sending anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/switchboard-go/switchboard/dialpad"
)

func main() {
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	key := os.Getenv("DIALPAD_API_KEY")
	if key == "" {
		if len(os.Args) > 1 {
			fmt.Printf("DIALPAD_API_KEY is not set: running the demonstration against the simulator instead of %q.\n\n", os.Args[1])
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if _, err := demo(ctx, os.Stdout); err != nil {
			log.Fatalf("callrouters: %v", err)
		}
		return
	}
	dp, err := dialpad.New(key)
	if err != nil {
		log.Fatal(err)
	}
	t := &tool{dp: dp, out: os.Stdout}
	if err := t.run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatalf("callrouters: %v", err)
	}
}

// tool runs the subcommands against one Dialpad account.
type tool struct {
	dp  *dialpad.Client
	out io.Writer
}

const usage = `usage: callrouters <command> [flags]
commands: list, create, enable, disable, delete, assign-number
run "callrouters <command> -h" for a command's flags`

// run parses and runs one subcommand.
func (t *tool) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(t.out, usage)
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("callrouters "+cmd, flag.ContinueOnError)
	fs.SetOutput(t.out)
	var id int64
	idFlag := func() { fs.Int64Var(&id, "id", 0, "the call router's id (required)") }
	needID := func() error {
		if id <= 0 {
			return fmt.Errorf("%s: -id is required", cmd)
		}
		return nil
	}
	switch cmd {
	case "list":
		office := fs.Int64("office", 0, "list only this office's routers")
		if err := fs.Parse(args); err != nil {
			return err
		}
		_, err := t.list(ctx, *office)
		return err
	case "create":
		var req dialpad.CreateCallRouterRequest
		disabled := fs.Bool("disabled", false, "create it disabled (calls go straight to the default target)")
		fs.StringVar(&req.Name, "name", "", "the router's name (required)")
		fs.StringVar(&req.RoutingURL, "routing-url", "", "the URL Dialpad asks where each call goes (required)")
		fs.Int64Var(&req.OfficeID, "office", 0, "the office the router belongs to (required)")
		fs.Int64Var(&req.DefaultTargetID, "default-target-id", 0, "where calls go when the routing URL fails (required)")
		fs.StringVar(&req.DefaultTargetType, "default-target-type", dialpad.TargetTypeCallCenter, "the default target's type: callcenter, department, office, user...")
		fs.StringVar(&req.Secret, "secret", "", "sign routing requests as HS256 JWTs with this secret (at least 32 characters)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *disabled {
			f := false
			req.Enabled = &f
		}
		_, err := t.create(ctx, req)
		return err
	case "enable", "disable", "delete":
		idFlag()
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := needID(); err != nil {
			return err
		}
		switch cmd {
		case "enable":
			_, err := t.enable(ctx, id)
			return err
		case "disable":
			_, err := t.disable(ctx, id)
			return err
		}
		return t.delete(ctx, id)
	case "assign-number":
		idFlag()
		var req dialpad.AssignNumberRequest
		fs.StringVar(&req.Number, "number", "", "assign this number (E.164)")
		fs.StringVar(&req.AreaCode, "area-code", "", "assign a new number in this area code")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := needID(); err != nil {
			return err
		}
		_, err := t.assignNumber(ctx, id, req)
		return err
	}
	fmt.Fprintln(t.out, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func (t *tool) list(ctx context.Context, office int64) ([]dialpad.CallRouter, error) {
	var opts *dialpad.ListCallRoutersOptions
	if office != 0 {
		opts = &dialpad.ListCallRoutersOptions{OfficeID: office}
	}
	var routers []dialpad.CallRouter
	for r, err := range t.dp.CallRouters.List(ctx, opts) {
		if err != nil {
			return routers, err
		}
		routers = append(routers, r)
	}
	tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tENABLED\tNUMBERS\tDEFAULT TARGET\tSIGNED\tROUTING URL")
	for _, r := range routers {
		fmt.Fprintf(tw, "%d\t%s\t%v\t%v\t%s %d\t%v\t%s\n", r.ID, r.Name, r.Enabled, r.PhoneNumbers,
			r.DefaultTargetType, r.DefaultTargetID, r.Signature != nil, r.RoutingURL)
	}
	_ = tw.Flush()
	fmt.Fprintf(t.out, "%d router(s)\n", len(routers))
	return routers, nil
}

func (t *tool) create(ctx context.Context, req dialpad.CreateCallRouterRequest) (*dialpad.CallRouter, error) {
	r, err := t.dp.CallRouters.Create(ctx, req)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.out, "created router %d %q: enabled=%v, routing_url %s, default target %s %d\n",
		r.ID, r.Name, r.Enabled, r.RoutingURL, r.DefaultTargetType, r.DefaultTargetID)
	return r, nil
}

// enable re-enables the router and resets its error count (Reenable):
// enabling alone would leave the past hour's errors counted, and the next
// error would disable the router again.
func (t *tool) enable(ctx context.Context, id int64) (*dialpad.CallRouter, error) {
	r, err := t.dp.CallRouters.Reenable(ctx, id)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.out, "router %d enabled=%v, routing error count reset\n", r.ID, r.Enabled)
	return r, nil
}

func (t *tool) disable(ctx context.Context, id int64) (*dialpad.CallRouter, error) {
	off := false
	r, err := t.dp.CallRouters.Update(ctx, id, dialpad.UpdateCallRouterRequest{Enabled: &off})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.out, "router %d enabled=%v: calls go straight to %s %d\n", r.ID, r.Enabled, r.DefaultTargetType, r.DefaultTargetID)
	return r, nil
}

func (t *tool) delete(ctx context.Context, id int64) error {
	if err := t.dp.CallRouters.Delete(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "router %d deleted; its numbers went back to the company's reserved pool\n", id)
	return nil
}

func (t *tool) assignNumber(ctx context.Context, id int64, req dialpad.AssignNumberRequest) (*dialpad.Number, error) {
	n, err := t.dp.CallRouters.AssignNumber(ctx, id, req)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(t.out, "router %d now answers %s\n", id, n.Number)
	return n, nil
}
