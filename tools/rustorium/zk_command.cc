#include "tools/rustorium/zk_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "proof/zk/batch_circuit.h"
#include "proof/zk/groth16.h"
#include "proof/zk/snarkjs_binary.h"
#include "proof/zk/snarkjs_json.h"
#include "proof/zk/update_list.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/pair_file.h"

namespace rustorium::tools {
namespace {

using proof::Fr;
namespace zk = proof::zk;

// File names inside a keys directory.
constexpr const char* kZkeyFile = "circuit.zkey";
constexpr const char* kVkFile = "verification_key.json";
constexpr const char* kR1csFile = "circuit.r1cs";
constexpr const char* kShapeFile = "circuit.json";
constexpr const char* kUpdatesFile = "updates.json";

struct ZkFlags {
  int depth = 64;
  int batch = 1;
  int threads = 0;
  std::string out, batch_file, keys, input, vk, proof, pub, updates;
};

std::string In(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

Status WriteShape(const std::string& path, const zk::BatchShape& shape) {
  nlohmann::ordered_json j;
  j["levels"] = shape.levels;
  j["batch"] = shape.batch;
  return zk::WriteWholeFile(path, j.dump(1) + "\n");
}

Result<zk::BatchShape> ReadShape(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, zk::ReadWholeFile(path));
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("levels") || !j.contains("batch") ||
      !j["levels"].is_number_integer() || !j["batch"].is_number_integer()) {
    return Status::InvalidArgument(path + ": expected {\"levels\": D, \"batch\": K}");
  }
  zk::BatchShape shape{j["levels"].get<int>(), j["batch"].get<int>()};
  RETURN_IF_ERROR(zk::CheckShape(shape).WithContext(path));
  return shape;
}

int RunSetup(const ZkFlags& f) {
  const zk::BatchShape shape{f.depth, f.batch};
  if (Status s = zk::CheckShape(shape); !s.ok()) return Malformed(s.message());
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return Fail(Status::IOError("cannot create " + f.out + ": " + ec.message()));
  std::cerr << "WARNING: this is a development setup from this machine's randomness, NOT a "
               "trusted-setup ceremony.\nWARNING: whoever could read this process's memory can "
               "forge proofs with this key. For production, import a .zkey from a multi-party "
               "ceremony (snarkjs) into the keys directory.\n";
  Result<zk::R1cs> r1cs = zk::BatchCircuit(shape);
  if (!r1cs.ok()) return Fail(r1cs.status());
  Result<zk::ProvingKey> key = zk::DevSetup(*r1cs, {f.threads, zk::SecureRandomScalar});
  if (!key.ok()) return Fail(key.status());
  for (Status s :
       {zk::WriteWholeFile(In(f.out, kZkeyFile), zk::EncodeZkey(*key)),
        zk::WriteWholeFile(In(f.out, kVkFile), zk::VerifyingKeyToJson(key->verifying_key()) + "\n"),
        zk::WriteWholeFile(In(f.out, kR1csFile), zk::EncodeR1cs(*r1cs)),
        WriteShape(In(f.out, kShapeFile), shape)}) {
    if (!s.ok()) return Fail(s);
  }
  std::cout << "levels " << shape.levels << ", batch " << shape.batch << ": "
            << r1cs->num_constraints() << " constraints, " << r1cs->num_wires << " wires\n"
            << "wrote " << kZkeyFile << ", " << kVkFile << ", " << kR1csFile << ", " << kShapeFile
            << " in " << f.out << "\n";
  return kExitOk;
}

// One line of a batch file: "put K V" or "delete K".
struct BatchLine {
  bool put;
  Fr key, value;
};

Result<std::vector<BatchLine>> ReadBatch(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read batch file " + path);
  std::vector<BatchLine> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::string op, k, v, extra;
    if (!(fields >> op) || op[0] == '#') continue;
    const std::string where = path + " line " + std::to_string(n);
    const bool put = op == "put";
    if ((!put && op != "delete") || !(fields >> k) || (put && !(fields >> v)) ||
        (fields >> extra)) {
      return Status::InvalidArgument(where + ": expected 'put K V' or 'delete K'");
    }
    Result<Fr> fk = Fr::Parse(k);
    if (!fk.ok()) return fk.status().WithContext(where);
    BatchLine b{put, *fk, Fr::Zero()};
    if (put) {
      Result<Fr> fv = Fr::Parse(v);
      if (!fv.ok()) return fv.status().WithContext(where);
      b.value = *fv;
    }
    out.push_back(b);
  }
  return out;
}

