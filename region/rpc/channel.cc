#include "region/rpc/channel.h"

#include <algorithm>
#include <future>

#include "base/quote.h"
#include "region/rpc/server.h"
#include "region/rpc/uv_loop.h"

namespace rustorium::rpc {

struct RpcChannel::Pending {
  Callback done;
  std::function<void(std::string)> on_item;  // set for streams
  uv_timer_t* timer = nullptr;
  bool sent = false;  // on the wire: a broken connection makes its outcome unknown
};

namespace {

struct TimerData {
  RpcChannel* channel;
  std::weak_ptr<bool> alive;
  uint64_t id;
};

struct ResolveRequest {
  uv_getaddrinfo_t req;
  std::weak_ptr<bool> alive;
  std::function<void(int, std::vector<sockaddr_storage>)> done;
};

struct ConnectRequest {
  uv_connect_t req;
  std::weak_ptr<bool> alive;
  std::function<void(int)> done;
};

Envelope MakeRequest(uint64_t id, const std::string& method, std::chrono::milliseconds timeout,
                     std::string payload) {
  Envelope request;
  request.set_id(id);
  request.set_kind(REQUEST);
  request.set_method(method);
  request.set_timeout_ms(static_cast<uint32_t>(timeout.count()));
  request.set_payload(std::move(payload));
  return request;
}

void CloseTimer(uv_timer_t* timer) {
  uv_timer_stop(timer);
  uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) {
    delete static_cast<TimerData*>(h->data);
    delete reinterpret_cast<uv_timer_t*>(h);
  });
}

}  // namespace

RpcChannel::RpcChannel(EventLoop& loop, std::string host, int port, ChannelOptions options)
    : loop_(loop),
      host_(std::move(host)),
      port_(port),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {
  loop_.RunSync([this] {
    uv_timer_init(UvLoop(loop_), delay_timer_);
    delay_timer_->data = this;
  });
}

