// `rustorium bench kv`: a put/get load on a running cluster from N client threads, with
// proofs verified or not; prints ops/s and p50/p99/p999 latency per operation
// (docs/operations.md; bench/kv_bench runs the same load against etcd).
// Exit codes: 0 measured, 1 the cluster could not be loaded, 2 malformed arguments.
#pragma once

#include <CLI/CLI.hpp>

namespace rustorium::tools {

void RegisterBenchCommand(CLI::App& app, int& exit_code);

}  // namespace rustorium::tools
