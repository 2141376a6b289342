package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demonstration routes each caller to the same place on both
// providers: the last agent, the UK desk, or the fallback.
func TestSimulateRoutesLikeTheTable(t *testing.T) {
	testenv.Long(t)
	rows, err := simulate(t.Context())
	require.NoError(t, err)
	want := map[string]string{
		"+14155550101": "Ann Lee", "+14155550102": "Bob Stone", "+12125550103": "Carol Diaz",
		"+442071838750": "Uma Khan", "+33612345678": "fallback", "+14155550199": "fallback",
	}
	require.Len(t, rows, 2*len(want), "%d rows", len(rows))
	for _, r := range rows {
		got := r.RoutedTo
		if strings.HasPrefix(r.How, "fallback") {
			got = "fallback"
		}
		assert.Equal(t, want[r.Caller], got, "%s %s: routed to %q (%s), want %q", r.Provider, r.Caller, r.RoutedTo, r.How, want[r.Caller])
	}
	var out bytes.Buffer
	printTable(&out, rows)
	t.Logf("\n%s", out.String())
}
