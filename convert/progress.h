// How `decant convert` shows its progress on stderr: on a terminal, a bar
// redrawn in place (services done of all, and what each running service is
// doing: analyze, package FORMAT) with one line kept per finished service;
// elsewhere only those lines, one per service, plus one per source.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "convert/convert.h"

namespace decant {

class ProgressPrinter {
 public:
  enum class Style { Lines, Bar };
  // width: the terminal's columns, for the bar.
  ProgressPrinter(std::FILE* out, Style style, int width = 80) : out_(out), style_(style), width_(width) {}
  void operator()(const ProgressEvent& e);
  void finish();  // clears the bar

 private:
  void line(const std::string& text);
  void draw();
  std::FILE* out_;
  Style style_;
  int width_;
  size_t total_ = 0, done_ = 0;
  std::map<std::string, std::string> running_;  // "source/service" -> stage
  bool drawn_ = false;
};

}  // namespace decant
