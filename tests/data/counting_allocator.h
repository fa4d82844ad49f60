// Peak heap bytes of a piece of code, for deterministic memory bounds in the data tests: the test
// binary's operator new / delete (counting_allocator.cc) keep the live and peak byte counts.
#pragma once
#include <cstdint>
#include <functional>

namespace sg::testing {

// Peak bytes allocated (operator new) above the level when f starts, while f runs.
int64_t peak_bytes_of(const std::function<void()>& f);

}  // namespace sg::testing
