// Conversion between libraft's messages and configurations and their wire form
// (region/raft/raft.proto). Decoding allocates exactly as libraft expects of an I/O backend,
// so that a decoded message can be handed to libraft's receive callback, which then owns it.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "region/raft/libraft.h"
#include "region/raft/raft.pb.h"

namespace rustorium::raft {

// Copies `message` (of any of libraft's six types) into `out`. InvalidArgument for an
// unknown type.
Status EncodeMessage(uint64_t group, const raft_message& message, RaftMessage* out);

// `message` as messages of at most `max_bytes` each where it is an AppendEntries with more:
// consecutive valid AppendEntries of the same term (each with one entry at least), the next
// starting after the previous one's last entry, and each with the leader's commit index capped
// at its own last entry. Any other message comes back alone.
std::vector<RaftMessage> SplitAppendEntries(RaftMessage message, std::size_t max_bytes);

// Fills `out` from `in`, as a message received from server `from_id` at `from_address` (which
// must outlive every use of `out`). Entries go into one raft_malloc'd batch, snapshot data
// into a raft_malloc'd buffer, the configuration into a raft_configuration: libraft frees
// them once it is given the message; ReleaseMessage frees them otherwise. InvalidArgument (and
// nothing allocated) when `in` is not a well-formed message: no body, a read probe (ours, not
// libraft's: read_index.h), an entry type libraft does not define, a configuration with a zero,
// duplicate or unknown-role server.
Status DecodeMessage(const RaftMessage& in, raft_id from_id, const char* from_address,
                     raft_message* out);
// Frees what DecodeMessage allocated, for a message not handed to libraft.
void ReleaseMessage(raft_message* message);

void EncodeConfiguration(const raft_configuration& conf, Configuration* out);
// `out` is initialised here; on success the caller closes it (raft_configuration_close).
Status DecodeConfiguration(const Configuration& in, raft_configuration* out);

// A raft_malloc'd copy of `bytes` (never null, so that empty data still has a buffer);
// nullptr when out of memory.
void* RaftCopy(std::string_view bytes);

// One entry's fields, for building libraft entry arrays.
struct EntryView {
  uint64_t term;
  uint16_t type;
  std::string_view data;
};
// `n` entries in one raft_malloc'd array whose data share one raft_malloc'd batch, as libraft
// frees loaded and received entries; nullptr when out of memory (n > 0).
raft_entry* NewEntryBatch(std::size_t n, const std::function<EntryView(std::size_t)>& at);

// Maps a libraft error code to a Status.
Status FromRaftError(int code, const char* detail);

}  // namespace rustorium::raft
