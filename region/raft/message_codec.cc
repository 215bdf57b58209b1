#include "region/raft/message_codec.h"

#include <algorithm>
#include <cstring>

namespace rustorium::raft {

void EncodeConfiguration(const raft_configuration& conf, Configuration* out) {
  out->Clear();
  for (unsigned i = 0; i < conf.n; ++i) {
    Server* s = out->add_servers();
    s->set_id(conf.servers[i].id);
    s->set_address(conf.servers[i].address);
    s->set_role(static_cast<uint32_t>(conf.servers[i].role));
  }
}

Status DecodeConfiguration(const Configuration& in, raft_configuration* out) {
  raft_configuration_init(out);
  for (const Server& s : in.servers()) {
    if (s.id() == 0 || s.address().empty() || s.address().find('\0') != std::string::npos ||
        s.role() > RAFT_SPARE) {
      raft_configuration_close(out);
      return Status::InvalidArgument("raft configuration has a malformed server");
    }
    const int rv =
        raft_configuration_add(out, s.id(), s.address().c_str(), static_cast<int>(s.role()));
    if (rv != 0) {
      raft_configuration_close(out);
      return Status::InvalidArgument(std::string("raft configuration: ") + raft_strerror(rv));
    }
  }
  return Status::OK();
}

Status EncodeMessage(uint64_t group, const raft_message& m, RaftMessage* out) {
  out->Clear();
  out->set_group_id(group);
  out->set_to_id(m.server_id);
  switch (m.type) {
    case RAFT_IO_APPEND_ENTRIES: {
      const raft_append_entries& a = m.append_entries;
      AppendEntries* o = out->mutable_append_entries();
      o->set_term(a.term);
      o->set_prev_log_index(a.prev_log_index);
      o->set_prev_log_term(a.prev_log_term);
      o->set_leader_commit(a.leader_commit);
      o->mutable_entries()->Reserve(static_cast<int>(a.n_entries));
      for (unsigned i = 0; i < a.n_entries; ++i) {
        Entry* e = o->add_entries();
        e->set_term(a.entries[i].term);
        e->set_type(a.entries[i].type);
        e->set_data(static_cast<const char*>(a.entries[i].buf.base), a.entries[i].buf.len);
      }
      return Status::OK();
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      AppendEntriesResult* o = out->mutable_append_entries_result();
      o->set_term(m.append_entries_result.term);
      o->set_rejected(m.append_entries_result.rejected);
      o->set_last_log_index(m.append_entries_result.last_log_index);
      return Status::OK();
    }
    case RAFT_IO_REQUEST_VOTE: {
      const raft_request_vote& v = m.request_vote;
      RequestVote* o = out->mutable_request_vote();
      o->set_term(v.term);
      o->set_candidate_id(v.candidate_id);
      o->set_last_log_index(v.last_log_index);
      o->set_last_log_term(v.last_log_term);
      o->set_disrupt_leader(v.disrupt_leader);
      o->set_pre_vote(v.pre_vote);
      return Status::OK();
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: {
      RequestVoteResult* o = out->mutable_request_vote_result();
      o->set_term(m.request_vote_result.term);
      o->set_vote_granted(m.request_vote_result.vote_granted);
      o->set_pre_vote(static_cast<uint32_t>(m.request_vote_result.pre_vote));
      return Status::OK();
    }
    case RAFT_IO_INSTALL_SNAPSHOT: {
      const raft_install_snapshot& s = m.install_snapshot;
      InstallSnapshot* o = out->mutable_install_snapshot();
      o->set_term(s.term);
      o->set_last_index(s.last_index);
      o->set_last_term(s.last_term);
      EncodeConfiguration(s.conf, o->mutable_conf());
      o->set_conf_index(s.conf_index);
      o->set_data(static_cast<const char*>(s.data.base), s.data.len);
      return Status::OK();
    }
    case RAFT_IO_TIMEOUT_NOW: {
      TimeoutNow* o = out->mutable_timeout_now();
      o->set_term(m.timeout_now.term);
      o->set_last_log_index(m.timeout_now.last_log_index);
      o->set_last_log_term(m.timeout_now.last_log_term);
      return Status::OK();
    }
    default:
      return Status::InvalidArgument("unknown raft message type " + std::to_string(m.type));
  }
}

void* RaftCopy(std::string_view bytes) {
  void* p = raft_malloc(bytes.empty() ? 1 : bytes.size());
  if (p != nullptr && !bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p;
}

raft_entry* NewEntryBatch(std::size_t n, const std::function<EntryView(std::size_t)>& at) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += at(i).data.size();
  auto* entries = static_cast<raft_entry*>(raft_malloc(sizeof(raft_entry) * n));
  auto* batch = static_cast<char*>(raft_malloc(total == 0 ? 1 : total));
  if (entries == nullptr || batch == nullptr) {
    raft_free(entries);
    raft_free(batch);
    return nullptr;
  }
  char* cursor = batch;
  for (std::size_t i = 0; i < n; ++i) {
    const EntryView e = at(i);
    entries[i].term = e.term;
    entries[i].type = e.type;
    entries[i].buf.base = cursor;
    entries[i].buf.len = e.data.size();
    entries[i].batch = batch;
    if (!e.data.empty()) std::memcpy(cursor, e.data.data(), e.data.size());
    cursor += e.data.size();
  }
  return entries;
}

namespace {

Status DecodeEntries(const AppendEntries& in, raft_append_entries* out) {
  out->entries = nullptr;
  out->n_entries = 0;
  const int n = in.entries_size();
  if (n == 0) return Status::OK();
  for (const Entry& e : in.entries()) {
    if (e.type() < RAFT_COMMAND || e.type() > RAFT_CHANGE) {
      return Status::InvalidArgument("raft entry of unknown type " + std::to_string(e.type()));
    }
  }
  raft_entry* entries = NewEntryBatch(static_cast<std::size_t>(n), [&](std::size_t i) {
    const Entry& e = in.entries(static_cast<int>(i));
    return EntryView{e.term(), static_cast<uint16_t>(e.type()), e.data()};
  });
  if (entries == nullptr) return Status::Internal("out of memory decoding raft entries");
  out->entries = entries;
  out->n_entries = static_cast<unsigned>(n);
  return Status::OK();
}

}  // namespace

Status DecodeMessage(const RaftMessage& in, raft_id from_id, const char* from_address,
                     raft_message* out) {
  std::memset(out, 0, sizeof(*out));
  out->server_id = from_id;
  out->server_address = from_address;
  switch (in.body_case()) {
    case RaftMessage::kAppendEntries: {
      const AppendEntries& a = in.append_entries();
      out->type = RAFT_IO_APPEND_ENTRIES;
      out->append_entries.term = a.term();
      out->append_entries.prev_log_index = a.prev_log_index();
      out->append_entries.prev_log_term = a.prev_log_term();
      out->append_entries.leader_commit = a.leader_commit();
      return DecodeEntries(a, &out->append_entries);
    }
    case RaftMessage::kAppendEntriesResult:
      out->type = RAFT_IO_APPEND_ENTRIES_RESULT;
      out->append_entries_result.term = in.append_entries_result().term();
      out->append_entries_result.rejected = in.append_entries_result().rejected();
      out->append_entries_result.last_log_index = in.append_entries_result().last_log_index();
      return Status::OK();
    case RaftMessage::kRequestVote: {
      const RequestVote& v = in.request_vote();
      out->type = RAFT_IO_REQUEST_VOTE;
      out->request_vote.term = v.term();
      out->request_vote.candidate_id = v.candidate_id();
      out->request_vote.last_log_index = v.last_log_index();
      out->request_vote.last_log_term = v.last_log_term();
      out->request_vote.disrupt_leader = v.disrupt_leader();
      out->request_vote.pre_vote = v.pre_vote();
      return Status::OK();
    }
    case RaftMessage::kRequestVoteResult: {
      const RequestVoteResult& r = in.request_vote_result();
      if (r.pre_vote() > raft_tribool_false)
        return Status::InvalidArgument("raft pre_vote tribool out of range");
      out->type = RAFT_IO_REQUEST_VOTE_RESULT;
      out->request_vote_result.term = r.term();
      out->request_vote_result.vote_granted = r.vote_granted();
      out->request_vote_result.pre_vote = static_cast<raft_tribool>(r.pre_vote());
      return Status::OK();
    }
    case RaftMessage::kInstallSnapshot: {
      const InstallSnapshot& s = in.install_snapshot();
      out->type = RAFT_IO_INSTALL_SNAPSHOT;
      out->install_snapshot.term = s.term();
      out->install_snapshot.last_index = s.last_index();
      out->install_snapshot.last_term = s.last_term();
      out->install_snapshot.conf_index = s.conf_index();
      RETURN_IF_ERROR(DecodeConfiguration(s.conf(), &out->install_snapshot.conf));
      out->install_snapshot.data.base = RaftCopy(s.data());
      out->install_snapshot.data.len = s.data().size();
      if (out->install_snapshot.data.base == nullptr) {
        raft_configuration_close(&out->install_snapshot.conf);
        return Status::Internal("out of memory decoding a raft snapshot");
      }
      return Status::OK();
    }
    case RaftMessage::kTimeoutNow:
      out->type = RAFT_IO_TIMEOUT_NOW;
      out->timeout_now.term = in.timeout_now().term();
      out->timeout_now.last_log_index = in.timeout_now().last_log_index();
      out->timeout_now.last_log_term = in.timeout_now().last_log_term();
      return Status::OK();
    case RaftMessage::kReadProbe:
    case RaftMessage::kReadProbeResult:
      return Status::InvalidArgument("a read probe is not a libraft message");
    case RaftMessage::BODY_NOT_SET:
      break;
  }
  return Status::InvalidArgument("raft message without a body");
}

void ReleaseMessage(raft_message* m) {
  if (m->type == RAFT_IO_APPEND_ENTRIES && m->append_entries.n_entries > 0) {
    raft_free(m->append_entries.entries[0].batch);
    raft_free(m->append_entries.entries);
    m->append_entries.entries = nullptr;
    m->append_entries.n_entries = 0;
  } else if (m->type == RAFT_IO_INSTALL_SNAPSHOT) {
    raft_configuration_close(&m->install_snapshot.conf);
    raft_free(m->install_snapshot.data.base);
    m->install_snapshot.data.base = nullptr;
  }
}

Status FromRaftError(int code, const char* detail) {
  std::string msg = std::string(raft_strerror(code));
  if (detail != nullptr && *detail != '\0') msg += std::string(": ") + detail;
  switch (code) {
    case 0:
      return Status::OK();
    case RAFT_NOTLEADER:
      return Status::FailedPrecondition("not leader: " + msg);
    case RAFT_LEADERSHIPLOST:
    case RAFT_SHUTDOWN:
    case RAFT_CANCELED:
      return Status::Aborted(msg);
    case RAFT_BADID:
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
    case RAFT_BADROLE:
    case RAFT_INVALID:
    case RAFT_MALFORMED:
      return Status::InvalidArgument(msg);
    case RAFT_CANTCHANGE:
    case RAFT_CANTBOOTSTRAP:
      return Status::FailedPrecondition(msg);
    case RAFT_BUSY:
    case RAFT_TOOMANY:
      return Status::Busy(msg);
    case RAFT_NOTFOUND:
      return Status::NotFound(msg);
    case RAFT_CORRUPT:
      return Status::Corruption(msg);
    case RAFT_IOERR:
    case RAFT_NOSPACE:
      return Status::IOError(msg);
    default:
      return Status::Internal(msg);
  }
}

std::vector<RaftMessage> SplitAppendEntries(RaftMessage message, std::size_t max_bytes) {
  std::vector<RaftMessage> out;
  if (!message.has_append_entries() || message.ByteSizeLong() <= max_bytes) {
    out.push_back(std::move(message));
    return out;
  }
  AppendEntries& all = *message.mutable_append_entries();
  google::protobuf::RepeatedPtrField<Entry> entries;
  entries.Swap(all.mutable_entries());
  const std::size_t header = message.ByteSizeLong();
  uint64_t prev_index = all.prev_log_index();
  uint64_t prev_term = all.prev_log_term();
  std::size_t bytes = 0;
  for (Entry& e : entries) {
    const std::size_t size = e.ByteSizeLong() + 8;  // with the field's tag and length
    if (out.empty() || (bytes > 0 && bytes + size > max_bytes)) {
      RaftMessage& part = out.emplace_back(message);  // the same group, addressee and term
      part.mutable_append_entries()->set_prev_log_index(prev_index);
      part.mutable_append_entries()->set_prev_log_term(prev_term);
      bytes = header;
    }
    AppendEntries& part = *out.back().mutable_append_entries();
    bytes += size;
    prev_index += 1;
    prev_term = e.term();
    part.set_leader_commit(std::min(all.leader_commit(), prev_index));
    part.add_entries()->Swap(&e);
  }
  return out;
}

}  // namespace rustorium::raft
