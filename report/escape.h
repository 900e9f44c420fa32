// Turning text taken from a guest (file names, arguments, messages) into
// text a report can show. Profiles keep bytes exactly, so a string may hold
// bytes that are not UTF-8 or control characters; every writer first makes
// it displayable, then escapes it for its format. Nothing from a guest
// reaches report.html, report.md or findings.sarif without passing here.
#pragma once

#include <string>
#include <string_view>

namespace decant {

// Valid UTF-8 kept; each byte that is not part of a UTF-8 character, and
// each control character but tab, written as the visible escape \xNN (so a
// Latin-1 "caf\xe9" reads as such and a NUL or ESC cannot reach a terminal
// or a JSON reader raw). Line breaks become \x0a too: one fact, one line.
std::string displayable(std::string_view s);

// displayable(), then &, <, >, " and ' as HTML character references: safe in
// element content and in double- or single-quoted attribute values.
std::string html_escape(std::string_view s);

// displayable(), then a backslash before every character that opens inline
// Markdown syntax (\ ` * _ [ ] < > | ! ~ & $), so a guest string never opens
// a link, a table cell, emphasis, code or raw HTML. Writers never begin a
// line with guest text, so line-start markers need no escape.
std::string md_escape(std::string_view s);

// A human size: 1536 -> "1.5 KiB".
std::string human_size(unsigned long long bytes);

}  // namespace decant
