// PdClient: the one way to reach the placement driver, used by the region client and by
// stores. It keeps a channel to each PD member and applies one policy to every call: try the
// members in turn, starting with the one that answered last, and return the first answer.
// Callers that want more than one pass (the region client's operation loop, a store's
// registration) retry around it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "region/pd/pd.pb.h"
#include "region/rpc/channel.h"
#include "region/rpc/event_loop.h"

namespace rustorium::pd {

struct PdClientOptions {
  std::vector<std::string> members;         // PD member addresses, "host:port"; at least one
  rpc::ChannelOptions channel;              // TLS (PD's certificate is checked) and limits
  std::chrono::milliseconds timeout{5000};  // per attempt at one member
};

// The RPC methods of PD's service (region/pd/pd.proto), served by PdService.
inline constexpr char kRegisterStore[] = "pd.RegisterStore";
inline constexpr char kAllocId[] = "pd.AllocId";
inline constexpr char kGetRegion[] = "pd.GetRegion";
inline constexpr char kGetStoreRegions[] = "pd.GetStoreRegions";
inline constexpr char kGetStores[] = "pd.GetStores";
inline constexpr char kGetRegions[] = "pd.GetRegions";
inline constexpr char kStoreHeartbeat[] = "pd.StoreHeartbeat";
inline constexpr char kRegionHeartbeat[] = "pd.RegionHeartbeat";
inline constexpr char kRegionHeartbeats[] = "pd.RegionHeartbeats";
// The most regions one pd.RegionHeartbeats message carries (about 300 KiB of records).
inline constexpr int kMaxRegionsPerHeartbeat = 1024;
inline constexpr char kTso[] = "pd.Tso";

// Whether an error from one PD member is worth trying another member for (or trying again
// later): unreachable, timed out, busy, or not PD's leader. Other errors are PD's answer.
bool PdRetryable(const Status& status);

class PdClient {
 public:
  // InvalidArgument when `members` is empty or an address does not parse. `loop` is borrowed
  // and must outlive the client; calls block the calling thread, which must not be `loop`'s.
  static Result<std::unique_ptr<PdClient>> Create(rpc::EventLoop& loop, PdClientOptions options);
  ~PdClient();  // off `loop`'s thread
  PdClient(const PdClient&) = delete;
  PdClient& operator=(const PdClient&) = delete;

  // One pass over the members, starting with the one that answered last. The first answer is
  // returned; a PdRetryable error moves on to the next member; any other error is returned at
  // once. After a pass of failures: the last error, naming the member. Thread-safe.
  Result<std::string> Call(const std::string& method, const std::string& payload);

  // Call with typed messages; Corruption when the answer does not parse.
  template <typename Response, typename Request>
  Result<Response> Call(const std::string& method, const Request& request) {
    ASSIGN_OR_RETURN(std::string bytes, Call(method, request.SerializeAsString()));
    Response response;
    if (!response.ParseFromString(bytes))
      return Status::Corruption("PD's " + method + " answer does not parse");
    return response;
  }

  Result<RegisterStoreResponse> RegisterStore(const RegisterStoreRequest& r) {
    return Call<RegisterStoreResponse>(kRegisterStore, r);
  }
  Result<AllocIdResponse> AllocId(const AllocIdRequest& r) {
    return Call<AllocIdResponse>(kAllocId, r);
  }
  Result<GetRegionResponse> GetRegion(const GetRegionRequest& r) {
    return Call<GetRegionResponse>(kGetRegion, r);
  }
  Result<GetStoreRegionsResponse> GetStoreRegions(const GetStoreRegionsRequest& r) {
    return Call<GetStoreRegionsResponse>(kGetStoreRegions, r);
  }
  Result<GetStoresResponse> GetStores() {
    return Call<GetStoresResponse>(kGetStores, GetStoresRequest());
  }
  Result<GetRegionsResponse> GetRegions() {
    return Call<GetRegionsResponse>(kGetRegions, GetRegionsRequest());
  }
  Result<StoreHeartbeatResponse> StoreHeartbeat(const StoreHeartbeatRequest& r) {
    return Call<StoreHeartbeatResponse>(kStoreHeartbeat, r);
  }
  Result<RegionHeartbeatsResponse> RegionHeartbeats(const RegionHeartbeatsRequest& r) {
    return Call<RegionHeartbeatsResponse>(kRegionHeartbeats, r);
  }
  Result<TsoResponse> Tso(const TsoRequest& r) { return Call<TsoResponse>(kTso, r); }

  const std::vector<std::string>& members() const { return options_.members; }

 private:
  PdClient(PdClientOptions options) : options_(std::move(options)) {}

  PdClientOptions options_;
  std::vector<std::unique_ptr<rpc::RpcChannel>> channels_;  // one per member, in order
  std::atomic<std::size_t> preferred_{0};                   // the member that answered last
};

}  // namespace rustorium::pd
