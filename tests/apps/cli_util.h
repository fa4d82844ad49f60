// Runs the sketchgrad binary as a user would (tests/apps): exit code plus captured stdout and
// stderr; a tiny LM1B-layout corpus and the one-line-error expectation the CLI tests share.
#pragma once
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sg::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    return n;
  }
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/sg-" + tag + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string("/tmp");
}

// args are passed through the shell: quote paths with spaces yourself.
inline CliResult run_cli(const std::string& args, const std::string& workdir = "") {
  std::string dir = workdir.empty() ? temp_dir("cli") : workdir;
  std::string cmd = std::string("cd ") + SG_SOURCE_DIR + " && OMP_NUM_THREADS=2 " + SG_BIN_DIR +
                    "/sketchgrad " + args + " >" + dir + "/stdout 2>" + dir + "/stderr";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(dir + "/stdout");
  r.err = read_text(dir + "/stderr");
  return r;
}

// Starts sketchgrad in the background (stdout and stderr to dir/stdout, dir/stderr); the pid is
// sketchgrad's own (the shell execs it), so signals and wait_cli reach it directly.
inline pid_t start_cli(const std::string& args, const std::string& dir) {
  const std::string cmd = std::string("cd ") + SG_SOURCE_DIR + " && OMP_NUM_THREADS=2 exec " +
                          SG_BIN_DIR + "/sketchgrad " + args + " >" + dir + "/stdout 2>" + dir +
                          "/stderr";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Exit code of a start_cli process (128 + signal when killed by one).
inline int wait_cli(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls `path` until it contains `needle` (true), or process `pid` has exited or `seconds` pass
// (false). The process is not reaped: wait_cli still gets its exit code.
inline bool wait_for_text(const std::string& path, const std::string& needle, double seconds,
                          pid_t pid) {
  for (int i = 0; i < static_cast<int>(seconds * 20); ++i) {
    if (read_text(path).find(needle) != std::string::npos) return true;
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      return read_text(path).find(needle) != std::string::npos;
    usleep(50000);
  }
  return false;
}

inline bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// A tiny valid corpus in the LM1B layout.
inline std::string make_corpus(const std::string& tag) {
  std::string d = temp_dir(tag);
  std::string tr = d + "/training-monolingual.tokenized.shuffled",
              ho = d + "/heldout-monolingual.tokenized.shuffled";
  mkdir(tr.c_str(), 0755);
  mkdir(ho.c_str(), 0755);
  std::ofstream t(tr + "/news.en-00001-of-00100"), h(ho + "/news.en.heldout-00000-of-00050");
  for (int i = 0; i < 200; ++i) t << "the cat sat on the mat .\nthe dog ate the bone .\n";
  for (int i = 0; i < 10; ++i) h << "the cat ate the mat .\n";
  return d;
}

inline std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(d.c_str())) {
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    closedir(dir);
  }
  return names;
}

inline void expect_one_line_error(const CliResult& r, const std::string& needle) {
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_LT(r.code, 128) << "killed by a signal: " << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_NE(r.err.find("error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
}

}  // namespace sg::testing