int RunProve(const ZkFlags& f) {
  Result<zk::BatchShape> shape = ReadShape(In(f.keys, kShapeFile));
  if (!shape.ok()) return Malformed(shape.status().message());
  Result<std::vector<BatchLine>> batch = ReadBatch(f.batch_file);
  if (!batch.ok()) return Malformed(batch.status().message());
  zk::WitnessTree tree(shape->levels);
  if (!f.input.empty()) {
    Result<std::vector<proof::SmtUpdate>> pairs = ReadPairs(f.input);
    if (!pairs.ok()) return Malformed(pairs.status().message());
    for (const proof::SmtUpdate& p : *pairs) {
      Result<zk::UpdateWitness> w = tree.Put(p.key, *p.value);
      if (!w.ok()) return Malformed(f.input + ": " + w.status().message());
    }
  }
  const Fr old_root = tree.root();
  std::vector<zk::UpdateWitness> updates;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    const BatchLine& b = (*batch)[i];
    Result<zk::UpdateWitness> w = b.put ? tree.Put(b.key, b.value) : tree.Delete(b.key);
    if (!b.put && w.status().IsNotFound()) {
      // Absent: no update, so no entry (a no-op entry would look like padding).
      std::cout << "skipped delete " << b.key.ToDecimal() << ": the key is absent\n";
      continue;
    }
    if (!w.ok()) {
      return Malformed(f.batch_file + " update " + std::to_string(i + 1) + ": " +
                       w.status().message());
    }
    updates.push_back(*w);
  }
  if (updates.size() > static_cast<std::size_t>(shape->batch)) {
    return Malformed(f.batch_file + " holds " + std::to_string(updates.size()) +
                     " updates, more than the circuit's batch of " + std::to_string(shape->batch));
  }
  zk::ConstraintSystem cs;
  if (Status s = zk::SynthesizeBatch(*shape, old_root, updates, cs); !s.ok()) return Fail(s);
  const zk::R1cs r1cs = cs.ToR1cs();
  const std::vector<Fr> witness = cs.Witness();
  if (Status s = r1cs.CheckSatisfied(witness); !s.ok()) {
    return Fail(
        Status::Internal("the batch's witness does not satisfy the circuit: " + s.message()));
  }
  Result<std::string> zkey_bytes = zk::ReadWholeFile(In(f.keys, kZkeyFile));
  if (!zkey_bytes.ok()) return Fail(zkey_bytes.status());
  Result<zk::ProvingKey> key = zk::DecodeZkey(*zkey_bytes);
  if (!key.ok()) return Malformed(In(f.keys, kZkeyFile) + ": " + key.status().message());
  if (Status s = zk::CheckKeyMatchesCircuit(*key, r1cs); !s.ok()) {
    return Malformed(In(f.keys, kZkeyFile) + " is not a key of the circuit in " + kShapeFile +
                     ": " + s.message());
  }
  const zk::VerifyingKey vk = key->verifying_key();
  if (Status s = zk::CheckVerifyingKey(vk); !s.ok()) {
    return Malformed(In(f.keys, kZkeyFile) + ": " + s.message());
  }
  Result<zk::Groth16Proof> proof = zk::Prove(*key, witness, {f.threads, zk::SecureRandomScalar});
  if (!proof.ok()) return Fail(proof.status());
  // The coefficients match; the C, H and IC points can only be checked through a proof.
  if (Status s = zk::Verify(vk, cs.PublicInputs(), *proof); !s.ok()) {
    return Malformed(In(f.keys, kZkeyFile) +
                     " is not a key of this circuit: its own verifying key refuses the proof (" +
                     s.message() + ")");
  }
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return Fail(Status::IOError("cannot create " + f.out + ": " + ec.message()));
  const std::vector<Fr> pub = cs.PublicInputs();
  for (Status s :
       {zk::WriteWholeFile(In(f.out, "proof.json"), zk::ProofToJson(*proof) + "\n"),
        zk::WriteWholeFile(In(f.out, "public.json"), zk::PublicInputsToJson(pub) + "\n"),
        zk::WriteWholeFile(In(f.out, kUpdatesFile), zk::UpdateListToJson(*shape, updates) + "\n"),
        zk::WriteWholeFile(In(f.out, "witness.wtns"), zk::EncodeWtns(witness))}) {
    if (!s.ok()) return Fail(s);
  }
  // Roots as 0x-hex like every other command prints them; public.json stays decimal (snarkjs).
  std::cout << "old root   " << pub[0].ToHex() << "\nnew root   " << pub[1].ToHex()
            << "\ncommitment " << pub[2].ToHex() << "\nwrote proof.json, public.json, "
            << kUpdatesFile << ", witness.wtns in " << f.out
            << "\n(witness.wtns holds every key and value on the batch's paths: keep it private)\n";
  return kExitOk;
}

