// The report writers' file handling (see write.h).
#include "report/write.h"

#include <sys/stat.h>

#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/host_paths.h"
#include "report/render.h"

namespace decant {
namespace {

int64_t report_time(int64_t given) {
  if (given >= 0) return given;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    if (end != sde && *end == '\0' && v >= 0) return v;
  }
  return static_cast<int64_t>(std::time(nullptr));
}

// FILE.html -> FILE.md: the extension after the last '.' of the file name.
std::string with_extension(const std::string& path, const std::string& ext) {
  std::string base = path_basename(path);
  size_t dot = base.rfind('.');
  std::string stem = dot == std::string::npos || dot == 0 ? path : path.substr(0, path.size() - (base.size() - dot));
  return stem + ext;
}

}  // namespace

Result<ReportFiles> report_files(const std::vector<std::string>& outdirs, const ReportOptions& o) {
  if (outdirs.empty()) return bad_input("report: no OUTDIR given");
  if (o.output.empty()) {
    if (outdirs.size() > 1) return bad_input("report: several OUTDIRs merge into one report: give -o FILE.html");
    const std::string& d = outdirs.front();
    return ReportFiles{d + "/report.html", d + "/report.md", d + "/findings.sarif"};
  }
  struct stat st;
  if (o.output.back() == '/' || (::stat(o.output.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
    return bad_input(fmt::format("{}: is a directory; -o names the HTML file (FILE.html)", o.output));
  ReportFiles f{o.output, with_extension(o.output, ".md"), with_extension(o.output, ".sarif")};
  if (f.markdown == f.html) f.markdown = o.output + ".md";
  if (f.sarif == f.html) f.sarif = o.output + ".sarif";
  return f;
}

namespace {

Result<Fleet> write_report_files(const std::vector<std::string>& outdirs, const ReportFiles& files,
                                 const ReportOptions& o) {
  LoadOptions lo;
  lo.now = report_time(o.now);
  lo.measure_guest = o.measure_guest;
  auto fleet = load_fleet(outdirs, lo);
  if (!fleet) return fleet.error();
  std::string dir = path_dirname(files.html).empty() ? "." : path_dirname(files.html);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return bad_input(fmt::format("{}: no such directory for the report", dir));
  for (auto& vm : fleet->vms) vm.outdir_shown = relative_path(vm.outdir, dir);
  std::string html = render_html(*fleet, dir), md = render_markdown(*fleet, dir), sarif = render_sarif(*fleet);
  for (const auto& [path, text] : {std::pair{files.html, &html}, {files.markdown, &md}, {files.sarif, &sarif}})
    if (Status s = write_file_atomic(path, *text, Overwrite::Replace); !s) return s.error();
  return fleet;
}

}  // namespace

Result<Fleet> write_reports(const std::vector<std::string>& outdirs, const ReportOptions& o) {
  auto files = report_files(outdirs, o);
  if (!files) return files.error();
  return write_report_files(outdirs, *files, o);
}

Status write_convert_reports(const std::string& output, const std::vector<std::string>& outdirs) {
  for (const auto& d : outdirs)
    if (auto r = write_reports({d}, ReportOptions{}); !r) return r.error();
  if (outdirs.size() > 1) {  // the fleet's files take the names one OUTDIR's have
    ReportFiles files{output + "/report.html", output + "/report.md", output + "/findings.sarif"};
    if (auto r = write_report_files(outdirs, files, ReportOptions{}); !r) return r.error();
  }
  return Status();
}

}  // namespace decant
