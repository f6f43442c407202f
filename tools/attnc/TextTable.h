//===- TextTable.h - columns of text for attnc's listings -------*- C++ -*-===//
//
// Private to attnc: `attnc db list/show` and `attnc space` print rows as
// aligned columns.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_TEXTTABLE_H
#define ATTN_TOOLS_ATTNC_TEXTTABLE_H

#include <string>
#include <vector>

namespace attn::driver {

/// One line per row, columns separated by two spaces and padded to the
/// widest cell; columns whose `right` flag is set are right-aligned.  The
/// last column is not padded and lines have no trailing spaces.
std::vector<std::string>
formatTable(const std::vector<std::vector<std::string>> &rows,
            const std::vector<bool> &right = {});

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_TEXTTABLE_H
