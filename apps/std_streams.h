// The process's standard streams around a command (apps/main.cc):
//   occupy_closed_std_descriptors()  at start: each of descriptors 0-2 the caller closed (`>&-`)
//                                    gets a read-only /dev/null, so the next file opened cannot
//                                    take it (output meant for stdout would land in a checkpoint
//                                    or SVG) and writes to it fail instead; returns whether
//                                    stdout was closed
//   finish_stdout(rc, closed)        at exit: flushes stdout; output that could not be written
//                                    (`> /dev/full`, a closed stdout, a full disk) turns exit
//                                    code 0 into 1 with one line on stderr naming the cause when
//                                    known; a non-zero rc is kept (its error line was printed)
#pragma once

namespace sg {

bool occupy_closed_std_descriptors();
int finish_stdout(int rc, bool stdout_closed);

}  // namespace sg
