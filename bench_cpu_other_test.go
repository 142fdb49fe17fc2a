//go:build !unix

package librato_test

import "time"

// processCPU is not measured here: BenchmarkBatcherLatency then reports
// 0 CPU per measurement.
func processCPU() time.Duration { return 0 }
