#===- EmbedFile.cmake - a text file as a C++ string literal ----------===#
#
# cmake -DINPUT=in.attn -DOUTPUT=out.inc -P EmbedFile.cmake writes the
# contents of INPUT as one raw string literal, for `#include` inside an
# initializer.
#
#===-------------------------------------------------------------------===#
file(READ "${INPUT}" contents)
file(WRITE "${OUTPUT}.tmp" "R\"attn_embed(${contents})attn_embed\"\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
