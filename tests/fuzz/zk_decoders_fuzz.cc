// Decoders of snarkjs files and JSON that arrive from users or other tools: .r1cs, .wtns,
// .zkey, verification_key.json, proof.json, public.json. None may crash or throw; what
// decodes must survive a re-encode unchanged, and verifying a decoded proof must not crash.
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "proof/zk/gadgets.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "tests/fuzz/fuzz_driver.h"

namespace zk = rustorium::proof::zk;
using rustorium::proof::Fr;

namespace {

// A four-constraint circuit with two public inputs, its key (fixed seed) and a proof.
struct Fixture {
  zk::ConstraintSystem cs;
  zk::R1cs r1cs;
  zk::ProvingKey key;
  zk::Groth16Proof proof;

  Fixture() {
    const zk::LC out = zk::LC::Of(cs.AllocatePublic(Fr::FromUint64(35)));
    const zk::LC y = zk::LC::Of(cs.AllocatePublic(Fr::FromUint64(2)));
    const zk::LC x = zk::LC::Of(cs.Allocate(Fr::FromUint64(3)));
    const zk::LC x3 = cs.Multiply(cs.Multiply(x, x), x);
    zk::EnforceEqual(cs, x3 + cs.Multiply(x, y) + Fr::FromUint64(2), out);
    r1cs = cs.ToR1cs();
    auto rng = std::make_shared<std::mt19937_64>(1);
    zk::Groth16Options options{1, [rng] {
                                 return Fr::FromLimbsReduced({(*rng)(), (*rng)(), (*rng)(), 0});
                               }};
    key = *zk::DevSetup(r1cs, options);
    proof = *zk::Prove(key, cs.Witness(), options);
  }
};

const Fixture& F() {
  static const Fixture* f = new Fixture();
  return *f;
}

}  // namespace

std::vector<std::string> FuzzSeeds() {
  const Fixture& f = F();
  return {zk::EncodeR1cs(f.r1cs),   zk::EncodeWtns(f.cs.Witness()),
          zk::EncodeZkey(f.key),    zk::VerifyingKeyToJson(f.key.verifying_key()),
          zk::ProofToJson(f.proof), zk::PublicInputsToJson(f.cs.PublicInputs())};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Fixture& f = F();

  if (auto r = zk::DecodeR1cs(input); r.ok()) {
    auto again = zk::DecodeR1cs(zk::EncodeR1cs(*r));
    FUZZ_CHECK(again.ok() && again->num_wires == r->num_wires && again->a.wires == r->a.wires &&
               again->c.coefficients == r->c.coefficients);
    r->CheckSatisfied(f.cs.Witness()).IgnoreError();  // any outcome, no crash
  } else {
    FUZZ_CHECK(r.status().IsCorruption());
  }

  if (auto w = zk::DecodeWtns(input); w.ok()) {
    auto again = zk::DecodeWtns(zk::EncodeWtns(*w));
    FUZZ_CHECK(again.ok() && *again == *w);
  } else {
    FUZZ_CHECK(w.status().IsCorruption());
  }

  if (auto k = zk::DecodeZkey(input); k.ok()) {
    auto again = zk::DecodeZkey(zk::EncodeZkey(*k));
    FUZZ_CHECK(again.ok() && again->a == k->a && again->h == k->h);
    if (k->num_wires == f.key.num_wires) {
      zk::Prove(*k, f.cs.Witness(), {1, [] { return Fr::FromUint64(7); }}).status().IgnoreError();
    }
  } else {
    FUZZ_CHECK(k.status().IsCorruption());
  }

  if (auto vk = zk::VerifyingKeyFromJson(input); vk.ok()) {
    auto again = zk::VerifyingKeyFromJson(zk::VerifyingKeyToJson(*vk));
    FUZZ_CHECK(again.ok() && again->ic == vk->ic && again->beta2 == vk->beta2);
    zk::Verify(*vk, f.cs.PublicInputs(), f.proof).IgnoreError();  // no crash
  } else {
    FUZZ_CHECK(vk.status().IsCorruption());
  }

  if (auto p = zk::ProofFromJson(input); p.ok()) {
    auto again = zk::ProofFromJson(zk::ProofToJson(*p));
    FUZZ_CHECK(again.ok() && *again == *p);
    zk::Verify(f.key.verifying_key(), f.cs.PublicInputs(), *p).IgnoreError();  // no crash
  } else {
    FUZZ_CHECK(p.status().IsCorruption());
  }

  if (auto pub = zk::PublicInputsFromJson(input); pub.ok()) {
    auto again = zk::PublicInputsFromJson(zk::PublicInputsToJson(*pub));
    FUZZ_CHECK(again.ok() && *again == *pub);
    zk::Verify(f.key.verifying_key(), *pub, f.proof).IgnoreError();  // wrong counts included
  } else {
    FUZZ_CHECK(pub.status().IsCorruption());
  }
  return 0;
}