int RunVerify(const ZkFlags& f) {
  Result<std::string> vk_text = zk::ReadWholeFile(f.vk);
  Result<std::string> proof_text = zk::ReadWholeFile(f.proof);
  Result<std::string> pub_text = zk::ReadWholeFile(f.pub);
  for (const auto* r : {&vk_text, &proof_text, &pub_text}) {
    if (!r->ok()) return Malformed(r->status().message());
  }
  Result<zk::VerifyingKey> vk = zk::VerifyingKeyFromJson(*vk_text);
  if (!vk.ok()) return Malformed(f.vk + ": " + vk.status().message());
  Result<zk::Groth16Proof> proof = zk::ProofFromJson(*proof_text);
  if (!proof.ok()) return Malformed(f.proof + ": " + proof.status().message());
  Result<std::vector<Fr>> pub = zk::PublicInputsFromJson(*pub_text);
  if (!pub.ok()) return Malformed(f.pub + ": " + pub.status().message());
  if (Status s = zk::CheckVerifyingKey(*vk); !s.ok()) return Malformed(f.vk + ": " + s.message());
  if (!f.input.empty() && f.updates.empty()) return Malformed("--input needs --updates");
  std::optional<zk::UpdateList> list;
  if (!f.updates.empty()) {
    Result<std::string> text = zk::ReadWholeFile(f.updates);
    if (!text.ok()) return Malformed(text.status().message());
    Result<zk::UpdateList> l = zk::UpdateListFromJson(*text);
    if (!l.ok()) return Malformed(f.updates + ": " + l.status().message());
    list = std::move(*l);
  }
  std::optional<zk::WitnessTree> tree;
  if (!f.input.empty()) {
    Result<std::vector<proof::SmtUpdate>> pairs = ReadPairs(f.input);
    if (!pairs.ok()) return Malformed(pairs.status().message());
    tree.emplace(list->shape.levels);
    for (const proof::SmtUpdate& p : *pairs) {
      Result<zk::UpdateWitness> w = tree->Put(p.key, *p.value);
      if (!w.ok()) return Malformed(f.input + ": " + w.status().message());
    }
  }
  auto invalid = [](const std::string& why) {
    std::cout << "invalid: " << why << "\n";
    return kExitFailure;
  };
  if (Status s = zk::Verify(*vk, *pub, *proof); !s.ok()) return invalid(s.message());
  if (list.has_value()) {
    if (pub->size() != 3) return invalid("the key is not a batch circuit's (3 public inputs)");
    if (zk::BatchCommitment(list->updates, list->shape.batch) != (*pub)[2]) {
      return invalid("the commitment C in " + f.pub + " is not the one of the updates in " +
                     f.updates);
    }
    if (tree.has_value()) {
      if (tree->root() != (*pub)[0]) {
        return invalid("R0 in " + f.pub + " is not the root of the tree in " + f.input);
      }
      for (std::size_t i = 0; i < list->updates.size(); ++i) {
        if (Status s = tree->Replay(list->updates[i]); !s.ok()) {
          return invalid(f.updates + " update " + std::to_string(i + 1) + ": " + s.message());
        }
      }
      if (tree->root() != (*pub)[1]) {
        return invalid("RK in " + f.pub + " is not the root after replaying " + f.updates);
      }
    }
  }
  std::cout << "valid";
  if (list.has_value()) {
    std::cout << ": " << list->updates.size() << " updates"
              << (tree.has_value() ? ", replayed from the input tree" : "");
  }
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

void RegisterZkCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ZkFlags>();
  CLI::App* zk =
      app.add_subcommand("zk", "Groth16 proofs of index update batches (snarkjs formats)");
  zk->require_subcommand(1);

  CLI::App* setup = zk->add_subcommand(
      "setup", "Development key for a circuit of D levels and K updates (NOT a ceremony)");
  setup->add_option("--depth", flags->depth, "Tree levels D (iden3 maxLevels: leaves at depth < D)")
      ->required();
  setup->add_option("--batch", flags->batch, "Updates per proof K")->required();
  setup
      ->add_option("--out", flags->out,
                   "Directory for circuit.zkey, verification_key.json, "
                   "circuit.r1cs, circuit.json")
      ->required();
  setup->add_option("--threads", flags->threads, "Threads (0: all cores)");
  setup->callback([flags, &exit_code] { exit_code = RunSetup(*flags); });

  CLI::App* prove = zk->add_subcommand("prove", "Prove a batch of updates");
  prove->add_option("--batch", flags->batch_file, "File of 'put K V' / 'delete K' lines")
      ->required();
  prove->add_option("--keys", flags->keys, "Directory written by zk setup")->required();
  prove
      ->add_option("--out", flags->out,
                   "Directory for proof.json, public.json, updates.json, witness.wtns")
      ->required();
  prove->add_option("--input", flags->input, "Initial tree: 'k v' pairs (default: empty tree)");
  prove->add_option("--threads", flags->threads, "Threads (0: all cores)");
  prove->callback([flags, &exit_code] { exit_code = RunProve(*flags); });

  CLI::App* verify = zk->add_subcommand("verify", "Check a proof (exit 0 valid, 1 not)");
  verify->add_option("--vk", flags->vk, "verification_key.json")->required();
  verify->add_option("--proof", flags->proof, "proof.json")->required();
  verify->add_option("--public", flags->pub, "public.json")->required();
  verify->add_option("--updates", flags->updates,
                     "updates.json written by zk prove: recompute the commitment C from it");
  verify->add_option("--input", flags->input,
                     "With --updates: the initial tree's 'k v' pairs; replay to check R0 and RK");
  verify->callback([flags, &exit_code] { exit_code = RunVerify(*flags); });
}

}  // namespace rustorium::tools
