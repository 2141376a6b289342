package state_test

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deps lists the import graph of pkgs (paths relative to the module root).
func deps(t *testing.T, pkgs ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, append([]string{"list", "-C", "../..", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// A program that does not import the Redis state must not compile
// go-redis: the seam and every provider package stay free of it.
func TestRedisOutOfTheDefaultImportGraph(t *testing.T) {
	without := deps(t, "./justcall", "./dialpad", "./aircall", "./telephony", "./telephony/state",
		"./examples/smartrouting", "./examples/clicktocall", "./examples/callrouters")
	assert.NotContains(t, without, "github.com/redis/go-redis", "go-redis in the import graph of a program without redisstate")
	assert.NotContains(t, without, "telephony/redisstate")
	// The check sees go-redis where it is.
	assert.Contains(t, deps(t, "./telephony/redisstate"), "github.com/redis/go-redis/v9")
}
