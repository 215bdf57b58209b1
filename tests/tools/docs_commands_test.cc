// Every `rustorium …` line in the code blocks of docs/operations.md and docs/cli.md is run, in
// document order, against a playground started as the quick start starts it (`rustorium
// playground` in an empty working directory, default ports and data directory), and must exit
// as documented (issue 22). The conventions the docs follow (stated in docs/cli.md):
// - a line is a command when it starts with `rustorium `, assigns one (`root=$(rustorium …)`) or
//   pipes into one (`… | rustorium …`); lines of one section share a shell, so a variable set on
//   one line is seen by the next;
// - it must exit 0 unless its comment ends with `[exit N]`;
// - a comment holding `runs until Ctrl-C` marks a server: it is started in the background, must
//   still run once it is ready (it printed the text after `ready:` in quotes, else anything),
//   and is stopped with SIGINT at the end of its `##` section, after which it must exit 0;
// - a ```toml block whose first line is `# NAME.toml` is written to NAME.toml before its section
//   runs;
// - a section with the line `<!-- docs-test: no playground -->` runs with the playground stopped
// (it
//   starts again for the sections after it).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "tests/tools/rustorium_runner.h"

#ifndef RUSTORIUM_ROOT_DIR
#error "RUSTORIUM_ROOT_DIR must name the source tree"
#endif

namespace rustorium::tools {
namespace {

namespace fs = std::filesystem;

struct DocCommand {
  std::string where;    // "docs/cli.md:42"
  std::string command;  // without its comment
  int expected = 0;
  bool server = false;
  std::string ready;  // for a server: the text that says it is ready (empty: any output)
};

struct DocSection {
  std::string title;
  bool no_playground = false;
  std::vector<DocCommand> commands;
  std::vector<std::pair<std::string, std::string>> files;  // name, contents
};

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Splits a shell line at its comment: the first `#` outside quotes that starts a word.
std::pair<std::string, std::string> SplitComment(const std::string& line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      if (c == '\\' && quote == '"') ++i;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\') {
      ++i;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return {Trim(line.substr(0, i)), Trim(line.substr(i + 1))};
    }
  }
  return {Trim(line), ""};
}

