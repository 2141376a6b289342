package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// printTable writes the routing table.
func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tCALLER\tWHO\tROUTED TO\tHOW\tDECISION\tROUTED IN")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%v\n", r.Provider, r.Caller, r.Who, r.RoutedTo, r.How,
			r.Decision.Round(time.Microsecond), r.Done.Round(100*time.Microsecond))
	}
	fmt.Fprintln(tw, "\nDECISION: time in the routing function. ROUTED IN: Dialpad's wait for the routing answer (JWT check,\nrules, email -> user id through the cached directory); Aircall: webhook received to transfer done.")
	tw.Flush()
}
