// Package benchmarks holds the evidence for Switchboard's performance and
// reliability claims: overhead benchmarks against bare net/http +
// encoding/json, routing handler benchmarks and loopback latency runs, and
// the flat-heap check of a 100,000-user listing. It has no exported code;
// everything lives in its _test.go files and prints its figures with
// t.Logf or b.ReportMetric. BENCHMARKS.md at the repository root lists every
// figure with the command that reproduces it.
package benchmarks
