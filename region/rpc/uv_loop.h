// The libuv loop under an EventLoop, for the .cc files that put handles on it (region/rpc,
// region/raft, chain/net). Internal: public headers never include this, so that libuv stays
// out of the modules' interfaces.
#pragma once

#include <uv.h>

#include "region/rpc/event_loop.h"

namespace rustorium::rpc {

// The loop `loop` runs; valid as long as `loop`. Touch it on the loop thread only.
uv_loop_t* UvLoop(EventLoop& loop);

}  // namespace rustorium::rpc