RpcChannel::~RpcChannel() {
  loop_.RunSync([this] {
    *alive_ = false;
    // Freed by its close callback: the channel may be destroyed on the loop thread, before
    // libuv finishes closing the handle.
    uv_timer_stop(delay_timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(delay_timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    delayed_.clear();
    if (connection_) connection_->Close(Status::Aborted("channel closed"));
    connection_.reset();
    std::map<uint64_t, std::unique_ptr<Pending>> pending;
    pending.swap(pending_);
    for (auto& [id, p] : pending) {
      if (p->timer != nullptr) CloseTimer(p->timer);
      p->done(Status::Aborted("channel closed"));
    }
  });
  loop_.RunSync([] {});  // the timers' close callbacks have run
}

void RpcChannel::Call(const std::string& method, std::string payload,
                      std::chrono::milliseconds timeout, Callback done) {
  // Each posted task checks that the channel still exists: one destroyed on the loop thread
  // leaves behind the tasks posted before.
  loop_.Post([this, alive = std::weak_ptr<bool>(alive_), method, payload = std::move(payload),
              timeout, done = std::move(done)]() mutable {
    if (auto a = alive.lock(); !a || !*a) return done(Status::Aborted("channel closed"));
    const uint64_t id = next_id_++;
    Envelope request = MakeRequest(id, method, timeout, std::move(payload));
    StartCall(id, std::move(request), timeout, std::move(done));
  });
}

void RpcChannel::CallStream(const std::string& method, std::string payload,
                            std::chrono::milliseconds timeout,
                            std::function<void(std::string)> on_item,
                            std::function<void(Status)> on_end) {
  loop_.Post([this, alive = std::weak_ptr<bool>(alive_), method, payload = std::move(payload),
              timeout, on_item = std::move(on_item), on_end = std::move(on_end)]() mutable {
    if (auto a = alive.lock(); !a || !*a) return on_end(Status::Aborted("channel closed"));
    const uint64_t id = next_id_++;
    Envelope request = MakeRequest(id, method, timeout, std::move(payload));
    StartCall(
        id, std::move(request), timeout,
        [on_end = std::move(on_end)](Result<std::string> r) {
          on_end(r.ok() ? Status::OK() : r.status());
        },
        std::move(on_item));
  });
}

Result<std::string> RpcChannel::CallSync(const std::string& method, std::string payload,
                                         std::chrono::milliseconds timeout) {
  std::promise<Result<std::string>> answer;
  Call(method, std::move(payload), timeout,
       [&answer](Result<std::string> r) { answer.set_value(std::move(r)); });
  return answer.get_future().get();
}

void RpcChannel::Send(const std::string& method, std::string payload, uint64_t group_id) {
  loop_.Post([this, alive = std::weak_ptr<bool>(alive_), method, payload = std::move(payload),
              group_id]() mutable {
    if (auto a = alive.lock(); !a || !*a) return;
    auto message = std::make_shared<Envelope>();
    message->set_kind(ONE_WAY);
    message->set_method(method);
    message->set_group_id(group_id);
    message->set_payload(std::move(payload));
    if (Filtered([this, message] { SendOneWay(std::move(*message)); })) return;
    SendOneWay(std::move(*message));
  });
}

void RpcChannel::SendOneWay(Envelope message) {
  if (!connected_) {
    // While backing off after a failed attempt the peer is taken to be down.
    if (!connecting_ && uv_now(UvLoop(loop_)) < retry_at_ms_) return;
    // Held for the connection being made (within the queued-bytes bound); dropped if it
    // cannot be made: one-way messages are best effort.
    const std::size_t size = message.ByteSizeLong();
    if (waiting_one_way_bytes_ + size <= options_.limits.max_queued_bytes) {
      waiting_one_way_bytes_ += size;
      waiting_one_way_.push_back(std::move(message));
    }
    Connect();
    return;
  }
  connection_->Send(message).IgnoreError();  // best effort; a broken send closes it
}

bool RpcChannel::Filtered(std::function<void()> send) {
  if (!options_.filter) return false;
  const LinkRule rule = options_.filter->For(host_ + ":" + std::to_string(port_));
  if (rule.drop) return true;
  if (rule.delay.count() == 0 && delayed_.empty()) return false;
  // Behind what is already held, so that frames leave in order.
  const uint64_t due = uv_now(UvLoop(loop_)) + static_cast<uint64_t>(rule.delay.count());
  delayed_.emplace_back(std::max(due, delayed_.empty() ? 0 : delayed_.back().first),
                        std::move(send));
  if (delayed_.size() == 1) {
    uv_timer_start(
        delay_timer_, [](uv_timer_t* t) { static_cast<RpcChannel*>(t->data)->RunDelayed(); },
        delayed_.front().first - uv_now(UvLoop(loop_)), 0);
  }
  return true;
}

void RpcChannel::RunDelayed() {
  const uint64_t now = uv_now(UvLoop(loop_));
  while (!delayed_.empty() && delayed_.front().first <= now) {
    std::function<void()> send = std::move(delayed_.front().second);
    delayed_.pop_front();
    send();
  }
  if (!delayed_.empty()) {
    uv_timer_start(
        delay_timer_, [](uv_timer_t* t) { static_cast<RpcChannel*>(t->data)->RunDelayed(); },
        delayed_.front().first - now, 0);
  }
}

void RpcChannel::StartCall(uint64_t id, Envelope request, std::chrono::milliseconds timeout,
                           Callback done, std::function<void(std::string)> on_item) {
  auto p = std::make_unique<Pending>();
  p->done = std::move(done);
  p->on_item = std::move(on_item);
  if (timeout.count() > 0) {
    p->timer = new uv_timer_t;
    uv_timer_init(UvLoop(loop_), p->timer);
    p->timer->data = new TimerData{this, alive_, id};
    uv_timer_start(
        p->timer,
        [](uv_timer_t* t) {
          auto* d = static_cast<TimerData*>(t->data);
          if (auto alive = d->alive.lock(); alive && *alive) {
            d->channel->Finish(d->id, Status::TimedOut("deadline exceeded"));
          }
        },
        static_cast<uint64_t>(timeout.count()), 0);
  }
  pending_[id] = std::move(p);
  // A dropped call is never answered: it times out, as across a partition.
  auto held = std::make_shared<Envelope>(std::move(request));
  if (Filtered([this, held] { SendRequest(std::move(*held)); })) return;
  SendRequest(std::move(*held));
}

void RpcChannel::SendRequest(Envelope request) {
  const uint64_t id = request.id();
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // timed out while held
  if (connected_) {
    it->second->sent = true;
    Status s = connection_->Send(request);
    if (!s.ok()) Finish(id, s);
    return;
  }
  waiting_.push_back(std::move(request));
  Connect();
}

void RpcChannel::Connect() {
  if (connected_ || connecting_ || !*alive_) return;
  connecting_ = true;
  sockaddr_storage addr{};
  if (uv_ip4_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host_.c_str(), port_, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    OnResolved(0, {addr});
    return;
  }
  if (!IsHostName(host_)) {
    // Neither an address nor a name: retrying cannot help.
    connecting_ = false;
    std::vector<Envelope> waiting;
    waiting.swap(waiting_);
    for (const Envelope& e : waiting) {
      Finish(e.id(),
             Status::InvalidArgument(QuoteInput(host_) + " is not an IP address or host name"));
    }
    return;
  }
  // Resolved again at every attempt, so a name that moves is followed on reconnect.
  auto* req =
      new ResolveRequest{{}, alive_, [this](int status, std::vector<sockaddr_storage> addresses) {
                           OnResolved(status, std::move(addresses));
                         }};
  req->req.data = req;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const int rc = uv_getaddrinfo(
      UvLoop(loop_), &req->req,
      [](uv_getaddrinfo_t* r, int status, addrinfo* found) {
        auto* rr = static_cast<ResolveRequest*>(r->data);
        std::vector<sockaddr_storage> addresses = SocketAddresses(found);
        uv_freeaddrinfo(found);
        if (auto alive = rr->alive.lock(); alive && *alive) rr->done(status, std::move(addresses));
        delete rr;
      },
      host_.c_str(), std::to_string(port_).c_str(), &hints);
  if (rc != 0) {
    delete req;
    OnResolved(rc, {});
  }
}

void RpcChannel::OnResolved(int status, std::vector<sockaddr_storage> addresses) {
  if (status != 0 || addresses.empty()) {
    OnConnectFailed("cannot resolve " + QuoteInput(host_) + ": " +
                    (status != 0 ? uv_strerror(status) : "no address"));
    return;
  }
  addresses_ = std::move(addresses);
  next_address_ = 0;
  ConnectNext();
}

void RpcChannel::ConnectNext() {
  connection_ = Connection::Create(loop_, options_.limits);
  if (options_.tls) connection_->EnableTls(*options_.tls, host_);
  auto* req = new ConnectRequest{{}, alive_, [this](int status) { OnConnected(status); }};
  req->req.data = req;
  const int rc = uv_tcp_connect(&req->req, connection_->tcp(),
                                reinterpret_cast<const sockaddr*>(&addresses_[next_address_]),
                                [](uv_connect_t* r, int status) {
                                  auto* cr = static_cast<ConnectRequest*>(r->data);
                                  if (auto alive = cr->alive.lock(); alive && *alive)
                                    cr->done(status);
                                  delete cr;
                                });
  if (rc != 0) {
    delete req;
    OnConnected(rc);
  }
}

void RpcChannel::OnConnected(int status) {
  if (status != 0) {
    if (connection_) connection_->Close(Status::IOError(uv_strerror(status)));
    connection_.reset();
    // A name may stand for several addresses (localhost: ::1 and 127.0.0.1): the next one.
    if (++next_address_ < addresses_.size()) {
      ConnectNext();
      return;
    }
    OnConnectFailed("cannot connect to " + host_ + ":" + std::to_string(port_) + ": " +
                    uv_strerror(status));
    return;
  }
  connecting_ = false;
  std::vector<Envelope> one_way;
  one_way.swap(waiting_one_way_);
  waiting_one_way_bytes_ = 0;
  connected_ = true;
  backoff_ = std::chrono::milliseconds(0);
  connection_->Start([this](Connection&, Envelope& e) { OnFrame(e); },
                     [this](Connection&, const Status& why) { OnClosed(why); });
  for (const Envelope& e : one_way) connection_->Send(e).IgnoreError();
  std::vector<Envelope> waiting;
  waiting.swap(waiting_);
  for (Envelope& e : waiting) {
    auto it = pending_.find(e.id());
    if (it == pending_.end()) continue;  // timed out while we connected
    it->second->sent = true;
    Status s = connection_->Send(e);
    if (!s.ok()) Finish(e.id(), s);
  }
}

void RpcChannel::OnConnectFailed(const std::string& why) {
  connecting_ = false;
  waiting_one_way_.clear();
  waiting_one_way_bytes_ = 0;
  // Retry while calls wait, after a doubling pause.
  backoff_ = backoff_.count() == 0 ? options_.backoff_initial
                                   : std::min(backoff_ * 2, options_.backoff_max);
  retry_at_ms_ = uv_now(UvLoop(loop_)) + static_cast<uint64_t>(backoff_.count());
  // The waiting calls were never sent: they fail now, saying so, and the caller may try
  // elsewhere at once (a write that was not sent is known not to have happened). The next
  // call reconnects, once the pause is over.
  std::vector<Envelope> waiting;
  waiting.swap(waiting_);
  const Status not_sent = Status::Busy("not sent: " + why);
  for (const Envelope& e : waiting) Finish(e.id(), not_sent);
}

void RpcChannel::OnFrame(Envelope& e) {
  if (e.kind() == STREAM_ITEM) {
    auto it = pending_.find(e.id());
    if (it != pending_.end() && it->second->on_item)
      it->second->on_item(std::move(*e.mutable_payload()));
    return;
  }
  if (e.kind() != RESPONSE && e.kind() != STREAM_END) return;  // nothing else answers a call
  if (e.error_code() == OK) {
    Finish(e.id(), std::move(*e.mutable_payload()));
  } else {
    Finish(e.id(), FromWire(e.error_code(), e.error_message()));
  }
}

void RpcChannel::OnClosed(const Status& why) {
  connected_ = false;
  connection_.reset();
  std::vector<uint64_t> lost;
  for (const auto& [id, p] : pending_) {
    if (p->sent) lost.push_back(id);
  }
  for (uint64_t id : lost) Finish(id, Status::IOError("connection lost: " + why.message()));
}

void RpcChannel::Finish(uint64_t id, Result<std::string> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // answered already (late response or timer)
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  if (p->timer != nullptr) CloseTimer(p->timer);
  p->done(std::move(result));
}

}  // namespace rustorium::rpc
