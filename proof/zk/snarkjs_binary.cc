#include "proof/zk/snarkjs_binary.h"

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "proof/curve/fq.h"

namespace rustorium::proof::zk {
namespace {

constexpr uint32_t kN8 = 32;

class Writer {
 public:
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void Raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  template <std::size_t N>
  void Bytes(const std::array<uint8_t, N>& b) {
    Raw(b.data(), N);
  }
  void Modulus(const Limbs& m) {
    U32(kN8);
    for (uint64_t limb : m) U64(limb);
  }
  // Opens a section; its length is patched by EndSection.
  void BeginSection(uint32_t type) {
    U32(type);
    length_at_ = out_.size();
    U64(0);
  }
  void EndSection() {
    const uint64_t length = out_.size() - length_at_ - 8;
    std::memcpy(out_.data() + length_at_, &length, 8);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::size_t length_at_ = 0;
};

// Header and magic of a container.
void BeginFile(Writer& w, const char magic[4], uint32_t version, uint32_t sections) {
  w.Raw(magic, 4);
  w.U32(version);
  w.U32(sections);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool U32(uint32_t& v) { return Raw(&v, 4); }
  bool U64(uint64_t& v) { return Raw(&v, 8); }
  bool Raw(void* p, std::size_t n) {
    if (bytes_.size() - pos_ < n) return false;
    std::memcpy(p, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Span(std::size_t n, std::span<const uint8_t>& out) {
    if (bytes_.size() - pos_ < n) return false;
    out = {reinterpret_cast<const uint8_t*>(bytes_.data()) + pos_, n};
    pos_ += n;
    return true;
  }
  bool Done() const { return pos_ == bytes_.size(); }
  std::size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

Status Bad(const char* file, const std::string& why) {
  return Status::Corruption(std::string(file) + ": " + why);
}

// The sections of a container, by type (a type given twice is refused).
Result<std::map<uint32_t, std::string_view>> ReadSections(std::string_view bytes,
                                                          const char magic[4], uint32_t max_version,
                                                          const char* file) {
  Reader r(bytes);
  char m[4];
  uint32_t version, count;
  if (!r.Raw(m, 4) || std::memcmp(m, magic, 4) != 0) return Bad(file, "wrong magic");
  if (!r.U32(version) || version == 0 || version > max_version)
    return Bad(file, "unsupported version");
  if (!r.U32(count)) return Bad(file, "truncated header");
  std::map<uint32_t, std::string_view> sections;
  std::size_t offset = 12;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t type;
    uint64_t length;
    if (!r.U32(type) || !r.U64(length)) return Bad(file, "truncated section header");
    offset += 12;
    if (length > r.remaining()) return Bad(file, "section longer than the file");
    if (!sections.emplace(type, bytes.substr(offset, length)).second) {
      return Bad(file, "section " + std::to_string(type) + " given twice");
    }
    std::span<const uint8_t> skip;
    r.Span(length, skip);
    offset += length;
  }
  if (!r.Done()) return Bad(file, "bytes after the last section");
  return sections;
}

Result<std::string_view> Section(const std::map<uint32_t, std::string_view>& sections,
                                 uint32_t type, const char* file) {
  auto it = sections.find(type);
  if (it == sections.end()) return Bad(file, "missing section " + std::to_string(type));
  return it->second;
}

// Reads n8 and the modulus and checks they are 32 and `expected`.
bool ReadModulus(Reader& r, const Limbs& expected) {
  uint32_t n8;
  Limbs m;
  if (!r.U32(n8) || n8 != kN8) return false;
  for (uint64_t& limb : m) {
    if (!r.U64(limb)) return false;
  }
  return m == expected;
}

bool ReadFr(Reader& r, Fr& out) {
  std::span<const uint8_t> b;
  if (!r.Span(32, b)) return false;
  auto f = Fr::FromBytesLE(std::span<const uint8_t, 32>(b.data(), 32));
  if (!f.ok()) return false;
  out = *f;
  return true;
}

// R² mod r: snarkjs stores a coefficient c as c·R² so that one Montgomery product with a
// standard-form witness value gives c·w in Montgomery form.
const Fr& RSquared() {
  static const Fr r2 = Fr::FromUint64(2).Pow(512);
  return r2;
}
const Fr& RSquaredInverse() {
  static const Fr inv = RSquared().Inverse();
  return inv;
}

void PutG1(Writer& w, const G1Affine& p) { w.Bytes(EncodeG1Snarkjs(p)); }
void PutG2(Writer& w, const G2Affine& p) { w.Bytes(EncodeG2Snarkjs(p)); }

bool GetG1(Reader& r, G1Affine& out) {
  std::span<const uint8_t> b;
  if (!r.Span(64, b)) return false;
  auto p = DecodeG1Snarkjs(std::span<const uint8_t, 64>(b.data(), 64));
  if (!p.ok()) return false;
  out = *p;
  return true;
}
bool GetG2(Reader& r, G2Affine& out, SubgroupCheck check) {
  std::span<const uint8_t> b;
  if (!r.Span(128, b)) return false;
  auto p = DecodeG2Snarkjs(std::span<const uint8_t, 128>(b.data(), 128), check);
  if (!p.ok()) return false;
  out = *p;
  return true;
}

// A section of exactly `count` points.
template <typename Point, typename Get>
Status ReadPoints(std::string_view section, std::size_t count, std::size_t size, Get get,
                  std::vector<Point>& out, const char* what) {
  if (section.size() != count * size)
    return Bad("zkey", std::string(what) + " section has the wrong size");
  Reader r(section);
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!get(r, out[i])) return Bad("zkey", std::string("bad point in ") + what);
  }
  return Status::OK();
}

}  // namespace

std::string EncodeR1cs(const R1cs& r1cs) {
  Writer w;
  BeginFile(w, "r1cs", 1, 3);
  w.BeginSection(1);
  w.Modulus(Fr::kModulus);
  w.U32(r1cs.num_wires);
  w.U32(0);  // public outputs
  w.U32(r1cs.num_public);
  w.U32(0);  // private inputs: our private wires are all intermediate
  w.U64(r1cs.num_wires);
  w.U32(static_cast<uint32_t>(r1cs.num_constraints()));
  w.EndSection();
  w.BeginSection(2);
  for (std::size_t row = 0; row < r1cs.num_constraints(); ++row) {
    for (const SparseMatrix* m : {&r1cs.a, &r1cs.b, &r1cs.c}) {
      w.U32(static_cast<uint32_t>(m->row_start[row + 1] - m->row_start[row]));
      for (uint64_t k = m->row_start[row]; k < m->row_start[row + 1]; ++k) {
        w.U32(m->wires[k]);
        w.Bytes(m->coefficients[k].ToBytesLE());
      }
    }
  }
  w.EndSection();
  w.BeginSection(3);
  for (uint64_t i = 0; i < r1cs.num_wires; ++i) w.U64(i);
  w.EndSection();
  return w.Take();
}

Result<R1cs> DecodeR1cs(std::string_view bytes) {
  ASSIGN_OR_RETURN(auto sections, ReadSections(bytes, "r1cs", 1, "r1cs"));
  ASSIGN_OR_RETURN(std::string_view header, Section(sections, 1, "r1cs"));
  ASSIGN_OR_RETURN(std::string_view body, Section(sections, 2, "r1cs"));
  Reader h(header);
  uint32_t wires, outputs, inputs, private_inputs, constraints;
  uint64_t labels;
  if (!ReadModulus(h, Fr::kModulus)) return Bad("r1cs", "not over the BN254 scalar field");
  if (!h.U32(wires) || !h.U32(outputs) || !h.U32(inputs) || !h.U32(private_inputs) ||
      !h.U64(labels) || !h.U32(constraints) || !h.Done()) {
    return Bad("r1cs", "malformed header");
  }
  if (wires == 0 || uint64_t{outputs} + inputs + private_inputs >= wires) {
    return Bad("r1cs", "wire counts disagree");
  }
  // The wire-to-label map (8 bytes a wire) ties the wire count to the file's size: without it
  // a 100-byte header could claim 2^32 wires, and whatever is sized by them (a witness, the
  // file written back) would be 32 GiB.
  ASSIGN_OR_RETURN(std::string_view label_map, Section(sections, 3, "r1cs"));
  if (label_map.size() != uint64_t{wires} * 8) {
    return Bad("r1cs", "the wire label map does not hold one label per wire");
  }
  R1cs out;
  out.num_wires = wires;
  out.num_public = outputs + inputs;
  Reader r(body);
  std::vector<uint32_t> row_wires;
  std::vector<Fr> row_values;
  for (uint32_t c = 0; c < constraints; ++c) {
    for (SparseMatrix* m : {&out.a, &out.b, &out.c}) {
      uint32_t terms;
      if (!r.U32(terms) || terms > r.remaining() / 36) return Bad("r1cs", "truncated constraint");
      row_wires.resize(terms);
      row_values.resize(terms);
      for (uint32_t t = 0; t < terms; ++t) {
        if (!r.U32(row_wires[t]) || row_wires[t] >= wires) return Bad("r1cs", "wire out of range");
        if (!ReadFr(r, row_values[t])) return Bad("r1cs", "coefficient not below r");
      }
      m->AppendRow(row_wires, row_values);
    }
  }
  if (!r.Done()) return Bad("r1cs", "bytes after the constraints");
  return out;
}

std::string EncodeWtns(std::span<const Fr> witness) {
  Writer w;
  BeginFile(w, "wtns", 2, 2);
  w.BeginSection(1);
  w.Modulus(Fr::kModulus);
  w.U32(static_cast<uint32_t>(witness.size()));
  w.EndSection();
  w.BeginSection(2);
  for (const Fr& x : witness) w.Bytes(x.ToBytesLE());
  w.EndSection();
  return w.Take();
}

Result<std::vector<Fr>> DecodeWtns(std::string_view bytes) {
  ASSIGN_OR_RETURN(auto sections, ReadSections(bytes, "wtns", 2, "wtns"));
  ASSIGN_OR_RETURN(std::string_view header, Section(sections, 1, "wtns"));
  ASSIGN_OR_RETURN(std::string_view values, Section(sections, 2, "wtns"));
  Reader h(header);
  uint32_t count;
  if (!ReadModulus(h, Fr::kModulus) || !h.U32(count) || !h.Done()) {
    return Bad("wtns", "malformed header or not over the BN254 scalar field");
  }
  if (values.size() != uint64_t{count} * 32)
    return Bad("wtns", "value count disagrees with the header");
  std::vector<Fr> out(count);
  Reader r(values);
  for (Fr& x : out) {
    if (!ReadFr(r, x)) return Bad("wtns", "value not below r");
  }
  return out;
}

std::string EncodeZkey(const ProvingKey& key) {
  Writer w;
  BeginFile(w, "zkey", 1, 10);
  w.BeginSection(1);
  w.U32(1);  // Groth16
  w.EndSection();
  w.BeginSection(2);
  w.Modulus(Fq::kModulus);
  w.Modulus(Fr::kModulus);
  w.U32(key.num_wires);
  w.U32(key.num_public);
  w.U32(key.domain_size);
  PutG1(w, key.alpha1);
  PutG1(w, key.beta1);
  PutG2(w, key.beta2);
  PutG2(w, key.gamma2);
  PutG1(w, key.delta1);
  PutG2(w, key.delta2);
  w.EndSection();
  w.BeginSection(3);
  for (const G1Affine& p : key.ic) PutG1(w, p);
  w.EndSection();
  w.BeginSection(4);
  w.U32(static_cast<uint32_t>(key.coefficients.size()));
  for (const QapCoefficient& q : key.coefficients) {
    w.U32(q.matrix);
    w.U32(q.row);
    w.U32(q.wire);
    w.Bytes((q.value * RSquared()).ToBytesLE());
  }
  w.EndSection();
  for (auto [type, points] : {std::pair{5u, &key.a}, std::pair{6u, &key.b1}}) {
    w.BeginSection(type);
    for (const G1Affine& p : *points) PutG1(w, p);
    w.EndSection();
  }
  w.BeginSection(7);
  for (const G2Affine& p : key.b2) PutG2(w, p);
  w.EndSection();
  for (auto [type, points] : {std::pair{8u, &key.c}, std::pair{9u, &key.h}}) {
    w.BeginSection(type);
    for (const G1Affine& p : *points) PutG1(w, p);
    w.EndSection();
  }
  w.BeginSection(10);
  w.Bytes(std::array<uint8_t, 64>{});  // circuit hash: not computed for a development key
  w.U32(0);                            // contributions
  w.EndSection();
  return w.Take();
}

Result<ProvingKey> DecodeZkey(std::string_view bytes) {
  ASSIGN_OR_RETURN(auto sections, ReadSections(bytes, "zkey", 1, "zkey"));
  std::array<std::string_view, 10> s;
  for (uint32_t type = 1; type <= 9; ++type) {
    ASSIGN_OR_RETURN(s[type], Section(sections, type, "zkey"));
  }
  Reader protocol(s[1]);
  uint32_t id;
  if (!protocol.U32(id) || id != 1 || !protocol.Done()) return Bad("zkey", "not a Groth16 key");
  ProvingKey key;
  Reader h(s[2]);
  if (!ReadModulus(h, Fq::kModulus) || !ReadModulus(h, Fr::kModulus)) {
    return Bad("zkey", "not a BN254 key");
  }
  if (!h.U32(key.num_wires) || !h.U32(key.num_public) || !h.U32(key.domain_size) ||
      !GetG1(h, key.alpha1) || !GetG1(h, key.beta1) ||
      !GetG2(h, key.beta2, SubgroupCheck::kCheck) || !GetG2(h, key.gamma2, SubgroupCheck::kCheck) ||
      !GetG1(h, key.delta1) || !GetG2(h, key.delta2, SubgroupCheck::kCheck) || !h.Done()) {
    return Bad("zkey", "malformed Groth16 header");
  }
  if (key.num_wires <= key.num_public || key.domain_size == 0 ||
      (key.domain_size & (key.domain_size - 1)) != 0 || key.domain_size > (1u << 27)) {
    return Bad("zkey", "header sizes are inconsistent");
  }
  auto g1 = [](Reader& r, G1Affine& p) { return GetG1(r, p); };
  auto g2 = [](Reader& r, G2Affine& p) { return GetG2(r, p, SubgroupCheck::kSkip); };
  RETURN_IF_ERROR(ReadPoints(s[3], key.num_public + 1u, 64, g1, key.ic, "IC"));
  RETURN_IF_ERROR(ReadPoints(s[5], key.num_wires, 64, g1, key.a, "A"));
  RETURN_IF_ERROR(ReadPoints(s[6], key.num_wires, 64, g1, key.b1, "B1"));
  RETURN_IF_ERROR(ReadPoints(s[7], key.num_wires, 128, g2, key.b2, "B2"));
  RETURN_IF_ERROR(ReadPoints(s[8], key.num_wires - key.num_public - 1u, 64, g1, key.c, "C"));
  RETURN_IF_ERROR(ReadPoints(s[9], key.domain_size, 64, g1, key.h, "H"));
  Reader c(s[4]);
  uint32_t count;
  if (!c.U32(count) || c.remaining() != uint64_t{count} * 44) {
    return Bad("zkey", "coefficient count disagrees with the section");
  }
  key.coefficients.resize(count);
  for (QapCoefficient& q : key.coefficients) {
    Fr stored;
    if (!c.U32(q.matrix) || !c.U32(q.row) || !c.U32(q.wire) || !ReadFr(c, stored)) {
      return Bad("zkey", "malformed coefficient");
    }
    q.value = stored * RSquaredInverse();
  }
  Status shape = key.CheckShape();
  if (!shape.ok()) return Bad("zkey", shape.message());
  return key;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Status::IOError("error reading " + path);
  return contents.str();
}

Status WriteWholeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IOError("cannot write " + path);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status::IOError("error writing " + path);
  return Status::OK();
}

}  // namespace rustorium::proof::zk
