// Whole-file outputs (vocabulary, summary JSON, plan SVG, eval JSON) written so that nothing a user
// points them at is damaged:
//   - a regular or new file is written to a temporary in the same folder, fsync'ed and renamed
//     over it (a reader or a crash never sees half a file);
//   - a symlink is followed: its final target is what gets replaced, the link stays a link;
//   - a device, FIFO or socket (/dev/stdout, /dev/null, a pipe) is written straight through, never
//     replaced by a regular file;
//   - one of this process's open streams (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N) is
//     written through its descriptor, also when a shell redirected it to a regular file (which
//     is then appended to at the stream's position, not replaced);
//   - an output that is the same file as one of the run's inputs is refused before anything runs.
#pragma once
#include <string>
#include <vector>

namespace sg {

// The file a write to path lands on: path itself, or the final target of its symlink chain (a
// relative link target is taken relative to the link's folder). A writer that streams its own
// temporary file (checkpoints) renames it over this, so a link stays a link.
std::string output_final_target(const std::string& path);

// what names the file in errors ("vocabulary file", "--summary-json file").
void write_whole_file(const std::string& path, const std::string& bytes, const std::string& what);

// True when path writes to this process's standard output (/dev/stdout, /dev/fd/1, or the very
// file, pipe or terminal that stdout is): a command then sends its own report lines to stderr, so
// the output stays what it claims to be.
bool is_process_stdout(const std::string& path);

// Throws one line when out is the same file as (or a link to) one of inputs; flag names the
// output's flag in the message. Paths that do not exist yet never match.
void check_output_not_input(const std::string& out, const std::vector<std::string>& inputs,
                            const std::string& flag);

// Throws one line when two outputs of one run would land on the same file (after links; paths
// that do not exist yet are compared by their absolute form): the later write would replace the
// earlier, e.g. a --summary-json written over the run's checkpoint. Empty paths never match.
void check_outputs_distinct(const std::string& out, const std::string& flag,
                            const std::string& other, const std::string& other_what);

// Throws one line, before any work, when a whole-file output cannot be written: an existing file
// that is not writable, or a folder that is missing or where no file can be created (tested by
// creating and removing an empty probe file).
void check_output_writable(const std::string& out, const std::string& flag);
void check_folder_writable(const std::string& folder, const std::string& what);

}  // namespace sg
