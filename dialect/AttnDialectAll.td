//===- AttnDialectAll.td - everything the dialect defines --*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTNDIALECTALL_TD
#define ATTN_DIALECT_ATTNDIALECTALL_TD
include "dialect/AttnOps.td"
include "dialect/AttnChoiceOps.td"
include "dialect/AttnBlockOps.td"
#endif // ATTN_DIALECT_ATTNDIALECTALL_TD
