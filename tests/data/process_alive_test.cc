// process_is_running: a live child, a zombie (killed, not yet reaped) and a reaped pid.
#include "data/process_alive.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace sg {
namespace {

TEST(ProcessAlive, LiveZombieAndReaped) {
  EXPECT_TRUE(process_is_running(getpid()));
  EXPECT_FALSE(process_is_running(0));
  EXPECT_FALSE(process_is_running(-1));
  const pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  EXPECT_TRUE(process_is_running(child));
  ASSERT_EQ(kill(child, SIGKILL), 0);
  // Killed but not reaped: a zombie. kill(pid, 0) still succeeds on it; wait until the kernel has
  // made it one (waitid with WNOWAIT leaves it unreaped).
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(kill(child, 0), 0);
  EXPECT_FALSE(process_is_running(child));
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(process_is_running(child));
}

}  // namespace
}  // namespace sg
