// Pass 1 of code analysis: one summary per object of the closure, from the
// cache (keyed by the file's sha256) or freshly built, objects in parallel.
// On a miss the summary is built from the bytes read_elf() already read.
#include <atomic>
#include <thread>

#include "analyzer/code/closure_analysis.h"
#include "analyzer/code/code_cache.h"
#include "analyzer/code/summarize.h"

namespace decant {

// Summaries for objects [from, end): cache or fresh, in parallel.
void ClosureAnalysis::summarize(size_t from) {
  size_t n = closure_.objects.size();
  summaries_.resize(n);
  std::atomic<size_t> next{from};
  std::atomic<size_t> hits{0};
  std::atomic<uint64_t> insns{0}, bytes{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      const LoadedObject& obj = closure_.objects[i];
      const std::string& sha = obj.elf->sha256;  // hashed when the closure read it
      if (o_.use_cache) {
        if (auto cached = load_cached_summary(cache_root_, sha)) {
          summaries_[i] = std::move(*cached);
          ++hits;
          continue;
        }
      }
      // The bytes read_elf() read for the closure: the file is not read again.
      auto view = obj.elf->bytes ? parse_code_view(obj.elf->bytes, obj.canonical_path)
                                 : read_code_view(root_.host_path(obj.canonical_path), obj.canonical_path);
      ObjectSummary s;
      if (!view) s.error = view.error().message;
      else s = summarize_object(*view);
      s.sha256 = sha;
      insns += s.instructions;
      bytes += s.code_bytes;
      if (o_.use_cache) store_cached_summary(cache_root_, s);
      summaries_[i] = std::move(s);
    }
  };
  unsigned threads = o_.threads ? o_.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(n - from));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  cache_hits_ += hits;
  disassembled_ += insns;
  code_bytes_ += bytes;
}
}  // namespace decant
