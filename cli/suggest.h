// "Did you mean": the nearest valid word to a mistyped subcommand or option,
// by edit distance, so a typo is answered with the right name instead of a
// bare "not expected".
#pragma once

#include <string>
#include <vector>

namespace decant {

// Levenshtein distance (insertions, deletions, substitutions; a swap of two
// neighbours counts as one, as typists make it).
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to word, or "" when none is close enough to be a
// plausible typo (distance at most 2, or a third of the word's length when
// that is more; ties go to the earlier candidate).
std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace decant
