//go:build race

package kafka

// raceEnabled: the race detector slows every test down and makes sync.Pool
// drop items at random, so reuse counts are not meaningful.
const raceEnabled = true