bool IsCommand(const std::string& code) {
  static const std::regex assigned(R"(^[A-Za-z_][A-Za-z_0-9]*="?\$\(rustorium )");
  return code.rfind("rustorium ", 0) == 0 || std::regex_search(code, assigned) ||
         code.find("| rustorium ") != std::string::npos;
}

std::vector<DocSection> ParseDoc(const std::string& name, const std::string& text) {
  static const std::regex exit_code(R"(\[exit ([0-9]+)\]\s*$)");
  static const std::regex ready(R"re(ready: "([^"]*)")re");
  static const std::regex file_name(R"(^#\s*([A-Za-z0-9_.-]+\.toml)\b)");
  std::vector<DocSection> sections(1);
  sections[0].title = name;
  std::istringstream in(text);
  std::string line, fence_lang, block;
  bool in_block = false;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.rfind("```", 0) == 0) {
      if (!in_block) {
        in_block = true;
        fence_lang = Trim(line.substr(3));
        block.clear();
        continue;
      }
      in_block = false;
      std::smatch m;
      if (fence_lang == "toml" && std::regex_search(block, m, file_name))
        sections.back().files.emplace_back(m[1], block);
      continue;
    }
    if (in_block) {
      block += line + "\n";
      if (fence_lang == "toml") continue;
      auto [code, comment] = SplitComment(line);
      if (!IsCommand(code)) continue;
      DocCommand c;
      c.where = name + ":" + std::to_string(n);
      c.command = code;
      std::smatch m;
      if (std::regex_search(comment, m, exit_code)) c.expected = std::stoi(m[1]);
      c.server = comment.find("runs until Ctrl-C") != std::string::npos;
      if (std::regex_search(comment, m, ready)) c.ready = m[1];
      sections.back().commands.push_back(c);
      continue;
    }
    if (line.rfind("## ", 0) == 0 || line.rfind("# ", 0) == 0) {
      sections.emplace_back();
      sections.back().title = name + ": " + line;
    } else if (Trim(line) == "<!-- docs-test: no playground -->") {
      sections.back().no_playground = true;
    }
  }
  return sections;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The bash script that runs every section: results go to fd 9 as `@@KIND WHERE CODE` lines.
std::string Script(const std::vector<DocSection>& sections, const std::string& bin_dir) {
  std::ostringstream s;
  s << "set -m\nexec 9>>results\nexport PATH=" << ShellQuote(bin_dir) << ":\"$PATH\"\n"
    << R"(# start_server NAME READY COMMAND: in the background, in its own process group.
start_server() {
  printf '%s\n' "exec $3" > "$1.sh"
  bash "$1.sh" > "$1.log" 2>&1 < /dev/null &
  local pid=$! i
  eval "pid_$1=$pid"
  echo "@@pid $1 $pid" >&9
  for i in $(seq 1 1200); do
    if [ -n "$2" ]; then grep -qF -- "$2" "$1.log" && break; else [ -s "$1.log" ] && break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 1
  if kill -0 "$pid" 2>/dev/null; then echo "@@ready $1" >&9; else echo "@@died $1" >&9; fi
}
# stop_server NAME WHERE: SIGINT to its group, as Ctrl-C would; its exit code.
stop_server() {
  local pid
  eval "pid=\$pid_$1"
  kill -INT -- "-$pid" 2>/dev/null
  ( sleep 30; kill -KILL -- "-$pid" ) 2>/dev/null &
  local watchdog=$!
  wait "$pid"
  echo "@@rc $2 $?" >&9
  kill "$watchdog" 2>/dev/null
  echo "---- $2: its output"; cat "$1.log"
}
)";
  bool playground = false;
  auto start_playground = [&] {
    s << "start_server playground 'Rustorium playground:' 'rustorium playground'\n";
    playground = true;
  };
  auto stop_playground = [&] {
    s << "stop_server playground playground\n";
    playground = false;
  };
  int server = 0;
  for (const DocSection& section : sections) {
    if (section.commands.empty()) continue;
    if (section.no_playground && playground) stop_playground();
    if (!section.no_playground && !playground) start_playground();
    s << "echo " << ShellQuote("==== " + section.title) << "\n";
    for (const auto& [name, contents] : section.files)
      s << "printf '%s' " << ShellQuote(contents) << " > " << ShellQuote(name) << "\n";
    std::vector<std::pair<std::string, std::string>> servers;  // name, where
    for (const DocCommand& c : section.commands) {
      s << "echo " << ShellQuote("---- " + c.where + ": " + c.command) << "\n";
      if (c.server) {
        const std::string name = "server" + std::to_string(++server);
        s << "echo '@@where " << name << " " << c.where << "' >&9\n"
          << "start_server " << name << " " << ShellQuote(c.ready) << " " << ShellQuote(c.command)
          << "\n";
        servers.emplace_back(name, c.where);
      } else {
        s << c.command << "\necho \"@@rc " << c.where << " $?\" >&9\n";
      }
    }
    for (auto it = servers.rbegin(); it != servers.rend(); ++it)
      s << "stop_server " << it->first << " " << it->second << "\n";
  }
  if (playground) stop_playground();
  return s.str();
}

TEST(DocsCommands, EveryDocumentedCommandExitsAsDocumented) {
  std::vector<DocSection> sections;
  std::map<std::string, int> expected;  // where -> exit code
  std::map<std::string, std::string> commands;
  for (const char* doc : {"docs/cli.md", "docs/operations.md"}) {
    const std::string text =
        rustorium::testing::ReadFile((fs::path(RUSTORIUM_ROOT_DIR) / doc).string());
    ASSERT_FALSE(text.empty()) << doc;
    for (DocSection& section : ParseDoc(doc, text)) {
      for (const DocCommand& c : section.commands) {
        expected[c.where] = c.server ? 0 : c.expected;
        commands[c.where] = c.command;
      }
      sections.push_back(std::move(section));
    }
  }
  // Both documents hold commands; a parser that finds none would pass vacuously.
  ASSERT_GE(expected.size(), 20u);
  for (const char* doc : {"docs/cli.md:", "docs/operations.md:"}) {
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(), [&](const auto& e) {
      return e.first.rfind(doc, 0) == 0;
    })) << doc;
  }

  rustorium::testing::TempDir tmp;
  const fs::path work = tmp.path();
  {
    std::ofstream script(work / "docs.sh");
    script << Script(sections, fs::path(RUSTORIUM_BINARY).parent_path().string());
  }
  const auto run = rustorium::testing::RunCommand(
      "cd " + ShellQuote(work.string()) + " && timeout -s KILL 540 bash docs.sh < /dev/null");
  const std::string results = rustorium::testing::ReadFile((work / "results").string());

  std::map<std::string, std::string> server_where;  // serverN -> where
  std::map<std::string, int> got;
  std::vector<pid_t> leftover_groups;  // every server's group, killed below in case the run died
  std::istringstream in(results);
  for (std::string kind, a, b; in >> kind >> a;) {
    if (kind == "@@where") {
      in >> b;
      server_where[a] = b;
    } else if (kind == "@@pid") {
      in >> b;
      leftover_groups.push_back(std::stoi(b));
    } else if (kind == "@@rc") {
      in >> b;
      got[a] = std::stoi(b);
    } else if (kind == "@@died") {
      ADD_FAILURE() << (a == "playground" ? "the playground" : server_where[a])
                    << " stopped before it was ready";
    }
  }
  for (pid_t group : leftover_groups) ::kill(-group, SIGKILL);
  for (const auto& [where, code] : expected) {
    auto it = got.find(where);
    if (it == got.end()) {
      ADD_FAILURE() << where << ": `" << commands[where] << "` did not finish";
    } else {
      EXPECT_EQ(it->second, code) << where << ": `" << commands[where] << "`";
    }
  }
  auto playground = got.find("playground");
  EXPECT_TRUE(playground != got.end() && playground->second == 0) << "the playground's Ctrl-C";
  if (::testing::Test::HasFailure()) {
    std::printf("%s\n-- results --\n%s\n", run.out.c_str(), results.c_str());
  }
}

}  // namespace
}  // namespace rustorium::tools
