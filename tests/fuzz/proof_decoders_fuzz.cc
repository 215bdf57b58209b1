// Decoders of proofs and field elements that arrive from the network or files: iden3's
// binary and JSON proof forms, and field-element text and bytes. None may crash; what decodes
// must re-encode canonically, and verifying any decoded proof must not crash.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "proof/field/fr.h"
#include "proof/smt/proof.h"
#include "tests/fuzz/fuzz_driver.h"

using rustorium::proof::Fr;
using rustorium::proof::NodeAux;
using rustorium::proof::SmtProof;

std::vector<std::string> FuzzSeeds() {
  SmtProof in;
  in.existence = true;
  in.siblings = {Fr::FromUint64(7), Fr(), Fr::FromUint64(9)};
  SmtProof out;
  out.siblings = {Fr::FromUint64(3)};
  out.node_aux = NodeAux{Fr::FromUint64(1), Fr::FromUint64(2)};
  return {in.EncodeBinary(),
          out.EncodeBinary(),
          in.ToJson(),
          out.ToJson(),
          "21888242871839275222246405745257275088548364400416034343698204186575808495616",
          "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Fr key = Fr::FromUint64(5);

  auto bin = SmtProof::DecodeBinary(input);
  if (bin.ok()) {
    FUZZ_CHECK(bin->EncodeBinary() == input);  // the binary form is canonical
    rustorium::proof::VerifyProof(Fr::One(), key, std::nullopt, *bin).IgnoreError();  // no crash
  } else {
    FUZZ_CHECK(bin.status().IsCorruption());
  }

  auto json = SmtProof::FromJson(input);
  if (json.ok()) {
    auto again = SmtProof::FromJson(json->ToJson());
    FUZZ_CHECK(again.ok() && *again == *json);
    rustorium::proof::VerifyProof(Fr::One(), key, Fr::One(), *json).IgnoreError();  // no crash
  } else {
    FUZZ_CHECK(json.status().IsCorruption());
  }

  auto f = Fr::Parse(input);
  if (f.ok()) {
    FUZZ_CHECK(Fr::Parse(f->ToDecimal()).ok() && *Fr::Parse(f->ToDecimal()) == *f);
    FUZZ_CHECK(*Fr::Parse(f->ToHex()) == *f);
  } else {
    FUZZ_CHECK(f.status().IsInvalidArgument());
  }
  if (size >= 32) {
    auto le = Fr::FromBytesLE(std::span<const uint8_t, 32>(data, 32));
    if (le.ok()) {
      std::array<uint8_t, 32> raw;
      std::copy(data, data + 32, raw.begin());
      FUZZ_CHECK((le->ToBytesLE() == raw));
    }
  }
  return 0;
}
