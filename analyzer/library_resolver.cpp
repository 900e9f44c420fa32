// Implementation of the ld.so-faithful closure (see library_resolver.h). The
// search order mirrors glibc's _dl_map_object in elf/dl-load.c.
#include "analyzer/library_resolver.h"

#include <algorithm>
#include <deque>
#include <elf.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace decant {

Result<std::shared_ptr<const ElfInfo>> ElfCache::get(const GuestRoot& root, const std::string& canonical) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(canonical);
    if (it != entries_.end()) return it->second;
  }
  Result<std::shared_ptr<const ElfInfo>> result = bad_input("unreachable");
  auto info = read_elf(root.host_path(canonical), canonical, mode_);
  if (info) result = std::shared_ptr<const ElfInfo>(std::make_shared<ElfInfo>(std::move(*info)));
  else result = info.error();
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.emplace(canonical, result).first->second;
}

// Looks key up in map, or computes it unlocked (two threads may both compute
// it; the first stored wins, and both values are equal).
template <typename Map, typename Compute>
typename Map::mapped_type remembered(std::mutex& mutex, Map& map, const std::string& key, Compute compute) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = map.find(key);
    if (it != map.end()) return it->second;
  }
  auto value = compute();
  std::lock_guard<std::mutex> lock(mutex);
  return map.emplace(key, std::move(value)).first->second;
}

Result<std::string> ElfCache::resolve(const GuestRoot& root, const std::string& guest_path) {
  return remembered(mutex_, resolved_, guest_path, [&] { return root.resolve(guest_path); });
}

Result<ElfIdent> ElfCache::ident(const GuestRoot& root, const std::string& canonical) {
  return remembered(mutex_, idents_, canonical, [&] { return read_elf_ident(root.host_path(canonical), canonical); });
}

LoaderConfig ElfCache::loader_config(const GuestRoot& root, const std::string& interpreter, bool is64,
                                     uint16_t machine) {
  std::string key = fmt::format("{}\n{}\n{}", interpreter, is64, machine);
  return remembered(mutex_, loaders_, key, [&] { return load_loader_config(root, interpreter, is64, machine); });
}

OsInfo ElfCache::os(const GuestRoot& root) {
  return remembered(mutex_, os_, "", [&] { return detect_os(root); });
}

LibcInfo ElfCache::libc(const GuestRoot& root, const std::string& libc_guest_path) {
  return remembered(mutex_, libcs_, libc_guest_path, [&] { return detect_libc(root, libc_guest_path); });
}

std::string expand_dst(const std::string& s, const std::string& origin, const LoaderConfig& cfg) {
  if (s.find('$') == std::string::npos) return s;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '$') {
      out.push_back(s[i++]);
      continue;
    }
    auto try_token = [&](const std::string& name, const std::string& value) {
      std::string plain = "$" + name, braced = "${" + name + "}";
      if (s.compare(i, braced.size(), braced) == 0) {
        out += value;
        i += braced.size();
        return true;
      }
      // The plain form must end at a non-identifier character.
      if (s.compare(i, plain.size(), plain) == 0) {
        size_t end = i + plain.size();
        if (end == s.size() || !(isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) {
          out += value;
          i = end;
          return true;
        }
      }
      return false;
    };
    if (try_token("ORIGIN", origin) || try_token("LIB", cfg.lib_dst) || try_token("PLATFORM", cfg.platform)) continue;
    out.push_back(s[i++]);
  }
  return out;
}

namespace {

class Resolver {
 public:
  Resolver(const GuestRoot& root, ElfCache& cache, Closure& out) : root_(root), cache_(cache), out_(out) {}

  void run(const std::string& main_canonical, const std::string& main_display, std::shared_ptr<const ElfInfo> main) {
    main_ = main;
    out_.loader = cache_.loader_config(root_, main->interpreter, main->ident.is64, main->ident.machine);
    LoadedObject m;
    m.found_path = main_canonical;
    m.canonical_path = main_canonical;
    m.elf = main;
    m.found_via = "main";
    main_display_ = main_display;
    out_.objects.push_back(m);

    if (!main->interpreter.empty()) preload_interpreter(main->interpreter);

    // Breadth-first, like _dl_map_object_deps: the queue is the load order.
    for (size_t i = 0; i < out_.objects.size(); ++i) {
      std::shared_ptr<const ElfInfo> elf = out_.objects[i].elf;
      for (const std::string& needed : elf->needed) {
        if (needed.empty()) continue;
        load_needed(static_cast<int>(i), needed);
      }
    }
    // The interpreter is always mapped; if nothing named it, ld.so lists it last.
    if (interp_pending_) place_interpreter();
  }

