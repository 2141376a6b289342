package justcall_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestDialEndpointIsFlaggedUnverified: a user deciding on JustCall's Dial
// learns from Capabilities that its endpoint is not in JustCall's
// reference.
func TestDialEndpointIsFlaggedUnverified(t *testing.T) {
	caps := newClient(t, newSim(t)).Telephony().Capabilities()
	assert.True(t, caps.Dial)
	assert.Contains(t, caps.Unverified, "Dial")
	assert.Contains(t, caps.Unverified, justcall.DefaultMakeCallPath)
	assert.Contains(t, caps.Unverified, "SetMakeCallPath", "it says what to do")
}

// TestSetMakeCallPath: Calls.Make and the portable Dial post to the path
// set, and nothing goes to the default one.
func TestSetMakeCallPath(t *testing.T) {
	const other = "/v2.1/calls/make"
	sim := newSim(t)
	sim.SetMakeCallPath(other)
	c := newClient(t, sim)

	_, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.Error(t, err, "the default path is no longer served")
	assert.True(t, errors.Is(err, telephony.ErrNotFound), "%v", err)
	assert.Contains(t, err.Error(), justcall.DefaultMakeCallPath, "the error names the path it used")

	require.NoError(t, c.SetMakeCallPath(other))
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)
	assert.NotEmpty(t, call.CallID)
	_, err = c.Telephony().Dial(t.Context(), telephony.CallRequest{From: from, To: customer})
	require.NoError(t, err)
	assert.Equal(t, 2, sim.Count(http.MethodPost, other), "Make and Dial went to the path set")
	assert.Equal(t, 1, sim.Count(http.MethodPost, justcall.DefaultMakeCallPath), "only the first Make used the default")

	require.NoError(t, c.SetMakeCallPath(""), "\"\" restores the default")
	sim.SetMakeCallPath("")
	_, err = c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)
	assert.Equal(t, 2, sim.Count(http.MethodPost, justcall.DefaultMakeCallPath))

	for _, bad := range []string{"v2/calls/make", "/v2/calls/make?x=1", "/v2/../admin", "/a#b"} {
		err := c.SetMakeCallPath(bad)
		require.Error(t, err, bad)
		assert.True(t, errors.Is(err, telephony.ErrInvalidRequest), bad)
		assert.True(t, strings.Contains(err.Error(), "must start with '/'"), err.Error())
	}
}
