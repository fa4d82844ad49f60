// Checks on the files a corpus names, made before any text is read (find_corpus and the held-out
// checks of train, plan and eval use them):
//   path_kind(p)             what p is, for messages: "a folder", "a pipe", "a socket", ...
//   is_dangling_symlink(p)   p is a symlink whose target is missing
//   compression_of_file(p)   "gzip", "bzip2", "xz" or "zstd" from the file's magic number, or
//                            null
//   compression_suffix(n)    the .gz / .bz2 / .xz / .zst ending of a file name, else ""
//   holds_sentence(p)        whether the file has a byte that is not white space or a line end
//                            (after a UTF-8 byte-order mark): a sentence, in data/text.h's terms;
//                            reads only up to that byte
//   drop_compressed_twins    drops X.gz (.bz2, .xz, .zst) from a list that also holds X, the copy
//                            `gunzip -k` leaves beside the text, with a note naming both
#pragma once
#include <string>
#include <vector>

namespace sg {

std::string path_kind(const std::string& path);
bool is_dangling_symlink(const std::string& path);
const char* compression_of_file(const std::string& path);
std::string compression_suffix(const std::string& name);
bool holds_sentence(const std::string& path);
void drop_compressed_twins(std::vector<std::string>& paths, std::vector<std::string>& notes);

}  // namespace sg
