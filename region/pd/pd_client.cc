#include "region/pd/pd_client.h"

namespace rustorium::pd {

bool PdRetryable(const Status& s) {
  return s.code() == StatusCode::kIOError || s.code() == StatusCode::kTimedOut ||
         s.code() == StatusCode::kBusy || s.code() == StatusCode::kFailedPrecondition;
}

Result<std::unique_ptr<PdClient>> PdClient::Create(rpc::EventLoop& loop, PdClientOptions options) {
  if (options.members.empty()) return Status::InvalidArgument("no PD address given");
  std::unique_ptr<PdClient> client(new PdClient(std::move(options)));
  for (const std::string& a : client->options_.members) {
    Result<rpc::HostPort> hp = rpc::ParseAddress(a);
    if (!hp.ok()) return hp.status().WithContext("PD address");
    client->channels_.push_back(
        std::make_unique<rpc::RpcChannel>(loop, hp->host, hp->port, client->options_.channel));
  }
  return client;
}

PdClient::~PdClient() = default;

Result<std::string> PdClient::Call(const std::string& method, const std::string& payload) {
  const std::size_t n = channels_.size();
  const std::size_t first = preferred_.load() % n;
  Status last;
  std::size_t last_member = first;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t m = (first + i) % n;
    Result<std::string> r = channels_[m]->CallSync(method, payload, options_.timeout);
    if (r.ok()) {
      preferred_.store(m);
      return r;
    }
    last = r.status();
    last_member = m;
    if (!PdRetryable(last)) return last;
  }
  return Status(last.code(), "PD at " + options_.members[last_member] + ": " + last.message());
}

}  // namespace rustorium::pd
