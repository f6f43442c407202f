#===- AddAttn.cmake - project wrappers over AddMLIR -------------------===#
#
# One place for project-wide policy on libraries and docs.
#
#===-------------------------------------------------------------------===#

# attn-doc aggregates every generated reference page (build/docs/).
add_custom_target(attn-doc)

# add_attn_doc(td-file output-name kind): generated Markdown reference.
function(add_attn_doc td_file out_name kind)
  set(LLVM_TARGET_DEFINITIONS ${td_file})
  mlir_tablegen(${out_name}.md ${kind})
  set(gen_target ${out_name}DocGen)
  add_public_tablegen_target(${gen_target})
  add_custom_command(TARGET ${gen_target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/docs
    COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_BINARY_DIR}/${out_name}.md
            ${CMAKE_BINARY_DIR}/docs/${out_name}.md)
  add_dependencies(attn-doc ${gen_target})
endfunction()
