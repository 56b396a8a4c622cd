//go:build race

package sqs_test

// raceEnabled is true under the race detector, which makes the large runs
// about ten times slower: they run smaller there and full size without it.
const raceEnabled = true
