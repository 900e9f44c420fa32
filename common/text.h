// Text helpers every stage shares: walking a file's lines and trimming
// blanks, so that parsers of guest files (os-release, ld.so.conf, passwd,
// services...) do not each hand-write a loop over find('\n').
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace decant {

// The lines of a text, each without its '\n' (a '\r' before it is kept: the
// callers that care trim it). A last line without '\n' is a line; a text
// ending in '\n' has no empty line after it, and "" has no lines. Iterate
// it with range-for; the views point into the text, which must outlive them.
class Lines {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = const std::string_view&;

    iterator() = default;
    iterator(std::string_view text, size_t pos) : text_(text), pos_(pos) { find_end(); }
    reference operator*() const { return line_; }
    pointer operator->() const { return &line_; }
    iterator& operator++() {
      pos_ = end_ + 1;
      find_end();
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return pos_ == o.pos_; }
    bool operator!=(const iterator& o) const { return pos_ != o.pos_; }

   private:
    void find_end() {
      if (pos_ >= text_.size()) {
        pos_ = end_ = text_.size();
        line_ = {};
        return;
      }
      end_ = text_.find('\n', pos_);
      if (end_ == std::string_view::npos) end_ = text_.size();
      line_ = text_.substr(pos_, end_ - pos_);
    }
    std::string_view text_;
    size_t pos_ = 0, end_ = 0;
    std::string_view line_;
  };

  explicit Lines(std::string_view text) : text_(text) {}
  iterator begin() const { return iterator(text_, 0); }
  iterator end() const { return iterator(text_, text_.size()); }

 private:
  std::string_view text_;
};

// for (std::string_view line : lines(text)) ...
inline Lines lines(std::string_view text) { return Lines(text); }
inline Lines lines(const char* text) { return Lines(text); }
// A temporary string would be gone before the loop body reads its lines.
Lines lines(std::string&&) = delete;

// Calls fn(line) for every line, as lines() splits them.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  for (std::string_view line : Lines(text)) fn(line);
}

// The lines as strings, as lines() splits them.
std::vector<std::string> split_lines(std::string_view text);

// Blanks (space, tab, CR, LF, VT, FF: isspace in the C locale).
inline constexpr std::string_view kBlanks = " \t\r\n\v\f";

// s without leading and trailing characters from chars.
std::string trim(std::string_view s, std::string_view chars = kBlanks);

// The words of s separated by runs of blanks: " a  b\t" -> {a, b}.
std::vector<std::string> split_words(std::string_view s);

// The fields of s between separators, empty ones kept: "a;;b" -> {a, "", b}.
std::vector<std::string> split(std::string_view s, char separator);

}  // namespace decant
