#include "tools/rustorium/proof_command.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "engine/engine.h"
#include "proof/poseidon/byte_hash.h"
#include "proof/poseidon/poseidon.h"
#include "proof/smt/sparse_merkle_tree.h"
#include "tools/rustorium/exit_code.h"
#include "tools/rustorium/pair_file.h"

namespace rustorium::tools {

namespace {

using proof::Fr;

int Usage(CLI::App* cmd, const std::string& message) {
  std::cerr << "error: " << message << "\n" << cmd->help() << "\n";
  return kExitMalformed;
}

struct ProofFlags {
  std::vector<std::string> elements;  // hash poseidon
  std::string input;                  // proof root/prove
  std::string key, value, key_bytes, value_bytes, root, proof_file;
  bool value_given = false;
};

// A tree built from `pairs` in a scratch engine that lives as long as this object.
class ScratchTree {
 public:
  static Result<std::unique_ptr<ScratchTree>> Build(const std::vector<proof::SmtUpdate>& pairs) {
    auto t = std::unique_ptr<ScratchTree>(new ScratchTree());
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base ? base : "/tmp") + "/rustorium-proof-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      return Status::IOError("cannot make a scratch directory");
    t->dir_ = tmpl;
    engine::StorageOptions o;
    o.path = t->dir_ + "/db";
    o.sync_mode = engine::SyncMode::kNone;
    o.block_cache_size = 8 << 20;
    ASSIGN_OR_RETURN(t->engine_, engine::Engine::Open(o));
    ASSIGN_OR_RETURN(proof::SparseMerkleTree tree,
                     proof::SparseMerkleTree::Open(t->engine_.get(), 1));
    t->tree_ = std::make_unique<proof::SparseMerkleTree>(std::move(tree));
    engine::WriteBatch batch;
    ASSIGN_OR_RETURN(t->root_, t->tree_->Apply(pairs, 1, batch));
    RETURN_IF_ERROR(t->engine_->Write(batch));
    return t;
  }
  ~ScratchTree() {
    tree_.reset();
    engine_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  const Fr& root() const { return root_; }
  proof::SparseMerkleTree& tree() { return *tree_; }

 private:
  ScratchTree() = default;
  std::string dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<proof::SparseMerkleTree> tree_;
  Fr root_;
};

int RunHash(CLI::App* cmd, const ProofFlags& f) {
  std::vector<Fr> in;
  for (const std::string& e : f.elements) {
    Result<Fr> x = Fr::Parse(e);
    if (!x.ok()) return Usage(cmd, x.status().message());
    in.push_back(*x);
  }
  Result<Fr> h = proof::Poseidon(in);
  if (!h.ok()) return Usage(cmd, h.status().message());
  std::cout << h->ToHex() << "\n";
  return kExitOk;
}

// The tree of --input, or null after printing why and setting `exit_code`.
std::unique_ptr<ScratchTree> TreeOfInput(CLI::App* cmd, const ProofFlags& f, int& exit_code) {
  auto pairs = ReadPairs(f.input);
  if (!pairs.ok()) {
    exit_code = Usage(cmd, pairs.status().message());
    return nullptr;
  }
  auto tree = ScratchTree::Build(*pairs);
  if (!tree.ok()) {
    exit_code = Fail(tree.status());
    return nullptr;
  }
  return std::move(*tree);
}

int RunRoot(CLI::App* cmd, const ProofFlags& f) {
  int exit_code = kExitOk;
  auto tree = TreeOfInput(cmd, f, exit_code);
  if (!tree) return exit_code;
  std::cout << tree->root().ToHex() << "\n";
  return kExitOk;
}

int RunProve(CLI::App* cmd, const ProofFlags& f) {
  Result<Fr> key = Fr::Parse(f.key);
  if (!key.ok()) return Usage(cmd, "--key: " + key.status().message());
  int exit_code = kExitOk;
  auto tree = TreeOfInput(cmd, f, exit_code);
  if (!tree) return exit_code;
  auto p = tree->tree().Prove(*key);
  if (!p.ok()) {
    return Fail(p.status());
  }
  std::cout << p->ToJson() << "\n";
  return kExitOk;
}

int RunVerify(CLI::App* cmd, const ProofFlags& f) {
  Result<Fr> root = Fr::Parse(f.root);
  if (!root.ok()) return Usage(cmd, "--root: " + root.status().message());
  if (f.key.empty() == f.key_bytes.empty()) {
    return Usage(cmd, "give exactly one of --key and --key-bytes");
  }
  if (!f.value.empty() && !f.value_bytes.empty()) {
    return Usage(cmd, "give at most one of --value and --value-bytes");
  }
  Fr key;
  if (!f.key.empty()) {
    Result<Fr> k = Fr::Parse(f.key);
    if (!k.ok()) return Usage(cmd, "--key: " + k.status().message());
    key = *k;
  } else {
    key = proof::HashBytes(f.key_bytes);
  }
  std::optional<Fr> value;
  if (!f.value.empty()) {
    Result<Fr> v = Fr::Parse(f.value);
    if (!v.ok()) return Usage(cmd, "--value: " + v.status().message());
    value = *v;
  } else if (!f.value_bytes.empty() || f.value_given) {
    value = proof::HashBytes(f.value_bytes);
  }
  std::ifstream in(f.proof_file, std::ios::binary);
  if (!in) return Usage(cmd, "cannot read proof file " + f.proof_file);
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  // JSON when it looks like JSON, iden3's binary form otherwise.
  const auto first = text.find_first_not_of(" \t\r\n");
  Result<proof::SmtProof> p = (first != std::string::npos && text[first] == '{')
                                  ? proof::SmtProof::FromJson(text)
                                  : proof::SmtProof::DecodeBinary(text);
  if (!p.ok()) {
    std::cout << "invalid: " << p.status().message() << "\n";
    return kExitFailure;
  }
  Status s = proof::VerifyProof(*root, key, value, *p);
  if (!s.ok()) {
    std::cout << "invalid: " << s.message() << "\n";
    return kExitFailure;
  }
  std::cout << "valid\n";
  return kExitOk;
}

}  // namespace

void RegisterProofCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ProofFlags>();

