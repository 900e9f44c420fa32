// The progress bar and lines of progress.h. The bar is one line rewritten
// with "\r" and "erase line" (ESC [K), cut to the terminal's width so it
// never wraps; a finished service's line is printed over it and the bar
// drawn again below.
#include "convert/progress.h"

#include <fmt/format.h>

namespace decant {
namespace {

std::string label(const ProgressEvent& e) { return e.source.empty() ? e.service : e.source + "/" + e.service; }

}  // namespace

void ProgressPrinter::line(const std::string& text) {
  if (drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "decant: %s\n", text.c_str());
  drawn_ = false;
}

void ProgressPrinter::draw() {
  const int bar = 20;
  int filled = total_ ? static_cast<int>(done_ * bar / total_) : 0;
  std::string text = fmt::format("[{}{}] {}/{}", std::string(filled, '#'), std::string(bar - filled, '.'), done_, total_);
  const char* sep = "  ";
  for (const auto& [name, stage] : running_) {
    text += fmt::format("{}{}: {}", sep, name, stage);
    sep = ", ";
  }
  if (width_ > 1 && text.size() > static_cast<size_t>(width_ - 1)) text.resize(width_ - 1);
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressPrinter::operator()(const ProgressEvent& e) {
  switch (e.kind) {
    case ProgressEvent::Discovered:
      total_ += e.total;
      line(e.source.empty() ? "discovered " + e.text : e.source + ": discovered " + e.text);
      break;
    case ProgressEvent::Started: running_[label(e)] = "start"; break;
    case ProgressEvent::Stage: running_[label(e)] = e.text; break;
    case ProgressEvent::Finished:
      running_.erase(label(e));
      ++done_;
      line(label(e) + ": " + e.text);
      break;
  }
  if (style_ == Style::Bar) draw();
  else std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (drawn_) std::fputs("\r\033[K", out_);
  drawn_ = false;
  std::fflush(out_);
}

}  // namespace decant
