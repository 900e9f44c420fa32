// Implementation of the .eh_frame reader (see eh_frame.h): a walk over CIE
// and FDE records (the LSB "Exception Frame" format, DWARF CFI with GNU
// augmentations) that keeps only what locates each FDE's pc_begin.
#include "elf/eh_frame.h"

#include <map>
#include <string>

namespace decant {

namespace {

class EhFrame {
 public:
  EhFrame(const uint8_t* base, uint64_t size, uint64_t addr, bool absolute_ok)
      : base_(base), size_(size), addr_(addr), absolute_ok_(absolute_ok) {}

  std::vector<uint64_t> fde_starts() {
    std::vector<uint64_t> out;
    uint64_t o = 0;
    for (int guard = 0; guard < 4000000 && o + 8 <= size_; ++guard) {
      uint64_t len = u32(o);
      if (len == 0) break;
      if (len == 0xffffffffu) break;  // 64-bit DWARF: not produced for x86-64 .eh_frame
      uint64_t start = o, end = o + 4 + len;
      if (end > size_ || len < 4) break;
      uint64_t id_at = o + 4;
      uint32_t id = u32(id_at);
      uint64_t p = id_at + 4;
      if (id == 0) {  // CIE
        uint8_t enc = 0;
        if (p >= end) break;
        if (cie_encoding(p, end, enc)) cie_encoding_[start] = enc;
      } else if (id <= id_at) {  // FDE: id is the distance back to its CIE
        auto cie = cie_encoding_.find(id_at - id);
        uint64_t pc = 0;
        if (cie != cie_encoding_.end() && cie->second != 0xff && pointer(p, end, cie->second, &pc) && pc)
          out.push_back(pc);
      }
      o = end;
    }
    return out;
  }

 private:
  uint32_t u32(uint64_t o) const {
    uint32_t x = 0;
    for (int k = 3; k >= 0; --k) x = (x << 8) | base_[o + k];
    return x;
  }

  bool uleb(uint64_t& o, uint64_t end) const {
    for (int shift = 0; o < end && shift < 64; shift += 7)
      if (!(base_[o++] & 0x80)) return true;
    return false;
  }

  // Reads a pointer with `enc` at offset o (advancing it); false if the
  // encoding is not one this resolves to an address.
  bool pointer(uint64_t& o, uint64_t end, uint8_t enc, uint64_t* out) const {
    uint64_t field = addr_ + o;
    int64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00:
      case 0x04:
      case 0x0c:
        if (o + 8 > end) return false;
        for (int k = 7; k >= 0; --k) v = (v << 8) | base_[o + k];
        o += 8;
        break;
      case 0x03:
        if (o + 4 > end) return false;
        v = u32(o);
        o += 4;
        break;
      case 0x0b:
        if (o + 4 > end) return false;
        v = static_cast<int32_t>(u32(o));
        o += 4;
        break;
      default:
        return false;
    }
    if ((enc & 0x70) == 0x10) v += static_cast<int64_t>(field);
    else if ((enc & 0x70) != 0 || !absolute_ok_) return false;  // absolute values need relocating in a DSO
    if (enc & 0x80) return false;                                // indirect
    *out = static_cast<uint64_t>(v);
    return true;
  }

  // The FDE pointer encoding a CIE body starting at p declares
  // (DW_EH_PE_absptr unless its 'R' augmentation says otherwise); false for
  // a CIE this does not understand.
  bool cie_encoding(uint64_t p, uint64_t end, uint8_t& enc) const {
    uint8_t version = base_[p++];
    std::string aug;
    while (p < end && base_[p]) aug += static_cast<char>(base_[p++]);
    ++p;
    bool ok = p < end && aug.find("eh") == std::string::npos && uleb(p, end) && uleb(p, end);  // alignment factors
    if (ok) {
      if (version == 1) ++p;  // return address register
      else ok = uleb(p, end);
    }
    if (ok && !aug.empty() && aug[0] == 'z') {
      ok = uleb(p, end);
      for (size_t k = 1; ok && k < aug.size(); ++k) {
        if (p >= end) ok = false;
        else if (aug[k] == 'R') enc = base_[p++];
        else if (aug[k] == 'L') ++p;
        else if (aug[k] == 'P') {  // personality pointer: skipped, by its size
          uint8_t f = base_[p++] & 0x0f;
          if (f == 0x00 || f == 0x04 || f == 0x0c) p += 8;
          else if (f == 0x03 || f == 0x0b) p += 4;
          else if (f == 0x02 || f == 0x0a) p += 2;
          else ok = false;
        } else if (aug[k] != 'S' && aug[k] != 'B') {
          ok = false;
        }
      }
    }
    return ok;
  }

  const uint8_t* base_;
  uint64_t size_, addr_;
  bool absolute_ok_;
  std::map<uint64_t, uint8_t> cie_encoding_;  // CIE offset -> FDE pointer encoding
};

}  // namespace

std::vector<uint64_t> eh_frame_fde_starts(const uint8_t* data, uint64_t size, uint64_t addr, bool absolute_ok) {
  if (!data || size < 8) return {};
  return EhFrame(data, size, addr, absolute_ok).fde_starts();
}

}  // namespace decant