 private:
  std::string display(int index) const {
    return index == 0 ? main_display_ : out_.objects[index].canonical_path;
  }

  void preload_interpreter(const std::string& interp) {
    auto canonical = cache_.resolve(root_, interp);
    if (!canonical) {
      out_.missing.push_back({interp, {main_display_}, "interpreter not found in the guest"});
      return;
    }
    auto elf = cache_.get(root_, *canonical);
    if (!elf) {
      out_.missing.push_back({interp, {main_display_}, elf.error().message});
      return;
    }
    LoadedObject o;
    o.found_path = interp;
    o.canonical_path = *canonical;
    o.elf = *elf;
    o.names = {interp};
    if (!(*elf)->soname.empty()) o.names.push_back((*elf)->soname);
    o.loader = 0;
    o.found_via = "interpreter";
    o.needed_by = {main_display_};  // PT_INTERP of the main program
    // rtld re-inserts its own map where it is first needed in the
    // breadth-first order, so it is placed when a DT_NEEDED names it.
    interp_ = o;
    interp_pending_ = true;
  }

  int place_interpreter() {
    interp_pending_ = false;
    out_.objects.push_back(interp_);
    return static_cast<int>(out_.objects.size()) - 1;
  }

  bool interpreter_answers(const std::string& name) const {
    return interp_pending_ &&
           (std::find(interp_.names.begin(), interp_.names.end(), name) != interp_.names.end() ||
            interp_.elf->soname == name);
  }

  int find_loaded(const std::string& name) const {
    for (size_t i = 1; i < out_.objects.size(); ++i) {
      const auto& o = out_.objects[i];
      if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) return static_cast<int>(i);
      if (o.found_path == name) return static_cast<int>(i);
    }
    return -1;
  }

  void note_needed_by(int index, int by) {
    auto& nb = out_.objects[index].needed_by;
    std::string who = display(by);
    if (std::find(nb.begin(), nb.end(), who) == nb.end()) nb.push_back(who);
  }

  std::string origin_of(int index) const {
    const auto& o = out_.objects[index];
    // The main program's origin comes from /proc/self/exe (canonical); a
    // library's from the path it was opened by.
    return path_dirname(index == 0 ? o.canonical_path : o.found_path);
  }

  // ld.so's open_verify: the candidate must be an ELF of the same class and
  // machine with a Linux-compatible OS ABI, or the search goes on.
  bool acceptable(const std::string& canonical) const {
    auto ident = cache_.ident(root_, canonical);
    if (!ident) return false;
    return ident->is64 == main_->ident.is64 && ident->machine == main_->ident.machine &&
           (ident->osabi == ELFOSABI_SYSV || ident->osabi == ELFOSABI_GNU) && ident->type == ET_DYN;
  }

  // Returns the canonical path when dir/name is a usable candidate.
  bool try_candidate(const std::string& dir, const std::string& name, std::string& found, std::string& canonical) {
    std::string path = dir.empty() ? name : (dir.back() == '/' ? dir + name : dir + "/" + name);
    if (path[0] != '/') path = "/" + path;  // relative entries are relative to cwd, "/" in a container
    auto c = cache_.resolve(root_, path);
    if (!c || !acceptable(*c)) return false;  // acceptable() also rejects non-regular files
    found = path;
    canonical = *c;
    return true;
  }

  bool search_dirs(const std::vector<std::string>& dirs, const std::string& name, std::string& found,
                   std::string& canonical, std::string& dir_used) {
    for (const auto& d : dirs) {
      if (try_candidate(d, name, found, canonical)) {
        dir_used = d;
        return true;
      }
    }
    return false;
  }

  std::vector<std::string> expanded(const std::vector<std::string>& dirs, int index) const {
    std::vector<std::string> out;
    for (const auto& d : dirs) out.push_back(expand_dst(d, origin_of(index), out_.loader));
    return out;
  }

  bool in_system_dirs(const std::string& dir) const {
    return std::find(out_.loader.system_dirs.begin(), out_.loader.system_dirs.end(), dir) !=
           out_.loader.system_dirs.end();
  }

