// snarkjs's JSON files: verification_key.json, proof.json and public.json. Field elements are
// decimal strings; G1 points are ["x", "y", "1"] and G2 points [["x.c0", "x.c1"],
// ["y.c0", "y.c1"], ["1", "0"]] (projective, z = 1; the point at infinity as snarkjs writes
// it). Parsers take untrusted text: anything malformed, a coordinate not below q, a point off
// its curve or (G2) outside the subgroup, a public input not below r, is Corruption.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proof/zk/groth16.h"

namespace rustorium::proof::zk {

// {"protocol": "groth16", "curve": "bn128", "nPublic", "vk_alpha_1", "vk_beta_2",
//  "vk_gamma_2", "vk_delta_2", "vk_alphabeta_12" (e(α, β), written, not read), "IC"}.
std::string VerifyingKeyToJson(const VerifyingKey& vk);
Result<VerifyingKey> VerifyingKeyFromJson(std::string_view json);

// {"pi_a", "pi_b", "pi_c", "protocol": "groth16", "curve": "bn128"}.
std::string ProofToJson(const Groth16Proof& proof);
Result<Groth16Proof> ProofFromJson(std::string_view json);

// ["x1", "x2", ...]: the public inputs in wire order.
std::string PublicInputsToJson(std::span<const Fr> inputs);
Result<std::vector<Fr>> PublicInputsFromJson(std::string_view json);

}  // namespace rustorium::proof::zk
