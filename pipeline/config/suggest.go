package config

import "strings"

// suggest returns the candidate that the unknown word was most likely meant
// to be, or "" if none is close. A candidate matches when, ignoring case,
// '_' and '-':
//   - it equals the word (batchSize for batch_size, latest for LATEST);
//   - it is within a small edit distance of the word (windw for window):
//     one edit for candidates of up to four characters, two for longer ones;
//   - one ends with or starts with the other, the shorter having at least
//     four characters (batch_size for size, group_id for
//     consumer_group_id);
//   - the word is another system's name for it (ssl for tls, brokers for
//     bootstrap_servers).
//
// Ties go to the earlier candidate, so results are deterministic.
func suggest(word string, candidates []string) string {
	w := normalizeKey(word)
	if w == "" {
		return ""
	}
	if syn, ok := synonyms[w]; ok {
		for _, c := range candidates {
			if c == syn {
				return c
			}
		}
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		nc := normalizeKey(c)
		if nc == w {
			return c
		}
		limit := 2
		if len([]rune(nc)) <= 4 {
			limit = 1
		}
		if d := distance(w, nc); d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		nc := normalizeKey(c)
		short, long := nc, w
		if len(short) > len(long) {
			short, long = long, short
		}
		if len(short) >= 4 && (strings.HasSuffix(long, short) || strings.HasPrefix(long, short)) {
			return c
		}
	}
	return ""
}

// synonyms maps names used by Kafka clients and similar tools, normalized
// with normalizeKey, to Penstock's field names.
var synonyms = map[string]string{
	"ssl":             "tls",
	"brokers":         "bootstrap_servers",
	"groupid":         "consumer_group_id",
	"group.id":        "consumer_group_id",
	"autooffsetreset": "starting_position",
	"input":           "source",
	"output":          "target",
	"sink":            "target",
	"destination":     "target",
}

// normalizeKey lower-cases s and drops '_', '-' and spaces, so that
// batch_size, batchSize and Batch-Size compare equal.
func normalizeKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// distance is the optimal string alignment distance between a and b: the
// number of single-character insertions, deletions, substitutions and
// transpositions of adjacent characters needed to turn one into the other,
// with no substring edited twice. It works on runes.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// d[i][j] is the distance between s[:i] and t[:j]; three rows suffice.
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
