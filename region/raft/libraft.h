// libraft's C header, with C linkage (raft.h has no extern "C" guard of its own).
#pragma once

extern "C" {
#include <raft.h>
}
