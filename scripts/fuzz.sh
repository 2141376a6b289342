#!/usr/bin/env bash
# Run every Fuzz target of the module, one at a time, for SECONDS each
# (default 60), and print executions and failures per target.
#
#   scripts/fuzz.sh [seconds]
#
# Targets are found with grep (func FuzzXxx(f *testing.F) in *_test.go), so a
# new target is picked up without editing this script. Under plain `go test`
# every target already runs on its seed corpus; this runs the fuzzer itself.
# A failure stops that target (Go's fuzzer stops at the first failing input)
# and Go writes the input under the package's testdata/fuzz/<Target>/: commit
# it with the fix so that it becomes a regression seed. Exit status is 1 when
# any target failed.
set -u
secs="${1:-60}"
case "$secs" in ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.." || exit 2

logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT
failed=0
total_targets=0
printf '%-60s %14s %10s %9s\n' "target" "executions" "new-corp" "failures"
while IFS=: read -r file name; do
	dir="./$(dirname "$file")"
	total_targets=$((total_targets + 1))
	log="$logdir/$total_targets.log"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$dir" >"$log" 2>&1
	rc=$?
	# The fuzzer's progress lines read "fuzz: elapsed: 20s, execs: 123 (6/sec), new interesting: 2 (total: 9)".
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
	newc="$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | awk '{print $3}')"
	fails=0
	if [ "$rc" -ne 0 ]; then
		fails=1
		failed=1
	fi
	printf '%-60s %14s %10s %9s\n' "${dir#./} ${name}" "${execs:-?}" "${newc:-0}" "$fails"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/    | /' "$log" | tail -30
	fi
done < <(grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | sed -E 's/^\.\///; s/:func (Fuzz[A-Za-z0-9_]+)\($/:\1/' | sort)
echo "targets=${total_targets} seconds-each=${secs} any-failure=${failed}"
exit "$failed"