  CLI::App* hash = app.add_subcommand("hash", "Hash functions of the authenticated index");
  hash->require_subcommand(1);
  CLI::App* poseidon = hash->add_subcommand(
      "poseidon", "Poseidon (circomlib parameters) of 1..16 field elements, decimal or 0x-hex");
  poseidon->add_option("elements", flags->elements, "Field elements")->required();
  poseidon->callback([poseidon, flags, &exit_code] { exit_code = RunHash(poseidon, *flags); });

  CLI::App* proof =
      app.add_subcommand("proof", "Sparse-Merkle-tree roots and proofs (iden3 layout)");
  proof->require_subcommand(1);

  CLI::App* root =
      proof->add_subcommand("root", "Root of the tree holding the 'k v' pairs of FILE");
  root->add_option("--input", flags->input, "File with one 'k v' pair per line")->required();
  root->callback([root, flags, &exit_code] { exit_code = RunRoot(root, *flags); });

  CLI::App* prove = proof->add_subcommand("prove", "iden3 JSON proof of KEY in the tree of FILE");
  prove->add_option("--input", flags->input, "File with one 'k v' pair per line")->required();
  prove->add_option("--key", flags->key, "Key (field element)")->required();
  prove->callback([prove, flags, &exit_code] { exit_code = RunProve(prove, *flags); });

  CLI::App* verify = proof->add_subcommand(
      "verify",
      "Check a proof: inclusion with a value, non-inclusion without (exit 0 valid, 1 not)");
  verify->add_option("--root", flags->root, "Root (field element)")->required();
  verify->add_option("--key", flags->key, "Key (field element)");
  verify->add_option("--value", flags->value, "Value (field element): checks inclusion");
  verify->add_option("--key-bytes", flags->key_bytes, "Key as a string, through the byte sponge");
  verify
      ->add_option("--value-bytes", flags->value_bytes,
                   "Value as a string, through the byte sponge: checks inclusion")
      ->each([flags](const std::string&) { flags->value_given = true; });
  verify->add_option("--proof", flags->proof_file, "Proof file (iden3 JSON or binary)")->required();
  verify->callback([verify, flags, &exit_code] { exit_code = RunVerify(verify, *flags); });
}

}  // namespace rustorium::tools
