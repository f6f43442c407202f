//===- SearchTestUtil.h - Helpers of the search unit tests --*- C++ -*-===//

#ifndef ATTN_TEST_UNIT_SEARCH_SEARCHTESTUTIL_H
#define ATTN_TEST_UNIT_SEARCH_SEARCHTESTUTIL_H

#include "../Common/TempFiles.h"

namespace attn::search::test {

using unittest::readFile;
using unittest::TempDir;
using unittest::writeFile;

} // namespace attn::search::test

#endif // ATTN_TEST_UNIT_SEARCH_SEARCHTESTUTIL_H
