// Captures what the process logs through spdlog's default logger, for tests that check the
// operator's log lines. A test that includes it links spdlog::spdlog (the compiled library the
// code under test logs through: header-only spdlog would have a default logger of its own).
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>

namespace rustorium::testing {

// While it lives, every line the default logger writes at info level or above is also kept
// here. Create it before the threads that log start and destroy it after they stopped: adding
// and removing a sink is not safe while another thread logs. Text() may be called any time.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<Sink>()), level_(spdlog::default_logger()->level()) {
    spdlog::default_logger()->sinks().push_back(sink_);
    if (level_ > spdlog::level::info) spdlog::default_logger()->set_level(spdlog::level::info);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    std::erase(sinks, sink_);
    spdlog::default_logger()->set_level(level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every captured line so far, each ending in a newline.
  std::string Text() { return sink_->Text(); }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::string Text() {
      std::lock_guard<std::mutex> lock(mutex_);
      return text_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      text_.append(msg.payload.data(), msg.payload.size());
      text_ += '\n';
    }
    void flush_() override {}

   private:
    std::string text_;
  };

  std::shared_ptr<Sink> sink_;
  spdlog::level::level_enum level_;
};

}  // namespace rustorium::testing