  void load_needed(int loader, const std::string& raw_name) {
    std::string name = expand_dst(raw_name, origin_of(loader), out_.loader);
    if (interpreter_answers(name)) {
      int index = place_interpreter();
      if (std::find(interp_.names.begin(), interp_.names.end(), name) == interp_.names.end())
        out_.objects[index].names.push_back(name);
      note_needed_by(index, loader);
      return;
    }
    int existing = find_loaded(name);
    if (existing < 0) {
      // A loaded object also answers to its DT_SONAME (_dl_map_object's loop).
      for (size_t i = 1; i < out_.objects.size(); ++i)
        if (out_.objects[i].elf->soname == name) {
          existing = static_cast<int>(i);
          out_.objects[i].names.push_back(name);
          break;
        }
    }
    if (existing >= 0) {
      note_needed_by(existing, loader);
      return;
    }
    for (auto& m : out_.missing)
      if (m.name == name) {
        if (std::find(m.needed_by.begin(), m.needed_by.end(), display(loader)) == m.needed_by.end())
          m.needed_by.push_back(display(loader));
        return;
      }

    std::string found, canonical, dir, via;
    const LoadedObject& l = out_.objects[loader];
    bool ok = false;
    if (name.find('/') != std::string::npos) {
      ok = try_candidate("", name, found, canonical);
      via = "path";
    } else {
      if (!l.elf->has_runpath_tag) {
        // RPATH of the loader, then of the object that loaded it, up to main.
        bool did_main = false;
        for (int i = loader; i >= 0 && !ok; i = out_.objects[i].loader) {
          if (!out_.objects[i].elf->has_rpath_tag) continue;
          ok = search_dirs(expanded(out_.objects[i].elf->rpath, i), name, found, canonical, dir);
          did_main |= i == 0;
          if (i == 0) break;
        }
        if (!ok && !did_main && main_->has_rpath_tag)
          ok = search_dirs(expanded(main_->rpath, 0), name, found, canonical, dir);
        if (ok) via = "rpath";
      }
      if (!ok && l.elf->has_runpath_tag) {
        ok = search_dirs(expanded(l.elf->runpath, loader), name, found, canonical, dir);
        if (ok) via = "runpath";
      }
      // ld.so.cache is built from ld.so.conf; with DF_1_NODEFLIB, hits in
      // the system directories are ignored.
      if (!ok) {
        for (const auto& d : out_.loader.ld_so_conf_dirs) {
          if (l.elf->nodeflib && in_system_dirs(d)) continue;
          if (try_candidate(d, name, found, canonical)) {
            ok = true;
            dir = d;
            via = "ld.so.conf";
            break;
          }
        }
      }
      if (!ok && !l.elf->nodeflib) {
        ok = search_dirs(out_.loader.system_dirs, name, found, canonical, dir);
        if (ok) via = "default";
      }
    }
    if (!ok) {
      out_.missing.push_back({name, {display(loader)}, "not found in any search directory"});
      return;
    }
    // ld.so also recognizes an already-loaded file by its identity.
    if (interp_pending_ && interp_.canonical_path == canonical) {
      int index = place_interpreter();
      out_.objects[index].names.push_back(name);
      note_needed_by(index, loader);
      return;
    }
    for (size_t i = 1; i < out_.objects.size(); ++i)
      if (out_.objects[i].canonical_path == canonical) {
        out_.objects[i].names.push_back(name);
        note_needed_by(static_cast<int>(i), loader);
        return;
      }
    auto elf = cache_.get(root_, canonical);
    if (!elf) {
      out_.missing.push_back({name, {display(loader)}, elf.error().message});
      return;
    }
    LoadedObject o;
    o.found_path = found;
    o.canonical_path = canonical;
    o.elf = *elf;
    o.names = {name};
    if (!(*elf)->soname.empty() && (*elf)->soname != name) o.names.push_back((*elf)->soname);
    o.loader = loader;
    o.found_via = via;
    o.search_dir = dir;
    o.needed_by = {display(loader)};
    out_.objects.push_back(std::move(o));
  }

  const GuestRoot& root_;
  ElfCache& cache_;
  Closure& out_;
  std::shared_ptr<const ElfInfo> main_;
  std::string main_display_;
  LoadedObject interp_;
  bool interp_pending_ = false;
};

}  // namespace

Closure resolve_closure(const GuestRoot& root, const std::string& main_canonical, const std::string& main_display,
                        std::shared_ptr<const ElfInfo> main, ElfCache& cache) {
  Closure out;
  Resolver(root, cache, out).run(main_canonical, main_display, std::move(main));
  return out;
}

}  // namespace decant
