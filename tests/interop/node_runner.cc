#include "tests/interop/node_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rustorium::testing {

Result<std::string> RunNodeScript(const std::string& script, const std::string& input) {
  const std::string tests_dir = RUSTORIUM_TESTS_DIR;
  if (!std::filesystem::exists(tests_dir + "/node_modules")) {
    return Status::FailedPrecondition("tests/node_modules is missing: run tools/install-deps");
  }
  char in_path[] = "/tmp/rustorium-node-in-XXXXXX";
  char err_path[] = "/tmp/rustorium-node-err-XXXXXX";
  int in_fd = ::mkstemp(in_path);
  int err_fd = ::mkstemp(err_path);
  if (in_fd < 0 || err_fd < 0) return Status::IOError("mkstemp failed");
  ::close(err_fd);
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  ::close(in_fd);
  const std::string cmd = "cd '" + tests_dir + "' && node 'interop/" + script + "' < '" + in_path +
                          "' 2> '" + err_path + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return Status::IOError("cannot start node");
  std::string out;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  std::ifstream err_in(err_path);
  std::stringstream err;
  err << err_in.rdbuf();
  ::unlink(in_path);
  ::unlink(err_path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("node " + script + " failed: " + err.str());
  }
  return out;
}

}  // namespace rustorium::testing
