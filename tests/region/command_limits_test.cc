#include "region/store/command_limits.h"

#include <gtest/gtest.h>

#include "region/store/engine_limits.h"

namespace rustorium::store {
namespace {

Command Put(std::size_t key_size, std::size_t value_size, int mutations = 1) {
  Command c;
  for (int i = 0; i < mutations; ++i) {
    Mutation* m = c.mutable_write()->add_mutations();
    m->set_key(std::string(key_size, static_cast<char>('a' + i % 26)));
    m->set_value(std::string(value_size, 'v'));
  }
  return c;
}

std::string Check(const Command& c, const CommandLimits& limits) {
  return CheckCommand(c, c.ByteSizeLong(), limits);
}

CommandLimits Small() {
  CommandLimits l;
  l.max_key_size = 10;
  l.max_value_size = 100;
  l.max_mutations = 3;
  l.max_command_bytes = 1000;
  return l;
}

TEST(CommandLimits, EachLimitAtLimitMinusOneLimitAndLimitPlusOne) {
  const CommandLimits l = Small();
  EXPECT_EQ(Check(Put(9, 1), l), "");
  EXPECT_EQ(Check(Put(10, 1), l), "");
  EXPECT_EQ(Check(Put(11, 1), l), "key of 11 bytes exceeds max_key_size 10");
  EXPECT_EQ(Check(Put(5, 99), l), "");
  EXPECT_EQ(Check(Put(5, 100), l), "");
  EXPECT_EQ(Check(Put(5, 101), l), "value of 101 bytes exceeds max_value_size 100");
  EXPECT_EQ(Check(Put(5, 1, 2), l), "");
  EXPECT_EQ(Check(Put(5, 1, 3), l), "");
  EXPECT_EQ(Check(Put(5, 1, 4), l), "write of 4 mutations exceeds max_mutations 3");
  const Command c = Put(5, 1);
  const std::size_t size = c.ByteSizeLong();
  CommandLimits tight = l;
  tight.max_command_bytes = size + 1;
  EXPECT_EQ(CheckCommand(c, size, tight), "");
  tight.max_command_bytes = size;
  EXPECT_EQ(CheckCommand(c, size, tight), "");
  tight.max_command_bytes = size - 1;
  EXPECT_EQ(CheckCommand(c, size, tight), "command of " + std::to_string(size) +
                                              " bytes exceeds max_command_bytes " +
                                              std::to_string(size - 1));
}

TEST(CommandLimits, MalformedCommandsAreNamed) {
  const CommandLimits l = Small();
  EXPECT_EQ(Check(Command(), l), "command without a body");
  Command empty;
  empty.mutable_write();
  EXPECT_EQ(Check(empty, l), "empty write batch");
  EXPECT_EQ(Check(Put(0, 1), l), "empty key");
  Command cas;
  cas.mutable_cas()->set_key("k");
  cas.mutable_cas()->mutable_set()->set_key("other");
  EXPECT_EQ(Check(cas, l), "compare-and-swap sets another key");
  cas.mutable_cas()->mutable_set()->set_key("k");
  EXPECT_EQ(Check(cas, l), "");
  cas.mutable_cas()->set_expected(std::string(101, 'x'));
  EXPECT_EQ(Check(cas, l), "expected value of 101 bytes exceeds max_value_size 100");
  Command bad_op = Put(3, 1);
  bad_op.mutable_write()->mutable_mutations(0)->set_op(static_cast<Mutation::Op>(7));
  EXPECT_EQ(Check(bad_op, l), "unknown mutation");
}

TEST(CommandLimits, ConfiguredLimitsStayWithinTheHardOnes) {
  EXPECT_TRUE(CommandLimits{}.Validate().ok());
  EXPECT_TRUE(kHardCommandLimits.Validate().ok());
  CommandLimits l;
  l.max_key_size = kMaxKeySize + 1;
  EXPECT_EQ(l.Validate().code(), StatusCode::kInvalidArgument);
  l = CommandLimits{};
  l.max_command_bytes = 0;
  EXPECT_EQ(l.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(CommandLimits, TheEngineHasRoomForTheLargestCommand) {
  const engine::StorageOptions o = EngineOptionsFor({});
  EXPECT_GT(o.max_key_size, kMaxKeySize) << "a data key is the user key with a prefix";
  EXPECT_GT(o.max_value_size, kMaxCommandBytes) << "a log record is a command with a header";
  engine::StorageOptions larger;
  larger.max_value_size = 64 << 20;
  EXPECT_EQ(EngineOptionsFor(larger).max_value_size, 64u << 20) << "never lowered";
}

}  // namespace
}  // namespace rustorium::store
